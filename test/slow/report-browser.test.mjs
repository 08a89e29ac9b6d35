// `tcpinfo report`'s page in a real browser (issue 26): Debian's chromium, headless, with no network at all
// (`unshare -n`: a namespace of its own, as root), driven over the DevTools protocol on a pipe (fds 3 and 4,
// NUL-separated JSON). The page of a realistic log (bench/report-log.mjs) and of a hostile one: no console
// error, no request but the page itself, no dialog; every chart drawn with data; the tables as the browser
// parsed them equal to `tcpinfo explain --json` on the same logs. The realistic page's screenshot is kept:
// in the test's temp dir, or where TCPINFO_REPORT_SCREENSHOT says (docs/report-screenshot.png, the README's).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { chromiumCdp } from '../support/cdp.mjs';
import { requireTool, ROOT, spawnCli, tempDir } from '../support/harness.mjs';

const GENERATOR = path.join(ROOT, 'bench', 'report-log.mjs');
const SCREENSHOT = process.env.TCPINFO_REPORT_SCREENSHOT;

/** What the page shows, as the browser parsed it: charts (drawn size, marks) and the tables' cells (data-key: data-value). */
const READ_PAGE = `(() => {
  const charts = [...document.querySelectorAll('[data-chart]')].map((el) => {
    const box = el.getBoundingClientRect();
    return { name: el.dataset.chart, tag: el.tagName.toLowerCase(), marks: Number(el.dataset.marks), width: box.width, height: box.height,
      shapes: el.querySelectorAll('rect[data-count], rect[data-cause], path[data-line], circle').length };
  });
  const tables = {};
  for (const table of document.querySelectorAll('table[data-table]')) {
    tables[table.dataset.table] = [...table.querySelectorAll('tbody tr')].map((tr) =>
      Object.fromEntries([...tr.querySelectorAll('[data-key]')].map((td) => [td.dataset.key, JSON.parse(td.dataset.value)])));
  }
  const text = (id) => document.getElementById(id)?.textContent;
  return {
    charts, tables, embedded: JSON.parse(text('tcpinfo-explain')),
    active: document.querySelectorAll('img, iframe, object, embed, script:not([type="application/json"]), link, [onerror], [onload], [onmouseover]').length,
    body: document.body.innerText,
  };
})()`;

/** Opens `file` in a fresh tab; resolves with what the page shows and what happened (console, requests, dialogs). */
async function open(cdp, file, width) {
  const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true });
  for (const domain of ['Page', 'Runtime', 'Log', 'Network']) await cdp.send(`${domain}.enable`, {}, sessionId);
  await cdp.send('Emulation.setDeviceMetricsOverride', { width, height: 900, deviceScaleFactor: 1, mobile: false }, sessionId);
  const url = pathToFileURL(file).href;
  const from = cdp.events.length;
  await cdp.send('Page.navigate', { url }, sessionId);
  await cdp.event((e) => e.sessionId === sessionId && e.method === 'Page.loadEventFired');
  // Anything late (a deferred fetch, a console message) has a moment to show.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const { result, exceptionDetails } = await cdp.send('Runtime.evaluate', { expression: READ_PAGE, returnByValue: true }, sessionId);
  assert.equal(exceptionDetails, undefined, JSON.stringify(exceptionDetails));
  const mine = cdp.events.slice(from).filter((e) => e.sessionId === sessionId);
  const problems = mine.filter(
    (e) =>
      (e.method === 'Runtime.consoleAPICalled' && ['error', 'warning', 'assert'].includes(e.params.type)) ||
      e.method === 'Runtime.exceptionThrown' ||
      (e.method === 'Log.entryAdded' && ['error', 'warning'].includes(e.params.entry.level)) ||
      e.method === 'Page.javascriptDialogOpening',
  );
  const requests = mine.filter((e) => e.method === 'Network.requestWillBeSent').map((e) => e.params.request.url).filter((u) => u !== url);
  return { sessionId, targetId, page: result.value, problems, requests };
}

async function explainJson(args) {
  const r = await spawnCli(['explain', '--json', ...args], { timeoutMs: 60_000 });
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
  return JSON.parse(r.stdout);
}

/** The page's tables (as parsed by the browser) hold explain --json's numbers for the same logs. */
async function assertTablesAreExplain(page, args) {
  const [byVerdict, byRoute, byClient] = await Promise.all([explainJson(args), explainJson([...args, '--by=route']), explainJson([...args, '--by=client'])]);
  assert.deepEqual(page.embedded, { explain: byVerdict, routes: byRoute.groups, clients: byClient.groups });
  assert.deepEqual(page.tables.verdicts, ['server', 'network', 'client', 'mixed', 'unknown', 'ok'].map((v) => byVerdict.verdicts[v]));
  assert.deepEqual(page.tables.causes, Object.values(byVerdict.causes));
  const flat = (g) => {
    const { causes, ...rest } = g;
    return { ...rest, ...Object.fromEntries(Object.entries(causes).map(([c, v]) => [`causes.${c}`, v])) };
  };
  assert.deepEqual(page.tables.routes, byRoute.groups.map(flat));
  assert.deepEqual(page.tables.clients, byClient.groups.map(flat));
  assert.deepEqual(
    page.tables.slowest,
    byVerdict.slowest.map((s) => ({ verdict: s.verdict, time_us: s.time_us, time: s.time, client: s.client, evidence: s.evidence })),
  );
  return byVerdict;
}

