// Section 2, HTTP overhead: the same server bare and with the plugin, under wrk (autocannon where wrk is not
// installed, or with --load=autocannon) in its own process.
// Per row, a bare server and a plugin server are started side by side and both warmed up; then short
// measured slices alternate between them in pairs (the order flipped every other pair, so neither side
// always runs first). Short interleaved slices put both sides under the same conditions of a shared,
// noisy machine, which whole runs minutes apart do not. Each slice opens new keep-alive connections,
// warms them, then measures on them: the server counts its answered requests and its CPU time.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseOptions } from '../dist/index.js';
import { CASES, HANDLERS, NGINX_CASE } from './http-cases.mjs';
import { h2load, H2LOAD_HINT, hasH2load } from './h2load.mjs';
import { Child } from './ipc.mjs';
import { hasWrk, wrk, WRK_HINT } from './wrk.mjs';
import { findNginx, INSTALL_HINT, NGINX_ACCESS_LOG, NGINX_LOG_FORMAT, nginxMeter, nginxVersion, startNginx } from './nginx.mjs';
import { median, medianOfPairs } from './stats.mjs';

const SERVER = new URL('./http-server.mjs', import.meta.url).pathname;
export const LOAD = new URL('./load-generator.mjs', import.meta.url).pathname;

/** The cases this build can run (of `ids`, or all), and a note for each it cannot (an option parseOptions refuses). */
export function runnableCases(ids = CASES.map((c) => c.id)) {
  const runnable = [];
  const skipped = [];
  for (const c of CASES.filter((x) => ids.includes(x.id))) {
    if (c.protocol === 'h2c' && !hasH2load()) {
      skipped.push({ id: c.id, label: c.label, options: c.options, note: `skipped: ${H2LOAD_HINT}` });
      continue;
    }
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

/** The bench's window on a node server (http-server.mjs): the server counts its own requests and CPU time. */
export function childMeter(child) {
  return {
    async start() {
      child.send({ type: 'start' });
      await child.next('started', 5_000);
    },
    async stop() {
      child.send({ type: 'stop' });
      return child.next('stopped', 5_000);
    },
  };
}

/** A server process for one run, starting; `ready` resolves with its port; `meter` opens and closes its windows. */
export function spawnServer(run) {
  const logDir = run.options === null ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'tcpinfo-bench-'));
  const config = {
    handler: run.handler,
    options: run.options,
    logDir,
    probe: run.probe === true,
    readShare: run.readShare ?? 0,
    readEvents: run.readEvents ?? [],
    http2: run.protocol === 'h2c',
  };
  const child = new Child(SERVER, [JSON.stringify(config)], { name: 'bench server' });
  const ready = child.next('listening', 15_000).then((m) => m.port);
  ready.catch(() => {}); // awaited by the run; a failure is reported there
  return {
    child,
    meter: childMeter(child),
    ready,
    async dispose() {
      await child.stop();
      if (logDir !== null) fs.rmSync(logDir, { recursive: true, force: true });
    },
  };
}

/**
 * The server's measured window under load: the load generator warms the server up on its keep-alive
 * connections, the window opens on the same connections and lasts `s.seconds`, then the load stops (its
 * 'result' follows). `meter` opens and closes the window (childMeter, or nginx.mjs's nginxMeter).
 * Returns the server's window: its 'stopped' message.
 */
export async function measureWindow(load, meter, port, s) {
  load.send({ type: 'run', url: `http://127.0.0.1:${port}/`, connections: s.connections, seconds: s.seconds, warmupSeconds: s.warmupSeconds });
  try {
    await load.next('warm', (s.warmupSeconds + 15) * 1000);
    await meter.start();
    await new Promise((resolve) => setTimeout(resolve, s.seconds * 1000));
    return await meter.stop();
  } finally {
    load.send({ type: 'stop' });
  }
}

/**
 * One measured slice on a server already listening on `port`: the numbers of its window, per request.
 */
