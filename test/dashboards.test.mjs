// dashboards/ as a Grafana and a Prometheus of someone else import them: the dashboard asks for its datasource
// (no uid of ours), filters every query by the `server` variable, names only documented metrics; both files ship.
// Prometheus itself runs them in test/slow/dashboards.test.mjs.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ALERTS_FILE, panelsOf, queriesOf, readDashboard } from './support/dashboards.mjs';
import { ROOT } from './support/harness.mjs';

const dashboard = readDashboard();
const DOC = fs.readFileSync(path.join(ROOT, 'docs', 'metrics.md'), 'utf8');
const DS = { type: 'prometheus', uid: '${DS_PROMETHEUS}' };

/** The metric names of docs/metrics.md's table. */
const documented = new Set([...DOC.matchAll(/^\| (`tcpinfo_[^|]*?) \|/gm)].flatMap((m) => [...m[1].matchAll(/`(tcpinfo_\w+)(?:\{\w+\})?`/g)].map((n) => n[1])));

/** A histogram's series are its name with _bucket, _sum, _count. */
const metricOf = (name) => name.replace(/_(bucket|sum|count)$/, '');

test('the dashboard imports into any Grafana: one Prometheus datasource input, used by every panel and query', () => {
  assert.deepEqual(dashboard.__inputs.map((i) => [i.name, i.type, i.pluginId]), [['DS_PROMETHEUS', 'datasource', 'prometheus']]);
  assert.equal(dashboard.id, null, 'no id of the Grafana it was made in');
  for (const panel of panelsOf(dashboard)) {
    if (panel.type === 'row') continue;
    assert.deepEqual(panel.datasource, DS, `${panel.title}: the input's datasource`);
    assert.ok(panel.targets.length > 0, `${panel.title}: queries`);
    for (const target of panel.targets) assert.deepEqual(target.datasource, DS, `${panel.title} ${target.refId}`);
  }
  const uids = [...JSON.stringify(dashboard).matchAll(/"uid":"([^"]*)"/g)].map((m) => m[1]);
  assert.deepEqual([...new Set(uids)].sort(), ['${DS_PROMETHEUS}', '-- Grafana --', 'tcpinfo'].sort(), 'no datasource uid of ours');
});

test('the Grafana version it targets: __requires, schemaVersion, and docs/metrics.md say the same', () => {
  const grafana = dashboard.__requires.find((r) => r.type === 'grafana');
  assert.equal(grafana.version, '10.4.0');
  // Grafana 10.4 writes schemaVersion 39; later versions migrate it forward on import.
  assert.equal(dashboard.schemaVersion, 39);
  assert.match(DOC, /Grafana 10\.4/);
  const types = new Set(panelsOf(dashboard).map((p) => p.type).filter((t) => t !== 'row'));
  assert.deepEqual([...types].sort(), dashboard.__requires.filter((r) => r.type === 'panel').map((r) => r.id).sort(), 'the panel types it requires');
});

test('the `server` variable comes from the metrics; every query filters by it, on Grafana\'s rate interval', () => {
  const [variable] = dashboard.templating.list;
  assert.equal(variable.name, 'server');
  assert.deepEqual(variable.datasource, DS);
  assert.match(variable.definition, /^label_values\(tcpinfo_\w+, server\)$/);
  assert.equal(variable.query.query, variable.definition);
  assert.ok(variable.multi && variable.includeAll, 'several servers, or all');
  for (const { panel, refId, expr } of queriesOf(dashboard)) {
    const selectors = [...expr.matchAll(/(tcpinfo_\w+)(\{[^}]*\})?/g)];
    assert.ok(selectors.length > 0, `${panel} ${refId}: a tcpinfo metric`);
    for (const [whole, , labels] of selectors) assert.match(labels ?? '', /server=~"\$server"/, `${panel} ${refId}: ${whole} by $server`);
    for (const [range] of expr.matchAll(/\[[^\]]*\]/g)) assert.ok(['[$__rate_interval]', '[$__range]'].includes(range), `${panel} ${refId}: ${range}`);
  }
});

test('the panels: rtt quantiles and heatmap, retransmissions, connections, bytes, transactions by verdict and their durations', () => {
  const exprs = queriesOf(dashboard).map((q) => q.expr);
  const has = (re, what) => assert.ok(exprs.some((e) => re.test(e)), what);
  for (const q of ['0.5', '0.9', '0.99']) has(new RegExp(`^histogram_quantile\\(${q}, sum by \\(server, le\\) \\(rate\\(tcpinfo_rtt_us_bucket`), `rtt p${q}`);
  const heatmap = panelsOf(dashboard).find((p) => p.type === 'heatmap');
  assert.equal(heatmap.targets[0].format, 'heatmap');
  assert.match(heatmap.targets[0].expr, /tcpinfo_rtt_us_bucket/);
  has(/tcpinfo_tx_retransmitted_segments_total.*\/.*tcpinfo_tx_data_segments_total/, 'retransmission share');
  has(/tcpinfo_connections_opened_total/, 'connections opened');
  has(/tcpinfo_connections_closed_total/, 'connections closed');
  has(/tcpinfo_tx_bytes_total/, 'bytes sent');
  has(/^histogram_quantile\(0\.99, sum by \(verdict, le\) \(rate\(tcpinfo_transaction_duration_us_bucket/, 'duration p99 by verdict');
  const byVerdict = panelsOf(dashboard).find((p) => p.targets?.some((t) => /^sum by \(verdict\) \(rate\(tcpinfo_transactions_total/.test(t.expr)));
  assert.equal(byVerdict.fieldConfig.defaults.custom.stacking.mode, 'normal', 'transactions by verdict, stacked');
});

test('panel ids are unique and no two panels overlap', () => {
  const panels = panelsOf(dashboard);
  assert.equal(new Set(panels.map((p) => p.id)).size, panels.length);
  const taken = new Map();
  for (const { title, gridPos: { x, y, w, h } } of panels) {
    assert.ok(x >= 0 && x + w <= 24, `${title}: within the 24 columns`);
    for (let row = y; row < y + h; row++) {
      for (let col = x; col < x + w; col++) {
        const cell = `${row},${col}`;
        assert.ok(!taken.has(cell), `${title} overlaps ${taken.get(cell)}`);
        taken.set(cell, title);
      }
    }
  }
});

test('the dashboard and the alerting rules name only the metrics docs/metrics.md documents', () => {
  assert.ok(documented.has('tcpinfo_rtt_us') && documented.has('tcpinfo_transactions_total'), 'the table read');
  const used = (text) => [...text.matchAll(/\btcpinfo_[a-z_]+\b/g)].map((m) => metricOf(m[0]));
  for (const name of used(queriesOf(dashboard).map((q) => q.expr).join('\n') + dashboard.templating.list[0].definition)) assert.ok(documented.has(name), `dashboard: ${name}`);
  const rules = fs.readFileSync(ALERTS_FILE, 'utf8');
  assert.ok(used(rules).length > 0, 'the rules read');
  for (const name of used(rules)) assert.ok(documented.has(name), `alerts.yml: ${name}`);
});

test('package.json ships dashboards/, and docs/metrics.md links both files', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  assert.ok(pkg.files.includes('dashboards'), 'files has dashboards');
  assert.match(DOC, /\]\(\.\.\/dashboards\/tcpinfo\.json\)/);
  assert.match(DOC, /\]\(\.\.\/dashboards\/alerts\.yml\)/);
});