test('the report in chromium with no network: no error, no request, every chart drawn with data, the tables of explain --json', { timeout: 240_000 }, async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root for unshare -n (a network namespace of its own); run the slow tier as root, as CI does');
    return;
  }
  const chromium = requireTool(t, 'chromium', 'chromium');
  const unshare = requireTool(t, 'unshare', 'util-linux');
  if (chromium === null || unshare === null) return;
  const dir = tempDir(t, 'tcpinfo-report-browser-');
  // TCPINFO_REPORT_LOGS=dir: the page of those logs (scripts/readme-report.mjs: the ground-truth suite's), else a
  // generated day of traffic.
  const given = process.env.TCPINFO_REPORT_LOGS;
  const log = path.join(dir, 'tcpinfo.log');
  const logs = given ? fs.readdirSync(given).filter((f) => f.endsWith('.log')).map((f) => path.join(given, f)) : [log];
  if (!given) execFileSync(process.execPath, [GENERATOR, '--lines=200000', `--out=${log}`]);
  const html = path.join(dir, 'report.html');
  const made = await spawnCli(['report', ...logs, '-o', html], { timeoutMs: 60_000 });
  assert.equal(made.code, 0, made.stderr);

  const hostileLog = path.join(dir, 'hostile.log');
  const url = `/x/</script><script>alert(1)</script>"'><img src=http://192.0.2.1/x onerror=alert(2)><!--`;
  const line = (time, client, u, verdict, judged) => JSON.stringify({
    time, event: 'txn_delivered', client, server: '10.0.0.1', url: u, route: `${u}<style>`, rtt: 30_000, total_retrans: 0,
    judged_us: judged, server_us: judged, client_us: 0, network_us: 0, duration_us: 1000, upload_us: 0, txn_retrans: 0, ended: 'acked', verdict,
  });
  fs.writeFileSync(hostileLog, [
    line('2026-12-01T10:00:00.000Z', '<img src=http://192.0.2.1/y onerror=alert(3)>', url, 'server', 900_000),
    line('2026-12-01T10:00:30.000Z', '192.0.2.8', '/ok', 'ok', 1_000),
  ].join('\n') + '\n');
  const hostileHtml = path.join(dir, 'hostile.html');
  const hostile = await spawnCli(['report', hostileLog, '-o', hostileHtml], { timeoutMs: 60_000 });
  assert.equal(hostile.code, 0, hostile.stderr);

  const profile = path.join(dir, 'profile');
  const cdp = chromiumCdp(t, [unshare, '-n', chromium], profile);

  const real = await open(cdp, html, 1100);
  assert.deepEqual(real.problems, [], 'no console error, exception or dialog');
  assert.deepEqual(real.requests, [], 'no request but the page itself');
  assert.equal(real.page.active, 0);
  const charts = Object.fromEntries(real.page.charts.map((c) => [c.name, c]));
  for (const name of ['verdicts', 'causes', 'rtt', 'retrans']) {
    const chart = charts[name];
    assert.ok(chart, `chart ${name} is on the page`);
    assert.equal(chart.tag, 'svg');
    assert.ok(chart.marks > 0 && chart.shapes > 0 && chart.width > 300 && chart.height > 40, JSON.stringify(chart));
  }
  const explained = await assertTablesAreExplain(real.page, logs);
  if (!given) assert.equal(explained.transactions, 100_000);
  assert.match(real.page.body, /How the logs were written/);

  // The whole page, for the README.
  const { contentSize } = await cdp.send('Page.getLayoutMetrics', {}, real.sessionId);
  const shot = await cdp.send(
    'Page.captureScreenshot',
    { format: 'png', captureBeyondViewport: true, clip: { x: 0, y: 0, width: 1100, height: Math.ceil(contentSize.height), scale: 1 } },
    real.sessionId,
  );
  const png = Buffer.from(shot.data, 'base64');
  assert.equal(png.subarray(1, 4).toString(), 'PNG');
  fs.writeFileSync(SCREENSHOT ?? path.join(dir, 'report.png'), png);

  const bad = await open(cdp, hostileHtml, 1100);
  assert.deepEqual(bad.problems, [], 'the hostile page: no console error, exception or dialog');
  assert.deepEqual(bad.requests, [], 'the hostile page: no request (its <img src=http://...> is text)');
  assert.equal(bad.page.active, 0, 'no element from the log');
  assert.ok(bad.page.body.includes(url), 'the path shown as text, as it is');
  assert.ok(bad.page.body.includes('<img src=http://192.0.2.1/y onerror=alert(3)>'), 'the client shown as text');
  assert.equal(bad.page.embedded.explain.slowest[0].url, url);
  await assertTablesAreExplain(bad.page, [hostileLog]);

  await cdp.send('Browser.close');
  await cdp.exited;
});
