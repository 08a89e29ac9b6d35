// Section 2, HTTP overhead: the same server bare and with the plugin, under autocannon in its own process.
// Runs alternate bare/plugin in pairs (the order flipped every other pair, so neither side always runs
// first); every run is a fresh server process, warmed up before its measured window.
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
      parseOptions(c.options);
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
  const config = { handler: run.handler, options: run.options, logDir, probe: run.probe === true };
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
 * One measured run on a server already spawned. The next run's server is started during this run's
 * warm-up (`startNext`), and is listening and idle before this run's measured window opens.
 */
export async function runOnce(load, server, s, startNext = async () => {}) {
  try {
    const port = await server.ready;
    load.send({ type: 'run', url: `http://127.0.0.1:${port}/`, connections: s.connections, seconds: s.seconds, warmupSeconds: s.warmupSeconds });
    await load.next('warm', (s.warmupSeconds + 15) * 1000);
    await startNext();
    server.child.send({ type: 'start' });
    await server.child.next('started', 5_000);
    load.send({ type: 'go' });
    const client = await load.next('result', (s.seconds + 15) * 1000);
    server.child.send({ type: 'stop' });
    const w = await server.child.next('stopped', 5_000);
    return {
      requestsPerSecond: client.requestsPerSecond,
      clientErrors: client.errors,
      requests: w.requests,
      cpuUsPerRequest: w.cpuUs / w.requests,
      serverCpuShare: w.cpuUs / 1e6 / w.seconds,
      loggedPerRequest: w.plugin.logged / w.requests,
      dropped: w.plugin.dropped,
      failedReads: w.plugin.failedReads,
      loopDelayP99Ms: w.loopDelayP99Ms,
      probesNs: w.probesNs,
    };
  } finally {
    await server.dispose();
  }
}

function summarize(pairs) {
  const side = (key) => ({
    requestsPerSecond: median(pairs.map((p) => p[key].requestsPerSecond)),
    cpuUsPerRequest: median(pairs.map((p) => p[key].cpuUsPerRequest)),
    loopDelayP99Ms: median(pairs.map((p) => p[key].loopDelayP99Ms)),
  });
  return {
    bare: side('bare'),
    plugin: { ...side('plugin'), loggedPerRequest: median(pairs.map((p) => p.plugin.loggedPerRequest)) },
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

/** Every run, in order: per handler and case, pairs of bare and plugin, the order flipped every other pair. */
function planRuns(s, cases) {
  const runs = [];
  for (const handler of s.handlers) {
    for (const c of cases) {
      for (let pair = 0; pair < s.pairs; pair++) {
        for (const side of pair % 2 === 0 ? ['bare', 'plugin'] : ['plugin', 'bare']) {
          runs.push({ handler, case: c, pair, side, options: side === 'bare' ? null : c.options });
        }
      }
    }
  }
  return runs;
}

export async function measureHttpOverhead(s, log) {
  const { runnable, skipped } = runnableCases(s.cases);
  for (const c of skipped) log(`http: case (${c.id}) ${c.note}`);
  const plan = planRuns(s, runnable);
  const load = new Child(LOAD, [], { name: 'load generator' });
  let next = null;
  const measured = [];
  try {
    await load.next('ready', 15_000);
    next = plan.length > 0 ? spawnServer(plan[0]) : null;
    for (let i = 0; i < plan.length; i++) {
      const server = next;
      next = null;
      const startNext = async () => {
        if (i + 1 < plan.length) {
          next = spawnServer(plan[i + 1]);
          await next.ready;
        }
      };
      const run = plan[i];
      measured.push({ ...run, result: await runOnce(load, server, s, startNext) });
      const pairRuns = measured.filter((m) => m.handler === run.handler && m.case === run.case && m.pair === run.pair);
      if (pairRuns.length === 2) {
        const rps = (side) => pairRuns.find((m) => m.side === side).result.requestsPerSecond.toFixed(0);
        log(`http: ${run.handler} (${run.case.id}) pair ${run.pair + 1}/${s.pairs}: bare ${rps('bare')} req/s, plugin ${rps('plugin')} req/s`);
      }
    }
  } finally {
    await next?.dispose();
    await load.stop();
  }
  const results = [];
  for (const handler of s.handlers) {
    for (const c of runnable) {
      const pairs = [];
      for (let pair = 0; pair < s.pairs; pair++) {
        const side = (name) => measured.find((m) => m.handler === handler && m.case === c && m.pair === pair && m.side === name).result;
        pairs.push({ bare: side('bare'), plugin: side('plugin') });
      }
      results.push({ handler, handlerLabel: HANDLERS[handler].label, case: c.id, label: c.label, options: c.options, ...summarize(pairs), pairs });
    }
  }
  return { settings: s, results, skipped };
}