export async function measureSlice(load, meter, port, s) {
  const w = await measureWindow(load, meter, port, s);
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
    ...(w.statCpuUs !== undefined && { statCpuUsPerRequest: w.statCpuUs / w.requests }),
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
    // Rows whose reads are made without a line (r, ra, rb): what one read adds.
    addedCpuUsPerRead: medianOfPairs(pairs, (p) =>
      p.plugin.handlerReadsPerRequest > 0 ? (p.plugin.cpuUsPerRequest - p.bare.cpuUsPerRequest) / p.plugin.handlerReadsPerRequest : NaN,
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
 * `start(side)` starts one side's server: { port, meter, dispose }.
 */
export async function measurePairs(load, start, s, log, what) {
  const pairs = [];
  for (let p = 0; p < s.processPairs; p++) {
    const servers = {};
    try {
      for (const side of ['bare', 'plugin']) servers[side] = await start(side);
      for (let i = 0; i < s.warmupSlices; i++) {
        for (const side of ['bare', 'plugin']) await measureSlice(load, servers[side].meter, servers[side].port, s);
      }
      for (let k = 0; k < s.pairs; k++) {
        const result = {};
        for (const side of (p + k) % 2 === 0 ? ['bare', 'plugin'] : ['plugin', 'bare']) {
          result[side] = await measureSlice(load, servers[side].meter, servers[side].port, s);
        }
        pairs.push(result);
        log(`http: ${what} pair ${pairs.length}/${s.processPairs * s.pairs}: bare ${result.bare.requestsPerSecond.toFixed(0)} req/s, plugin ${result.plugin.requestsPerSecond.toFixed(0)} req/s`);
      }
    } finally {
      await Promise.all(Object.values(servers).map((server) => server.dispose()));
    }
  }
  return pairs;
}

function measureRow(load, handler, c, s, log) {
  const start = async (side) => {
    const run = side === 'bare' ? { options: null } : c;
    const server = spawnServer({ handler, options: run.options, readShare: run.readShare, readEvents: run.readEvents, protocol: c.protocol });
    try {
      return { port: await server.ready, meter: server.meter, dispose: () => server.dispose() };
    } catch (err) {
      await server.dispose();
      throw err;
    }
  };
  // HTTP/2 (case h2c): h2load (neither wrk nor autocannon speaks HTTP/2).
  return measurePairs(c.protocol === 'h2c' ? h2load() : load, start, s, log, `${handler} (${c.id})`);
}

/** A logged line as the nginx row's log format writes it: four numbers at the end, the TCP_INFO fields. */
const NGINX_LINE = /^\S+ \S+ tcpinfo \S+ \S+ \d+ \d+ \d+ \d+$/;

/**
 * The nginx anchor row (issue 18): nginx bare against nginx with the $tcpinfo_* access log, under the
 * same load generator and alternation as the plugin's rows; or, when nginx is not on the PATH, why not.
 */
async function measureNginxRow(load, s, log) {
  const bin = findNginx();
  if (bin === null) {
    log(`http: ${INSTALL_HINT}`);
    return { skipped: INSTALL_HINT };
  }
  const accessLogs = [];
  const start = async (side) => {
    const server = await startNginx(bin, { logged: side === 'plugin' });
    return {
      port: server.port,
      meter: nginxMeter(server),
      async dispose() {
        const lines = await server.dispose();
        if (server.logged) accessLogs.push(lines);
      },
    };
  };
  const pairs = await measurePairs(load, start, s, log, 'nginx');
  const lines = accessLogs.flat();
  return {
    case: NGINX_CASE.id,
    label: NGINX_CASE.label,
    version: await nginxVersion(bin),
    logFormat: NGINX_LOG_FORMAT,
    accessLog: NGINX_ACCESS_LOG,
    ...summarize(pairs),
    statCpuUsPerRequest: {
      bare: median(pairs.map((p) => p.bare.statCpuUsPerRequest)),
      plugin: median(pairs.map((p) => p.plugin.statCpuUsPerRequest)),
    },
    // What the logging nginx wrote: every measured request has its line, with four numbers.
    linesWritten: lines.length,
    linesMalformed: lines.filter((l) => !NGINX_LINE.test(l)).length,
    requestsMeasured: pairs.reduce((n, p) => n + p.plugin.requests, 0),
    sampleLine: lines[0] ?? null,
    pairs,
  };
}

/** The HTTP/1 rows' clients: `--load`'s values. */
export const LOAD_GENERATORS = ['wrk', 'autocannon'];

/** The HTTP/1 rows' client: `s.load`, else wrk when it is installed, else autocannon; and a note when wrk was wanted and missing. */
export async function startLoad(s, log) {
  const name = s.load ?? (hasWrk() ? 'wrk' : 'autocannon');
  if (name === 'wrk') {
    if (!hasWrk()) throw new Error(`--load=wrk: ${WRK_HINT}`);
    return { name, load: wrk() };
  }
  if (s.load === undefined) log(`http: ${WRK_HINT}`);
  const load = new Child(LOAD, [], { name: 'load generator' });
  await load.next('ready', 15_000);
  return { name, load };
}

export async function measureHttpOverhead(s, log) {
  const { runnable, skipped } = runnableCases(s.cases);
  for (const c of skipped) log(`http: case (${c.id}) ${c.note}`);
  const { name: loadGenerator, load } = await startLoad(s, log);
  const results = [];
  let nginx;
  try {
    for (const handler of s.handlers) {
      // The control says how far apart two bare servers measure: once, on the handler of the targets.
      for (const c of runnable.filter((x) => !x.helloOnly || handler === 'hello')) {
        const pairs = await measureRow(load, handler, c, s, log);
        results.push({ handler, handlerLabel: HANDLERS[handler].label, case: c.id, label: c.label, options: c.options, ...summarize(pairs), pairs });
      }
    }
    if (s.cases === undefined || s.cases.includes(NGINX_CASE.id)) nginx = await measureNginxRow(load, s, log);
  } finally {
    await load.stop();
  }
  return { settings: s, loadGenerator, results, skipped, ...(nginx && { nginx }) };
}
