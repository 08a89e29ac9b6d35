// dashboards/ against the real Prometheus (Debian's package, promtool with it): the alerting rules load and fire
// above their thresholds only (promtool's unit tests, test/fixtures/alerts.test.yml), and every query of the Grafana
// dashboard answers with series from a live scrape of --metrics --explain under load, as Grafana would send it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { attach } from '../../dist/index.js';
import { ALERTS_FILE, ALERTS_TEST_FILE, alertNames, queriesOf, readDashboard } from '../support/dashboards.mjs';
import { escapeRegExp, findCommand, listen, requireTool, tempDir, waitFor } from '../support/harness.mjs';
import { api, load, query, startPrometheus, waitForScrapes } from '../support/prometheus.mjs';

const run = promisify(execFile);
/** Grafana's own variables, as Grafana would fill them in for a short time range. */
const GRAFANA_VARIABLES = { $__rate_interval: '1m', $__interval: '15s', $__range: '1m' };

/** promtool, Debian's: in the prometheus package. */
function promtool(t) {
  if (requireTool(t, 'prometheus', 'prometheus') === null) return null;
  const file = findCommand('promtool');
  assert.ok(file, 'promtool is installed with prometheus (Debian: /usr/bin/promtool)');
  return file;
}

test('promtool check rules: dashboards/alerts.yml loads', async (t) => {
  const file = promtool(t);
  if (file === null) return;
  const { stdout } = await run(file, ['check', 'rules', ALERTS_FILE], { timeout: 20_000 });
  assert.match(stdout, new RegExp(`SUCCESS: ${alertNames().length} rules found`));
});

test('promtool test rules: each alert fires above its threshold once held for its `for:`, and is silent below it', async (t) => {
  const file = promtool(t);
  if (file === null) return;
  // Every alert is tested both ways: firing (exp_alerts with labels), and silent (exp_alerts: []).
  const tests = fs.readFileSync(ALERTS_TEST_FILE, 'utf8');
  assert.ok(alertNames().length >= 3, 'the network/client, server and retransmission alerts');
  for (const name of alertNames()) {
    assert.match(tests, new RegExp(`alertname: ${name}\\n\\s+exp_alerts:\\n\\s+- exp_labels:`), `${name} fires in a test`);
    assert.match(tests, new RegExp(`alertname: ${name}\\n\\s+exp_alerts: \\[\\]`), `${name} is silent in a test`);
  }
  const { stdout } = await run(file, ['test', 'rules', ALERTS_TEST_FILE], { timeout: 20_000 }).catch((err) => assert.fail(`promtool test rules failed:\n${err.stdout}\n${err.stderr}`));
  assert.match(stdout, /SUCCESS/);
});

test('every query of dashboards/tcpinfo.json returns series from a live scrape of --metrics --explain under load', { timeout: 60_000 }, async (t) => {
  const prometheus = requireTool(t, 'prometheus', 'prometheus');
  if (prometheus === null) return;
  const dir = tempDir(t, 'tcpinfo-dash-');
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end('y'.repeat(4000));
  });
  const handle = attach(server, `--log-file=${path.join(dir, 'tcpinfo.log')} --metrics --metrics-port=0 --update-period=1 --explain`);
  t.after(() => handle.close());
  const port = await listen(t, server);
  await waitFor(() => handle.metricsServer.address() !== null, 5000, 'the /metrics server listening');
  const metricsPort = handle.metricsServer.address().port;

  const traffic = load(port, { keepAlive: 2, close: 1 });
  try {
    const config = `scrape_configs:\n  - job_name: tcpinfo\n    scrape_interval: 1s\n    static_configs:\n      - targets: ['127.0.0.1:${metricsPort}']\n`;
    const prom = await startPrometheus(t, prometheus, dir, config);
    await waitForScrapes(prom, 'tcpinfo', 6);

    const label = `127.0.0.1:${port}`;
    // The `server` variable's query, label_values(METRIC, server), is Prometheus's label values API.
    const variable = readDashboard().templating.list.find((v) => v.name === 'server');
    const [, metric] = /^label_values\((\w+), server\)$/.exec(variable.definition);
    assert.ok((await api(prom.port, `/api/v1/label/server/values?match[]=${metric}`)).includes(label), `the server variable offers ${label}`);

    // $server as Grafana puts a regex variable in: escaped for the regex, then for the PromQL string.
    const serverRegex = escapeRegExp(label).replaceAll('\\', '\\\\');
    const queries = queriesOf(readDashboard());
    const empty = [];
    for (const { panel, refId, expr } of queries) {
      let promql = expr.replaceAll('$server', serverRegex);
      for (const [name, value] of Object.entries(GRAFANA_VARIABLES)) promql = promql.replaceAll(name, value);
      assert.doesNotMatch(promql, /\$/, `${panel} ${refId}: a variable left: ${promql}`);
      const series = await query(prom.port, promql);
      if (!series.some((s) => Number.isFinite(s.value))) empty.push(`${panel} ${refId}: ${promql} -> ${JSON.stringify(series)}`);
      for (const s of series) assert.ok(s.labels.server === undefined || s.labels.server === label, `${panel} ${refId}: this server's series only`);
    }
    assert.deepEqual(empty, [], 'queries with no series (or only NaN)');
    t.diagnostic(`${queries.length} queries, each with series; ${traffic.requests()} requests`);
  } finally {
    await traffic.stop();
  }
  assert.equal(traffic.failure(), null, 'every request answered');
});
