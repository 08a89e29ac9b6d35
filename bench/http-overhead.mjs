// Section 2, HTTP overhead: the same server bare and with the plugin, under autocannon in its own process.
// Per row, a bare server and a plugin server are started side by side and both warmed up; then short
// measured slices alternate between them in pairs (the order flipped every other pair, so neither side
// always runs first). Short interleaved slices put both sides under the same conditions of a shared,
// noisy machine, which whole runs minutes apart do not. Each slice opens new keep-alive connections,
// warms them, then measures on them: the server counts its answered requests and its CPU time.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseOptions } from '../dist/index.js';
import { CASES, HANDLERS } from './http-cases.mjs';
import { Child } from './ipc.mjs';
import { median, medianOfPairs } from './stats.mjs';

const SERVER = new URL('./http-server.mjs', import.meta.url).pathname;
export const LOAD = new URL('./load-generator.mjs', import.meta.url).pathname;

/** The cases this build can run (of `ids`, or all), and a note for each it cannot (an option parseOptions refuses). */
export function runnableCases(ids = CASES.map((c) => c.id)) {
  const runnable = [];
  const skipped = [];
  for (const c of CASES.filter((x) => ids.includes(x.id))) {
    try {
      if (c.options !== null) parseOptions(c.options);
      runnable.push(c);
    } catch (err) {
      const refused = err.problems?.map((p) => (p.value === '' ? p.option : `${p.option}=${p.value}`)).join(', ') ?? err.message;
      skipped.push({ id: c.id, label: c.label, options: c.options, note: `skipped: this build refuses ${refused}` });
    }
  }
  return { runnable, skipped };
}

/** A server process for one run, starting; `ready` resolves with its port. */
export function spawnServer(run) {
  const logDir = run.options === null ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'tcpinfo-bench-'));
  const config = { handler: run.handler, options: run.options, logDir, probe: run.probe === true, readShare: run.readShare ?? 0 };
  const child = new Child(SERVER, [JSON.stringify(config)], { name: 'bench server' });
  const ready = child.next('listening', 15_000).then((m) => m.port);
  ready.catch(() => {}); // awaited by the run; a failure is reported there
  return {
    child,
    ready,
    async dispose() {
      await child.stop();
      if (logDir !== null) fs.rmSync(logDir, { recursive: true, force: true });
    },
  };
}

/**
 * The server's measured window under load: the load generator warms the server up on its keep-alive
 * connections, the window opens on the same connections and lasts `s.seconds` (timed by the server
 * itself), then the load stops (its 'result' follows).
 * Returns the server's window: its 'stopped' message.
 */
export async function measureWindow(load, serverChild, port, s) {
  load.send({ type: 'run', url: `http://127.0.0.1:${port}/`, connections: s.connections, seconds: s.seconds, warmupSeconds: s.warmupSeconds });
  try {
    await load.next('warm', (s.warmupSeconds + 15) * 1000);
    serverChild.send({ type: 'start' });
    await serverChild.next('started', 5_000);
    await new Promise((resolve) => setTimeout(resolve, s.seconds * 1000));
    serverChild.send({ type: 'stop' });
    return await serverChild.next('stopped', 5_000);
  } finally {
    load.send({ type: 'stop' });
  }
}

/**
 * One measured slice on a server already listening on `port`: the numbers of its window, per request.
 */
export async function measureSlice(load, serverChild, port, s) {
  const w = await measureWindow(load, serverChild, port, s);
  const client = await load.next('result', 15_000);
  return {
    requestsPerSecond: w.requests / w.seconds,
    clientErrors: client.errors,
    requests: w.requests,
    cpuUsPerRequest: w.cpuUs / w.requests,
    serverCpuShare: w.cpuUs / 1e6 / w.seconds,
    loggedPerRequest: w.plugin.logged / w.requests,
    handlerReadsPerRequest: w.handlerReads / w.requests,
    dropped: w.plugin.dropped,
    failedReads: w.plugin.failedReads,
    loopDelayP99Ms: w.loopDelayP99Ms,
    probesNs: w.probesNs,
  };
}

