// --otel with the real OpenTelemetry SDK (2.x line, Node 20) and the real http instrumentation, on real requests.
// Each run is its own process (test/fixtures/otel-app.cjs): the providers and the instrumentation are process-wide.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parseOptions } from '../dist/index.js';
import { ROOT, tempDir } from './support/harness.mjs';

const run = promisify(execFile);
const APP = path.join(ROOT, 'test', 'fixtures', 'otel-app.cjs');
const N = 6;

async function runApp(t, mode) {
  const logFile = path.join(tempDir(t, 'tcpinfo-otel-'), 'tcpinfo.log');
  const preload = mode.startsWith('preload-');
  const args = preload ? ['--import', pathToFileURL(path.join(ROOT, 'dist', 'register.js')).href, APP, mode, logFile] : [APP, mode, logFile];
  const env = preload
    ? { ...process.env, TCPINFO_QUIET: '1', TCPINFO_OPTIONS: `--hooks=txn_close --explain --otel --sample-rate=1000 --format=json --log-file=${logFile}` }
    : process.env;
  const { stdout } = await run(process.execPath, args, { timeout: 30_000, env });
  const log = fs.readFileSync(logFile, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
  return { ...JSON.parse(stdout), log };
}

function checkRun(result) {
  const servers = result.spans.filter((s) => s.kind === 1);
  const deliveries = result.spans.filter((s) => s.name === 'tcpinfo.delivery');
  assert.equal(servers.length, N, 'a server span per request');
  assert.equal(deliveries.length, N, 'a delivery span per request');
  const slow = servers.find((s) => s.attributes['url.path'] === '/slow');
  for (const name of ['tcpinfo.rtt_us', 'tcpinfo.min_rtt_us', 'tcpinfo.snd_cwnd', 'tcpinfo.total_retrans', 'tcpinfo.bytes_sent', 'tcpinfo.bytes_received', 'tcpinfo.txn_retrans']) {
    assert.equal(typeof slow.attributes[name], 'number', name);
  }
  assert.ok(slow.attributes['tcpinfo.rtt_us'] > 0);
  assert.ok(slow.attributes['tcpinfo.bytes_sent'] > 0);
  // The verdict, tied to the server span (not to the app's own 'handler' span it was written in).
  const delivery = deliveries.find((d) => d.parentSpanId === slow.spanId);
  assert.ok(delivery, 'the slow request has its delivery span');
  assert.equal(delivery.traceId, slow.traceId);
  assert.equal(delivery.attributes['tcpinfo.verdict'], 'server');
  assert.ok(delivery.attributes['tcpinfo.judged_us'] >= 250_000);
  assert.ok(delivery.attributes['tcpinfo.server_us'] >= 240_000);
  for (const d of deliveries) assert.ok(servers.some((s) => s.spanId === d.parentSpanId));
  // Metrics: the log's counts, by verdict; bounded attributes only.
  const verdicts = result.log.filter((r) => r.event === 'txn_delivered').map((r) => r.verdict);
  assert.equal(verdicts.length, N);
  const logCounts = {};
  for (const v of verdicts) logCounts[v] = (logCounts[v] ?? 0) + 1;
  const counter = result.metrics['tcpinfo.transactions'];
  assert.equal(counter.unit, '{transaction}');
  const metricCounts = {};
  for (const p of counter.points) {
    assert.deepEqual(Object.keys(p.attributes).sort(), ['server', 'verdict']);
    assert.equal(p.attributes.server, `127.0.0.1:${result.port}`);
    metricCounts[p.attributes.verdict] = p.value;
  }
  assert.deepEqual(metricCounts, logCounts);
  const histogram = result.metrics['tcpinfo.transaction.duration'];
  assert.equal(histogram.unit, 'us');
  const slowPoint = histogram.points.find((p) => p.attributes.verdict === 'server');
  assert.equal(slowPoint.boundaries[0], 1000);
  assert.equal(slowPoint.boundaries.at(-1), 60_000_000);
  assert.equal(slowPoint.value.count, 1);
  assert.equal(histogram.points.reduce((n, p) => n + p.value.count, 0), N);
}

test('--otel: the SDK started before attach: attributes on the server span, the verdict as its child, the metrics as the log', async (t) => {
  checkRun(await runApp(t, 'before'));
});

test('--otel: the tracer and meter providers registered after attach and listen still get everything', async (t) => {
  checkRun(await runApp(t, 'after'));
});

test('--otel with the preload (node --import tcpinfo/register): the SDK started before the server listens', async (t) => {
  checkRun(await runApp(t, 'preload-before'));
});

test('--otel with the preload: the providers registered after the server listens (and the preload attached)', async (t) => {
  checkRun(await runApp(t, 'preload-after'));
});

test('--otel: exported with the SDK\'s OTLP/HTTP exporter to a local receiver', async (t) => {
  const result = await runApp(t, 'otlp');
  const spans = result.received.filter((r) => r.path === '/v1/traces')
    .flatMap((r) => r.body.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)));
  const attrs = (s) => Object.fromEntries(s.attributes.map((a) => [a.key, a.value]));
  const servers = spans.filter((s) => s.kind === 2);
  const deliveries = spans.filter((s) => s.name === 'tcpinfo.delivery');
  assert.equal(servers.length, N);
  assert.equal(deliveries.length, N);
  const slow = servers.find((s) => attrs(s)['url.path'].stringValue === '/slow');
  assert.ok(Number(attrs(slow)['tcpinfo.rtt_us'].intValue) > 0);
  const delivery = deliveries.find((d) => d.parentSpanId === slow.spanId);
  assert.equal(delivery.traceId, slow.traceId);
  assert.equal(attrs(delivery)['tcpinfo.verdict'].stringValue, 'server');
});

test('--otel needs --explain: a start-up error naming both', () => {
  assert.throws(() => parseOptions('--otel'), (err) => err.code === 'ERR_TCPINFO_CONFIG' && /--otel.*needs --explain/s.test(err.message));
  assert.equal(parseOptions('--explain --otel').otel, true);
  assert.equal(parseOptions('').otel, false);
});
