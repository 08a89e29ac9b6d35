// npm run bench: what the plugin costs, measured (issue 8).
//
//   node bench/run.mjs                 the full run: three runs (about 20 minutes each), the targets judged on their
//                                      medians; prints markdown, writes bench/results.json (--runs=N: N runs)
//   node bench/run.mjs --smoke         every section in seconds, figures not to be trusted (npm run test:slow runs it)
//   node bench/run.mjs --write-docs    the full run, then its report into docs/performance.md and the
//                                      recommended line's cost into README.md (between their markers)
//   node bench/run.mjs --from=FILE [--write-docs]   no measuring: the report of an earlier full run
//   --out=FILE                         where the results go (bench/results.json; a temp file for --smoke)
//   --only=read,http,writer,memory,multiprocess --cases=b,c,nginx --handlers=hello --process-pairs=N --pairs=N --seconds=S
//   --load=wrk|autocannon               a partial run, for working on one thing (never into the docs); --load: the
//                                      HTTP/1 rows' client (default wrk when it is on the PATH, else autocannon)
//
// Sections: read cost (getsockopt, readRaw, readTcpInfo, a plugin event, `ss -tin`), HTTP overhead
// (bare vs plugin under wrk, or autocannon without it; then nginx bare vs nginx logging four $tcpinfo_* variables, the anchor
// row of issue 18, when nginx is on the PATH), writer throughput, memory with a stalled destination; then the
// issue's targets, PASS or FAIL. A section that fails is reported and makes the exit status 1; a
// target that fails does not (the run measured what it had to).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { measureEventCost } from './event-cost.mjs';
import { CASES, HANDLERS, NGINX_CASE } from './http-cases.mjs';
import { LOAD_GENERATORS, measureHttpOverhead } from './http-overhead.mjs';
import { measureMemory } from './memory-stall.mjs';
import { measureReadCost } from './read-cost.mjs';
import { measureReadInRequest } from './read-in-request.mjs';
import { renderReport, writeDocs } from './report.mjs';
import { FULL, SMOKE } from './settings.mjs';
import { checkTargets, combineTargets } from './targets.mjs';
import { measureWriter } from './writer-throughput.mjs';
import { measureMultiprocess } from './multiprocess-bench.mjs';

const ROOT = path.resolve(new URL('..', import.meta.url).pathname);
const SECTIONS = ['read', 'http', 'writer', 'memory', 'multiprocess'];
const NARROWING = ['only', 'cases', 'handlers', 'process-pairs', 'pairs', 'seconds', 'load'];

const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    'write-docs': { type: 'boolean', default: false },
    from: { type: 'string' },
    out: { type: 'string' },
    only: { type: 'string' },
    cases: { type: 'string' },
    handlers: { type: 'string' },
    'process-pairs': { type: 'string' },
    pairs: { type: 'string' },
    seconds: { type: 'string' },
    load: { type: 'string' },
    runs: { type: 'string' },
  },
});

function unknownValues(option, allowed) {
  const unknown = (args[option]?.split(',') ?? []).filter((x) => !allowed.includes(x));
  return unknown.length === 0 ? [] : [`--${option}: unknown ${unknown.join(', ')} (allowed: ${allowed.join(', ')})`];
}

const narrowed = NARROWING.some((k) => args[k] !== undefined);
const problems = [
  ...unknownValues('only', SECTIONS),
  ...unknownValues('cases', [...CASES.map((c) => c.id), NGINX_CASE.id]),
  ...unknownValues('handlers', Object.keys(HANDLERS)),
  ...unknownValues('load', LOAD_GENERATORS),
  ...['process-pairs', 'pairs', 'seconds', 'runs'].filter((k) => args[k] !== undefined && !(Number(args[k]) > 0)).map((k) => `--${k}=${args[k]}: must be a number above 0`),
  ...(args['write-docs'] && (args.smoke || narrowed) ? ['--write-docs takes the figures of a full run: not with --smoke or a partial run'] : []),
  ...(args.runs !== undefined && !Number.isInteger(Number(args.runs)) ? [`--runs=${args.runs}: a whole number of runs`] : []),
];
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(2);
}

