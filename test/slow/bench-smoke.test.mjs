// The bench's smoke run (`node bench/run.mjs --smoke`): every section runs and reports its figures, so
// the bench cannot rot. No figure is held to a target here: the machines tests run on are shared and noisy.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CASES } from '../../bench/http-cases.mjs';
import { findNginx } from '../../bench/nginx.mjs';
import { hasWrk, wrkErrors } from '../../bench/wrk.mjs';
import { PERFORMANCE_BEGIN, PERFORMANCE_END, README_BEGIN, README_END } from '../../bench/report.mjs';
import { tempDir } from '../support/harness.mjs';

const ROOT = path.resolve(new URL('../..', import.meta.url).pathname);

function runBench(args, env = process.env) {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'bench', 'run.mjs'), ...args], { env, timeout: 100_000, maxBuffer: 10 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.code ?? err.signal) : 0, stdout, stderr });
    });
  });
}

function assertFinite(value, what) {
  assert.ok(typeof value === 'number' && Number.isFinite(value), `${what}: expected a number, got ${value}`);
}

test('bench --smoke: every section, with numbers, and every target checked', { timeout: 120_000 }, async (t) => {
  const out = path.join(tempDir(t), 'results.json');
  const started = performance.now();
  const { code, stdout, stderr } = await runBench(['--smoke', `--out=${out}`]);
  t.diagnostic(`bench --smoke took ${((performance.now() - started) / 1000).toFixed(1)} s`);
  assert.equal(code, 0, stderr);

  for (const heading of ['### Read cost', '### HTTP overhead', '### Writer', '### Memory with a stalled destination', '### Targets']) {
    assert.ok(stdout.includes(`\n${heading}\n`), `the report has no "${heading}" section`);
  }
  const results = JSON.parse(fs.readFileSync(out, 'utf8'));
  for (const key of ['cpu', 'node', 'kernel', 'date']) assert.ok(results.machine[key], `machine.${key}`);
  assertFinite(results.machine.cores, 'machine.cores');

  for (const key of ['rawGetsockoptNs', 'getsockoptWithFdLookupNs', 'readRawNs', 'readTcpInfoNs', 'ssUsPerSample']) {
    assertFinite(results.read[key], `read.${key}`);
  }
  for (const key of ['readRawNs', 'koffiNoopNs']) assertFinite(results.inRequest[key], `inRequest.${key}`);
  assert.equal(results.events.results.length + results.events.skipped.length, 4);
  for (const e of results.events.results) {
    assertFinite(e.ns, `events ${e.variant} ns`);
    assertFinite(e.ratioToReadRaw, `events ${e.variant} ratio`);
    assert.equal(e.dropped + e.failedReads, 0, `events ${e.variant}: every event read and queued`);
  }

  // Every case is measured or skipped with a note (an option this build does not have yet).
  const measured = results.http.results.map((r) => r.case);
  const skipped = results.http.skipped.map((s) => s.id);
  assert.deepEqual([...measured, ...skipped].sort(), CASES.map((c) => c.id).sort());
  for (const s of results.http.skipped) assert.match(s.note, /refuses|h2load is not installed/);
  for (const r of results.http.results) {
    const what = `http ${r.handler} (${r.case})`;
    for (const side of ['bare', 'plugin']) {
      assert.ok(r[side].requestsPerSecond > 0, `${what} ${side} req/s`);
      assertFinite(r[side].cpuUsPerRequest, `${what} ${side} CPU per request`);
      assertFinite(r[side].loopDelayP99Ms, `${what} ${side} loop delay p99`);
    }
    // The control runs bare against bare, and (h) and (r) sample nothing: no lines, so no cost per line.
    const c = CASES.find((x) => x.id === r.case);
    const logs = c.options !== null && !/--sample-rate=0(\s|$)/.test(c.options);
    assert.equal(r.plugin.loggedPerRequest > 0, logs, `${what}: lines were logged (none without sampling)`);
    for (const key of ['throughputRatio', 'cpuRatio', 'addedLoopDelayP99Ms', ...(logs ? ['addedCpuUsPerLoggedEvent'] : [])]) assertFinite(r[key], `${what} ${key}`);
    // (r)'s server reads in its handler, in about readShare of its requests; (ra) and (rb) at each of their events
    // (ssn_start once a connection: about one a request fewer); no other server reads without logging.
    const reads = r.plugin.handlerReadsPerRequest;
    if (c.readShare) assert.ok(reads > c.readShare / 3 && reads < c.readShare * 3, `${what}: handler reads ${reads} per request`);
    else if (c.readEvents) {
      assert.ok(reads >= c.readEvents.length - 1 && reads <= c.readEvents.length, `${what}: ${reads} reads per request at ${c.readEvents}`);
      assertFinite(r.addedCpuUsPerRead, `${what} added CPU per read`);
    } else assert.equal(reads, 0, `${what}: no handler reads`);
    assert.equal(r.clientErrors, 0, `${what}: client errors`);
  }

  // The HTTP/1 rows' client: wrk when it is on the PATH (as .ci/run installs it), else autocannon.
  assert.equal(results.http.loadGenerator, hasWrk() ? 'wrk' : 'autocannon');
  assert.equal(results.inRequest.loadGenerator, results.http.loadGenerator);
  assert.ok(stdout.includes(hasWrk() ? 'wrk (one thread) in its own process' : 'autocannon in its own process'), 'the report names the client');

  // The nginx anchor row (issue 18): measured when nginx is on the PATH, every request's line written; else skipped, saying how to install it.
  const nginx = results.http.nginx;
  if (findNginx() !== null) {
    assert.equal(nginx.skipped, undefined);
    for (const side of ['bare', 'plugin']) {
      assert.ok(nginx[side].requestsPerSecond > 0, `nginx ${side} req/s`);
      assertFinite(nginx[side].cpuUsPerRequest, `nginx ${side} CPU per request`);
      assert.ok(nginx[side].cpuUsPerRequest > 0, `nginx ${side} CPU per request above 0`);
    }
    assert.equal(nginx.plugin.loggedPerRequest, 1);
    for (const key of ['throughputRatio', 'addedCpuUsPerRequest', 'addedCpuUsPerLoggedEvent']) assertFinite(nginx[key], `nginx ${key}`);
    assert.ok(nginx.requestsMeasured > 0 && nginx.linesWritten >= nginx.requestsMeasured, `nginx wrote ${nginx.linesWritten} lines for ${nginx.requestsMeasured} measured requests`);
    assert.equal(nginx.linesMalformed, 0, `nginx lines like ${nginx.sampleLine}`);
    assert.match(nginx.sampleLine, / 127\.0\.0\.1 127\.0\.0\.1 \d+ \d+ \d+ \d+$/);
    assert.equal(nginx.clientErrors, 0, 'nginx: client errors');
    assert.ok(stdout.includes(`(nginx) nginx ${nginx.version}`), 'the nginx row printed');
  } else {
    assert.match(nginx.skipped, /apt-get install nginx-light/);
    assert.ok(stdout.includes(nginx.skipped), 'the skip printed');
  }

  assert.equal(results.writer.results.length, 2);
  for (const w of results.writer.results) {
    assert.ok(w.linesPerSecond > 0 && w.written > 0, `writer ${w.variant}: lines written`);
    assert.equal(w.lost, 0, `writer ${w.variant}: lines lost`);
  }

  assert.ok(results.multiprocess.rows.length >= 3, 'multiprocess: one row per setup');
  for (const r of results.multiprocess.rows) {
    assertFinite(r.linesPerSecond, `multiprocess ${r.setup} lines/s`);
    assert.ok(r.lines > 0 && r.files >= 1, `multiprocess ${r.setup}: lines written into files`);
  }
  for (const m of results.memory.results) {
    assertFinite(m.growthMiB, `memory ${m.queueLines} growth`);
    assert.ok(m.reachedBound && m.dropped > 0, `memory ${m.queueLines}: a stalled writer drops lines once its queue is full`);
  }
  // Lines of 8 KB paths: the byte bound (--queue-bytes) is what holds, whatever --queue-lines allows.
  const long = results.memory.results.find((m) => m.id === 'url-8k');
  assert.equal(long.bound, 'bytes');
  assert.ok(long.queuedAtBound > 0 && long.queuedAtBound * long.lineBytes <= long.queueBytes, `${long.queuedAtBound} lines of ${long.lineBytes} bytes queued`);

  const ids = results.targets.map((x) => x.id);
  const nginxTargets = ['nginx-b', 'nginx-a', 'nginx-d'];
  for (const id of nginxTargets) assert.ok(ids.includes(id), `target ${id} missing (have ${ids.join(', ')})`);
  // A smoke run's single pair can measure nginx's added cost per line at 0 or less: then no ratio, said so.
  const checked = findNginx() === null ? [] : nginx.addedCpuUsPerLoggedEvent > 0 ? nginxTargets : [];
  for (const id of nginxTargets.filter((x) => !checked.includes(x))) {
    const target = results.targets.find((x) => x.id === id);
    assert.equal(target.status, 'N/A', `target ${id}`);
    assert.match(target.text, findNginx() === null ? /apt-get install nginx-light/ : /nginx's figure is not above 0, no ratio/);
  }
  for (const id of ['b-throughput', 'a-throughput', 'cm-throughput', 'b-cpu-per-event', 'c-throughput', 'writer-plain', 'writer-size', 'memory-65536', 'memory-url-8k', 'loop-delay', ...checked]) {
    const target = results.targets.find((x) => x.id === id);
    assert.ok(target, `target ${id} missing (have ${ids.join(', ')})`);
    assert.match(target.status, /^(PASS|FAIL)$/, `target ${id}: ${target.status} ${target.text ?? ''}`);
    assertFinite(target.measured, `target ${id} measured`);
    assert.ok(stdout.includes(target.target), `target ${id} printed`);
  }
});

test("bench --runs=2: each run whole, the targets judged on the median of the runs, each run's figure shown", { timeout: 60_000 }, async (t) => {
  const out = path.join(tempDir(t), 'results.json');
  const { code, stdout, stderr } = await runBench(['--smoke', '--only=read', '--runs=2', `--out=${out}`]);
  assert.equal(code, 0, stderr);
  const results = JSON.parse(fs.readFileSync(out, 'utf8'));
  assert.equal(results.runs.length, 2);
  const target = results.targets.find((x) => x.id === 'b-cpu-per-event');
  assert.equal(target.runs.length, 2);
  assert.equal(target.status, 'N/A', 'no HTTP rows in a read-only run');
  for (const run of results.runs) assertFinite(run.read.rawGetsockoptNs, 'each run measured the read cost');
  assert.ok(stdout.includes('### Targets over 2 runs') && stdout.includes('### Run 1 of 2') && stdout.includes('### Run 2 of 2'), stdout.slice(0, 2000));
  // The docs take three or more full runs, never a smoke run.
  const refused = await runBench([`--from=${out}`, '--write-docs']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /three or more runs/);
});

test("wrk's summary: its socket errors and non-2xx answers count as the client's errors", () => {
  const clean = 'Running 3s test @ http://127.0.0.1:1/\n  1 threads and 10 connections\n  108172 requests in 3.00s, 10.32MB read\nRequests/sec:  36046.62\n';
  assert.equal(wrkErrors(clean), 0);
  assert.equal(wrkErrors(`${clean}  Socket errors: connect 0, read 2, write 1, timeout 3\n  Non-2xx or 3xx responses: 4\n`), 10);
  assert.equal(wrkErrors('unable to connect to 127.0.0.1:1 Connection refused\n'), null, 'no summary: not a clean run');
});

test('bench without nginx on the PATH: the anchor row is skipped, saying how to install nginx', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const out = path.join(dir, 'results.json');
  const { code, stdout, stderr } = await runBench(['--smoke', '--only=http', '--cases=nginx', `--out=${out}`], { ...process.env, PATH: dir });
  assert.equal(code, 0, stderr);
  const results = JSON.parse(fs.readFileSync(out, 'utf8'));
  assert.match(results.http.nginx.skipped, /^nginx is not on the PATH: `apt-get install nginx-light`/);
  assert.ok(stdout.includes(`The nginx anchor row (issue 18) was not run: ${results.http.nginx.skipped}`), stdout);
  assert.ok(stderr.includes(results.http.nginx.skipped), 'said while running too');
  for (const id of ['nginx-b', 'nginx-a', 'nginx-d']) {
    const target = results.targets.find((x) => x.id === id);
    assert.equal(target.status, 'N/A');
    assert.equal(target.text, results.http.nginx.skipped);
  }
});

test('docs/performance.md has the markers --write-docs fills, with the report in them', () => {
  const text = fs.readFileSync(path.join(ROOT, 'docs', 'performance.md'), 'utf8');
  const begin = text.indexOf(PERFORMANCE_BEGIN);
  const end = text.indexOf(PERFORMANCE_END);
  assert.ok(begin >= 0 && begin < end, 'the begin marker, then the end marker');
  // Three runs (issue 18 judges the median of three): the targets over them, then each run's tables.
  for (const heading of ['## Targets over 3 runs', '## Run 1 of 3', '## Run 3 of 3', '### Read cost', '### HTTP overhead', '### Targets']) {
    assert.ok(text.slice(begin, end).includes(`\n${heading}\n`), heading);
  }
});

test('README: the recommended line and its measured cost, between the markers --write-docs fills', () => {
  const text = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const begin = text.indexOf(README_BEGIN);
  const end = text.indexOf(README_END);
  assert.ok(begin >= 0 && begin < end, 'the begin marker, then the end marker');
  assert.match(text.slice(begin, end), /--sample-rate=\d+[\s\S]*req\/s with the plugin \/ bare/);
});
