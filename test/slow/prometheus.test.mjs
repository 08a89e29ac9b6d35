// The real Prometheus scrapes --metrics-port, and every PromQL query of docs/metrics.md answers plausibly.
// The scrape job and the queries are taken out of docs/metrics.md (its `<!-- tested: NAME -->` blocks) as
// they stand: the page shows what ran here.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { attach } from '../../dist/index.js';
import { listen, requireTool, ROOT, tempDir, testedBlocks, waitFor } from '../support/harness.mjs';
import { load, query, startPrometheus, waitForScrapes } from '../support/prometheus.mjs';

const DOC = fs.readFileSync(path.join(ROOT, 'docs', 'metrics.md'), 'utf8');
const blocks = testedBlocks(DOC);
/** Keep-alive clients (each holds one connection), and clients opening a new connection per request. */
const KEEP_ALIVE_CLIENTS = 3;
const CLOSE_CLIENTS = 2;
const BODY_BYTES = 4000;
/** The queries' range, made to fit a test of seconds: `rate(x[5m])` divides by 5 minutes, whatever the data. */
const RANGE = '[5s]';
const SCRAPE_INTERVAL = '1s';

/**
 * What each documented query must give, per series (one per `server`). A query on the page with no check
 * here fails the test, and so does a check whose query left the page.
 */
const CHECKS = {
  'connections-opened-per-second': (v) => v > 0,
  // Keep-alive connections stay open; a Connection: close one may be between its ssn_start and ssn_close.
  'connections-open': (v) => Number.isInteger(v) && v >= 0 && v <= KEEP_ALIVE_CLIENTS + CLOSE_CLIENTS,
  'bytes-sent-per-second': (v) => v > 1000,
  'retransmitted-ratio': (v) => v >= 0 && v <= 1,
  // Loopback: tens of microseconds, a few ms on a busy machine; the estimate is within a bucket (0..10 ms).
  'rtt-p99': (v) => v > 0 && v <= 100_000,
  // With --explain: one series per verdict; quick answers on loopback are all ok.
  'transactions-by-verdict': {
    by: 'verdict',
    series: ['client', 'mixed', 'network', 'ok', 'server', 'unknown'],
    check: (v, clients, verdict) => (verdict === 'ok' ? v >= clients.requestsPerSecond / 2 && v <= clients.requestsPerSecond * 2 : v === 0),
  },
};

test('docs/metrics.md marks the scrape job and a check for each of its queries', () => {
  assert.equal(blocks['prometheus.yml']?.lang, 'yaml', 'a <!-- tested: prometheus.yml --> yaml block');
  const queries = Object.keys(blocks).filter((name) => blocks[name].lang === 'promql');
  assert.deepEqual(queries.sort(), Object.keys(CHECKS).sort(), 'each documented query has its check, and each check its query');
});

test('Prometheus scrapes --metrics-port under load; every query of docs/metrics.md answers plausibly', { timeout: 60_000 }, async (t) => {
  const prometheus = requireTool(t, 'prometheus', 'prometheus');
  if (prometheus === null) return;
  const dir = tempDir(t, 'tcpinfo-prom-');
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end('y'.repeat(BODY_BYTES));
  });
  const handle = attach(server, `--log-file=${path.join(dir, 'tcpinfo.log')} --metrics --metrics-port=0 --update-period=1 --explain`);
  t.after(() => handle.close());
  const port = await listen(t, server);
  await waitFor(() => handle.metricsServer.address() !== null, 5000, 'the /metrics server listening');
  const metricsPort = handle.metricsServer.address().port;

  const traffic = load(port, { keepAlive: KEEP_ALIVE_CLIENTS, close: CLOSE_CLIENTS });
  try {
    await scrapeAndQuery(t, { prometheus, dir, port, metricsPort, traffic });
  } finally {
    await traffic.stop();
  }
  assert.equal(traffic.failure(), null, 'every request answered');
});

async function scrapeAndQuery(t, { prometheus, dir, port, metricsPort, traffic }) {
  // The page's scrape job as it stands, with the test server's port and a 1 s interval.
  assert.ok(blocks['prometheus.yml'], 'docs/metrics.md has a <!-- tested: prometheus.yml --> block');
  const job = blocks['prometheus.yml'].code;
  const jobName = /job_name:\s*(\S+)/.exec(job)?.[1];
  assert.ok(jobName, 'the scrape job names its job');
  const config = job.replace(/targets: \['127\.0\.0\.1:9464'\]/, `targets: ['127.0.0.1:${metricsPort}']`).replace(/scrape_interval: \S+/, `scrape_interval: ${SCRAPE_INTERVAL}`);
  assert.match(config, new RegExp(`127\\.0\\.0\\.1:${metricsPort}`), 'the target was put in');
  const prom = await startPrometheus(t, prometheus, dir, config);
  const promPort = prom.port;
  // Two scrapes at least, and as many as the queries' range holds.
  await waitForScrapes(prom, jobName, 6);

  const label = `127.0.0.1:${port}`;
  const results = {};
  const clients = traffic.perSecond(Number.parseInt(RANGE.slice(1), 10));
  for (const [name, expected] of Object.entries(CHECKS)) {
    // As the page has it, with the 5-minute range made RANGE (and nothing else changed).
    const promql = blocks[name].code.trim().replaceAll('[5m]', RANGE);
    const series = await query(promPort, promql);
    results[name] = series.map((s) => s.value);
    // A query by server alone gives one series; one also by a label gives one per value of it.
    const { by, series: values = [undefined], check } = typeof expected === 'function' ? { check: expected } : expected;
    const got = series.map((s) => s.labels[by]).sort();
    assert.deepEqual(by === undefined ? series.length : got, by === undefined ? 1 : values, `${name}: the series, for the one server: ${promql}\n${JSON.stringify(series)}`);
    for (const s of series) {
      assert.deepEqual(s.labels, by === undefined ? { server: label } : { server: label, [by]: s.labels[by] }, `${name}: by server${by ? ` and ${by}` : ''}`);
      assert.ok(check(s.value, clients, s.labels[by]), `${name}${by ? ` {${by}="${s.labels[by]}"}` : ''} = ${s.value}: not plausible (clients: ${JSON.stringify(clients)})\n${promql}`);
    }
  }
  t.diagnostic(`${traffic.requests()} requests; clients ${JSON.stringify(clients)}; ${JSON.stringify(results)}`);
}
