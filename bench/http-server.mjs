// Child process: the server under test, bare or with the plugin. The parent brackets each measured
// window with 'start' and 'stop'; the server reports its own CPU time (process.cpuUsage), the requests
// it answered, the plugin's counts and its event-loop delay over the window.
// With `readShare`, the handler calls readRaw in that share of requests, before its work.
// With `readEvents` (hook names), no plugin: a consumer of the plugin's own event tap calls readRaw at each of
// those events, at the moment the plugin would read for its line, and writes nothing: a row's reads alone.
// With `probe`, each request first times one call, in turn: nothing (the timer itself), a no-op C call
// through koffi, and readRaw of the request's socket: what a read costs in a busy server, where the
// HTTP work between two reads has evicted what a tight loop keeps in the caches.
//
//   node bench/http-server.mjs '{"handler":"hello","options":null|"--log-level=2 ...","logDir":"/tmp/x","probe":false,"readShare":0,"readEvents":[]}'
import http from 'node:http';
import http2 from 'node:http2';
import { createRequire } from 'node:module';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { attach } from '../dist/index.js';
import { eventBit } from '../dist/events.js';
import { addConsumer } from '../dist/hooks/server.js';
import { beginEvent, readRaw } from '../dist/tcpinfo/read.js';
import { HANDLERS } from './http-cases.mjs';
import { serveMessages } from './ipc.mjs';
import { median } from './stats.mjs';

const config = JSON.parse(process.argv[2]);
const handler = HANDLERS[config.handler].handler;
let answered = 0;
/** Reads the handler made itself (readShare). */
let handlerReads = 0;
/** With `probe`: per probed call, the nanoseconds of each request that ran it. */
let probes = null;

function probedHandler() {
  const abs = createRequire(import.meta.url)('koffi').load(null).func('int abs(int)');
  const calls = { timer: () => 0, koffiNoop: () => abs(-1), readRaw: (socket) => readRaw(socket) };
  const names = Object.keys(calls);
  const MAX_SAMPLES = 100_000;
  probes = Object.fromEntries(names.map((name) => [name, { ns: new Float64Array(MAX_SAMPLES), count: 0 }]));
  return (req, res) => {
    const name = names[answered % names.length];
    const probe = probes[name];
    const call = calls[name];
    const start = process.hrtime.bigint();
    call(req.socket);
    const ns = Number(process.hrtime.bigint() - start);
    if (probe.count < MAX_SAMPLES) probe.ns[probe.count++] = ns;
    answered++;
    handler(req, res);
  };
}

/** With `readShare`: the handler itself reads TCP_INFO in that share of its requests (bench case r). */
function readingHandler(share) {
  return (req, res) => {
    if (Math.random() < share) {
      readRaw(req.socket);
      handlerReads++;
    }
    answered++;
    handler(req, res);
  };
}

// With `http2`: an h2c server, the handler through the compatibility API (case h2c).
const server = (config.http2 ? http2 : http).createServer(
  config.probe
    ? probedHandler()
    : config.readShare > 0
      ? readingHandler(config.readShare)
      : (req, res) => {
          answered++;
          handler(req, res);
        },
);
const plugin = config.options === null ? null : attach(server, `${config.options} --log-dir=${config.logDir} --log-file=bench.log`);
if (config.readEvents?.length > 0) {
  // The reads of a logging row without its lines: on the same tap, at the same events, one read an event.
  addConsumer(server, {
    eventMask: config.readEvents.reduce((mask, hook) => mask | eventBit(hook), 0),
    tracksSessions: false,
    onEvent(event, socket) {
      beginEvent();
      readRaw(socket);
      handlerReads++;
    },
  });
}

const loopDelay = monitorEventLoopDelay({ resolution: 1 });
let window = null;

function totals(stats) {
  const sum = (perEvent) => Object.values(perEvent).reduce((a, b) => a + b, 0);
  return stats === null
    ? { events: 0, sampled: 0, logged: 0, dropped: 0, failedReads: 0 }
    : { events: sum(stats.events), sampled: sum(stats.sampled), logged: sum(stats.logged), dropped: stats.dropped, failedReads: stats.failedReads };
}

serveMessages({
  start() {
    loopDelay.reset();
    loopDelay.enable();
    window = { cpu: process.cpuUsage(), answered, handlerReads, plugin: totals(plugin?.stats() ?? null), t0: process.hrtime.bigint() };
    for (const probe of Object.values(probes ?? {})) probe.count = 0;
    return { type: 'started' };
  },
  stop() {
    const cpu = process.cpuUsage(window.cpu);
    const seconds = Number(process.hrtime.bigint() - window.t0) / 1e9;
    loopDelay.disable();
    const now = totals(plugin?.stats() ?? null);
    const delta = Object.fromEntries(Object.keys(now).map((k) => [k, now[k] - window.plugin[k]]));
    return {
      type: 'stopped',
      seconds,
      requests: answered - window.answered,
      handlerReads: handlerReads - window.handlerReads,
      cpuUs: cpu.user + cpu.system,
      loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
      plugin: delta,
      probesNs: probes && Object.fromEntries(Object.entries(probes).map(([name, p]) => [name, median(Array.from(p.ns.subarray(0, p.count)))])),
    };
  },
  async exit() {
    server.closeAllConnections?.();
    server.close();
    await plugin?.close();
    process.exit(0);
  },
});

server.listen(0, '127.0.0.1', () => process.send({ type: 'listening', port: server.address().port }));