function summarize(pairs) {
  const side = (key) => ({
    requestsPerSecond: median(pairs.map((p) => p[key].requestsPerSecond)),
    cpuUsPerRequest: median(pairs.map((p) => p[key].cpuUsPerRequest)),
    loopDelayP99Ms: median(pairs.map((p) => p[key].loopDelayP99Ms)),
  });
  return {
    bare: side('bare'),
    plugin: {
      ...side('plugin'),
      loggedPerRequest: median(pairs.map((p) => p.plugin.loggedPerRequest)),
      handlerReadsPerRequest: median(pairs.map((p) => p.plugin.handlerReadsPerRequest)),
    },
    throughputRatio: medianOfPairs(pairs, (p) => p.plugin.requestsPerSecond / p.bare.requestsPerSecond),
    cpuRatio: medianOfPairs(pairs, (p) => p.plugin.cpuUsPerRequest / p.bare.cpuUsPerRequest),
    addedCpuUsPerRequest: medianOfPairs(pairs, (p) => p.plugin.cpuUsPerRequest - p.bare.cpuUsPerRequest),
    addedCpuUsPerLoggedEvent: medianOfPairs(pairs, (p) =>
      p.plugin.loggedPerRequest > 0 ? (p.plugin.cpuUsPerRequest - p.bare.cpuUsPerRequest) / p.plugin.loggedPerRequest : NaN,
    ),
    addedLoopDelayP99Ms: medianOfPairs(pairs, (p) => p.plugin.loopDelayP99Ms - p.bare.loopDelayP99Ms),
    clientErrors: pairs.reduce((n, p) => n + p.bare.clientErrors + p.plugin.clientErrors, 0),
    dropped: pairs.reduce((n, p) => n + p.plugin.dropped, 0),
    failedReads: pairs.reduce((n, p) => n + p.plugin.failedReads, 0),
  };
}

/**
 * One row: `s.processPairs` times, a bare and a plugin server side by side (started one after the
 * other, each idle while the other starts), warmed up by `s.warmupSlices` unmeasured slices each, then
 * `s.pairs` pairs of measured slices. Several process pairs, because two processes of the same server
 * differ by a few percent for their whole life (the control row shows by how much).
 */
async function measureRow(load, handler, c, s, log) {
  const pairs = [];
  for (let p = 0; p < s.processPairs; p++) {
    const servers = {};
    try {
      const ports = {};
      for (const [side, run] of [['bare', { options: null }], ['plugin', c]]) {
        servers[side] = spawnServer({ handler, options: run.options, readShare: run.readShare });
        ports[side] = await servers[side].ready;
      }
      for (let i = 0; i < s.warmupSlices; i++) {
        for (const side of ['bare', 'plugin']) await measureSlice(load, servers[side].child, ports[side], s);
      }
      for (let k = 0; k < s.pairs; k++) {
        const result = {};
        for (const side of (p + k) % 2 === 0 ? ['bare', 'plugin'] : ['plugin', 'bare']) {
          result[side] = await measureSlice(load, servers[side].child, ports[side], s);
        }
        pairs.push(result);
        log(`http: ${handler} (${c.id}) pair ${pairs.length}/${s.processPairs * s.pairs}: bare ${result.bare.requestsPerSecond.toFixed(0)} req/s, plugin ${result.plugin.requestsPerSecond.toFixed(0)} req/s`);
      }
    } finally {
      await Promise.all(Object.values(servers).map((server) => server.dispose()));
    }
  }
  return pairs;
}

export async function measureHttpOverhead(s, log) {
  const { runnable, skipped } = runnableCases(s.cases);
  for (const c of skipped) log(`http: case (${c.id}) ${c.note}`);
  const load = new Child(LOAD, [], { name: 'load generator' });
  const results = [];
  try {
    await load.next('ready', 15_000);
    for (const handler of s.handlers) {
      // The control says how far apart two bare servers measure: once, on the handler of the targets.
      for (const c of runnable.filter((x) => !x.helloOnly || handler === 'hello')) {
        const pairs = await measureRow(load, handler, c, s, log);
        results.push({ handler, handlerLabel: HANDLERS[handler].label, case: c.id, label: c.label, options: c.options, ...summarize(pairs), pairs });
      }
    }
  } finally {
    await load.stop();
  }
  return { settings: s, results, skipped };
}