const base = args.smoke ? SMOKE : FULL;
const settings = {
  ...base,
  mode: narrowed ? `${base.mode}, partial` : base.mode,
  http: {
    ...base.http,
    ...(args.cases && { cases: args.cases.split(',') }),
    ...(args.handlers && { handlers: args.handlers.split(',') }),
    ...(args['process-pairs'] && { processPairs: Number(args['process-pairs']) }),
    ...(args.pairs && { pairs: Number(args.pairs) }),
    ...(args.seconds && { seconds: Number(args.seconds) }),
    ...(args.load && { load: args.load }),
  },
};
const only = args.only?.split(',') ?? SECTIONS;
// A full run is three: on two shared cores one run's figures move by several percent (issue 18 judges the median of three).
const runs = args.runs !== undefined ? Number(args.runs) : args.smoke || narrowed ? 1 : 3;
const out = args.out ?? (args.smoke ? path.join(os.tmpdir(), 'tcpinfo-bench-smoke.json') : path.join(ROOT, 'bench', 'results.json'));
const log = (line) => process.stderr.write(`${line}\n`);

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    node: process.version,
    kernel: os.release(),
    date: new Date().toISOString(),
    loadAverageStart: os.loadavg()[0],
    mode: settings.mode,
  };
}

async function measure() {
  const results = { machine: machine(), settings };
  let failed = false;
  const section = async (key, name, f) => {
    if (!only.includes(name)) return;
    const t0 = performance.now();
    log(`${key}...`);
    try {
      results[key] = await f();
    } catch (err) {
      failed = true;
      results[key] = { error: err.message };
      log(`${key} failed: ${err.stack}`);
    }
    log(`${key}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  };
  await section('read', 'read', () => measureReadCost(settings.read));
  await section('events', 'read', () => measureEventCost(settings.read));
  await section('inRequest', 'read', () => measureReadInRequest({ ...settings.inRequest, load: settings.http.load }));
  await section('http', 'http', () => measureHttpOverhead(settings.http, log));
  await section('writer', 'writer', () => measureWriter(settings.writer));
  await section('memory', 'memory', () => measureMemory(settings.memory));
  // Issue 9: what sharing one log file between processes costs, next to a file each and a writer in a primary.
  await section('multiprocess', 'multiprocess', async () => ({ rows: await measureMultiprocess(settings.multiprocess) }));
  results.machine.loadAverageEnd = os.loadavg()[0];
  results.targets = checkTargets(results);
  return { results, failed };
}

/** Several runs, one after the other: each is a whole run; the targets are judged on their medians (issue 18). */
async function measureRuns(n) {
  const runs = [];
  let failed = false;
  for (let i = 0; i < n; i++) {
    log(`run ${i + 1} of ${n}`);
    const run = await measure();
    runs.push(run.results);
    failed ||= run.failed;
  }
  if (n === 1) return { results: runs[0], failed };
  return { results: { machine: runs[0].machine, settings, runs, targets: combineTargets(runs.map((r) => r.targets)) }, failed };
}

const { results, failed } = args.from ? { results: JSON.parse(fs.readFileSync(args.from, 'utf8')), failed: false } : await measureRuns(runs);
const report = renderReport(results);
console.log(`## tcpinfo bench\n\n${report}`);
if (!args.from) {
  fs.writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
  log(`results: ${out}`);
}
if (args['write-docs']) {
  if (results.machine.mode !== 'full' || !(results.runs?.length >= 3)) {
    console.error(`${args.from ?? out}: a ${results.machine.mode} run of ${results.runs?.length ?? 1}; the docs take the figures of a full run of three or more runs`);
    process.exit(2);
  }
  writeDocs(ROOT, results);
  log('docs/performance.md and the README\'s recommended line rewritten');
}
process.exit(failed ? 1 : 0);
