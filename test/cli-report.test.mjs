// `tcpinfo report` as a subprocess, in a fresh temp dir: one self-contained HTML page. A hostile log (markup,
// quotes, `</script>`, `<!--` in paths, routes, addresses, event and column names, and in the file's name) is
// found escaped, with nothing that could run or fetch; the page's tables hold exactly the numbers of
// `tcpinfo explain --json` (--by=verdict, route, client) on the same logs and filters; the charts are SVG with
// data; a log without --explain gets the TCP charts and a word on what --explain adds; the time buckets stay
// bounded; gzip, rolled files, the default FILE, -o -.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { LEVEL2_HEADER, ROOT, spawnCli, tempDir } from './support/harness.mjs';

const GENERATOR = path.join(ROOT, 'bench', 'report-log.mjs');
const { LogHistogram, MAX_BUCKETS, TimeSeries } = await import('../dist/cli/report-stats.js');

async function report(args, options) {
  const r = await spawnCli(['report', ...args], { timeoutMs: 30_000, ...options });
  return r;
}

async function explainJson(args) {
  const r = await spawnCli(['explain', '--json', ...args], { timeoutMs: 30_000 });
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
  return JSON.parse(r.stdout);
}

function unescapeHtml(text) {
  return text.replace(/&(lt|gt|quot|#39|amp);/g, (_, e) => ({ lt: '<', gt: '>', quot: '"', '#39': "'", amp: '&' })[e]);
}

/** The numbers the page shows in its table `name`: per row, { key: value } from the cells' data-key and data-value. */
function tableRows(page, name) {
  const table = new RegExp(`<table data-table="${name}">([\\s\\S]*?)</table>`).exec(page);
  if (table === null) return null;
  return [...table[1].matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)]
    .map((row) => Object.fromEntries([...row[1].matchAll(/data-key="([^"]+)" data-value="([^"]*)"/g)].map((m) => [m[1], JSON.parse(unescapeHtml(m[2]))])))
    .filter((row) => Object.keys(row).length > 0);
}

/** The embedded numbers (the JSON block). */
function embedded(page) {
  const m = /<script type="application\/json" id="tcpinfo-explain">([\s\S]*?)<\/script>/.exec(page);
  assert.ok(m, 'the page embeds its numbers');
  return JSON.parse(m[1]);
}

/** Asserts the page's tables hold exactly what explain --json gives for `args` (files and filters). */
async function assertSameAsExplain(page, args) {
  const [byVerdict, byRoute, byClient] = await Promise.all([
    explainJson(args),
    explainJson([...args, '--by=route']),
    explainJson([...args, '--by=client']),
  ]);
  const data = embedded(page);
  assert.deepEqual(data.explain, byVerdict);
  assert.deepEqual(data.routes, byRoute.groups);
  assert.deepEqual(data.clients, byClient.groups);
  // What is shown, cell by cell.
  const verdicts = tableRows(page, 'verdicts');
  assert.deepEqual(verdicts, ['server', 'network', 'client', 'mixed', 'unknown', 'ok'].map((v) => byVerdict.verdicts[v]));
  assert.deepEqual(tableRows(page, 'causes'), Object.values(byVerdict.causes));
  const group = (g) => ({ ...g, causes: undefined, ...Object.fromEntries(Object.entries(g.causes).map(([c, v]) => [`causes.${c}`, v])) });
  const strip = (g) => JSON.parse(JSON.stringify(group(g)));
  if (byRoute.groups.some((g) => g.route !== null)) assert.deepEqual(tableRows(page, 'routes'), byRoute.groups.map(strip));
  assert.deepEqual(tableRows(page, 'clients'), byClient.groups.map(strip));
  assert.deepEqual(
    tableRows(page, 'slowest'),
    byVerdict.slowest.map((t) => ({ verdict: t.verdict, time_us: t.time_us, time: t.time, client: t.client, evidence: t.evidence })),
  );
  return byVerdict;
}

const HOSTILE_URL = `/x/</script><script>alert(1)</script>/"'><img src=x onerror=alert(2)><!--`;
const HOSTILE_ROUTE = '/r/<svg onload=alert(3)>/</style><!--';
const HOSTILE_CLIENT = '<b onmouseover=alert(4)>"\'</b>';

/** JSON lines written with --explain --log-url, every string a log can choose made hostile. */
function hostileLog(dir) {
  const file = path.join(dir, `tc<p>info&"'.log`);
  const delivered = (time, client, url, route, verdict, judged, shares) => JSON.stringify({
    time, event: 'txn_delivered', client, client_port: 5000, server: '10.0.0.1', server_port: 80, conn: 'c1', method: 'GET<i>',
    status: 200, url, ...(route === undefined ? {} : { route }), rtt: 30_000, min_rtt: 20_000, total_retrans: 1,
    '</script><!--col': 7,
    ttfb_us: 1000, end_us: 2000, duration_us: 3000, delivered_us: judged, judged_us: judged, server_us: shares[0], client_us: shares[1],
    network_us: shares[2], upload_us: 0, ack_delay_us: 0, resp_bytes: 100_000, txn_retrans: 3, txn_busy_us: judged - 2000,
    txn_rwnd_limited_us: 0, txn_sndbuf_limited_us: 0, wnd_limited_us: 0, flow_held_us: 0, unsent_bytes: 0, min_rtt_us: 20_000,
    ended: 'acked', shared: false, verdict,
  });
  fs.writeFileSync(file, [
    delivered('2026-12-01T10:00:00.000Z', '192.0.2.7', HOSTILE_URL, HOSTILE_ROUTE, 'network', 900_000, [2000, 0, 898_000]),
    delivered('2026-12-01T10:00:05.000Z', HOSTILE_CLIENT, `${HOSTILE_URL}?q=<b>`, undefined, 'server', 700_000, [690_000, 0, 10_000]),
    delivered('2026-12-01T10:00:09.000Z', '2001:db8::7', '/ok/123', undefined, 'ok', 20_000, [1000, 0, 19_000]),
    JSON.stringify({ time: '2026-12-01T10:00:10.000Z', event: '<svg/onload=alert(5)>', client: '192.0.2.9', server: '10.0.0.1', rtt: 1 }),
  ].join('\n') + '\n');
  return file;
}

test('a hostile log: every string from it escaped, nothing that runs or fetches, the CSP forbids both', async (t) => {
  const dir = tempDir(t);
  const log = hostileLog(dir);
  const out = path.join(dir, 'r.html');
  const r = await report([log, '-o', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /wrote .*r\.html/);
  const page = fs.readFileSync(out, 'utf8');
  assert.match(page, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">/);
  // One script element, the JSON data block; no markup from the log.
  assert.equal(page.match(/<script/gi).length, 1);
  assert.equal(page.match(/<\/script/gi).length, 1);
  assert.doesNotMatch(page, /<!--/);
  for (const tag of [/<img/i, /<svg onload/i, /<svg\/onload/i, /<b[ >]/i, /GET<i>/, /tc<p>/, /<\/style><!--/, /onerror=alert\(2\)>/, /<\/b>/]) {
    assert.doesNotMatch(page, tag);
  }
  // Each is on the page, escaped: the path (slowest table), the route (routes table), the client, the file name, event and column names.
  assert.ok(page.includes('/x/&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;/&quot;&#39;&gt;&lt;img src=x onerror=alert(2)&gt;&lt;!--'));
  assert.ok(page.includes('<code>/r/&lt;svg onload=alert(3)&gt;/&lt;/style&gt;&lt;!--</code>'));
  assert.ok(page.includes('&lt;b onmouseover=alert(4)&gt;&quot;&#39;&lt;/b&gt;'));
  assert.ok(page.includes('tc&lt;p&gt;info&amp;&quot;&#39;.log'));
  assert.ok(page.includes('<code>&lt;svg/onload=alert(5)&gt;</code> 1'));
  assert.ok(page.includes('&lt;/script&gt;&lt;!--col'));
  // The embedded JSON gives the strings back as they were.
  const data = embedded(page);
  assert.equal(data.explain.slowest[0].url, HOSTILE_URL);
  assert.equal(data.routes[0].route, HOSTILE_ROUTE);
  await assertSameAsExplain(page, [log]);
});

test('control characters in a log are shown escaped, as the text reports show them', async (t) => {
  const dir = tempDir(t);
  const log = path.join(dir, 'tcpinfo.log');
  fs.writeFileSync(log, JSON.stringify({
    time: '2026-12-01T10:00:00.000Z', event: 'txn_delivered', client: '192.0.2.7', server: '10.0.0.1', url: '/a\x1b]0;x\x07/\u202efdp.exe',
    judged_us: 400_000, server_us: 400_000, client_us: 0, network_us: 0, duration_us: 1, upload_us: 0, ended: 'acked', verdict: 'server',
  }) + '\n');
  const r = await report([log, '-o', '-']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.includes('/a\\x1b]0;x\\x07/\\u202efdp.exe'));
  for (const raw of ['\x1b', '\x07', '\u202e']) assert.ok(!r.stdout.includes(raw));
});

test('the tables are explain --json, with filters too; the charts are SVG with data', async (t) => {
  const dir = tempDir(t);
  const log = path.join(dir, 'tcpinfo.log');
  execFileSync(process.execPath, [GENERATOR, '--lines=6000', `--out=${log}`, '--hours=6']);
  const out = path.join(dir, 'r.html');
  const r = await report([log, '-o', out, '--top=7']);
  assert.equal(r.code, 0, r.stderr);
  const page = fs.readFileSync(out, 'utf8');
  const explain = await assertSameAsExplain(page, [log, '--top=7']);
  assert.equal(explain.transactions, 3000);
  assert.equal(tableRows(page, 'slowest').length, 7);
  assert.equal(tableRows(page, 'routes').length, 7);
  // Every chart, with data: the verdicts' bars add up to the transactions.
  for (const chart of ['verdicts', 'causes', 'rtt', 'retrans']) {
    const m = new RegExp(`<svg class="chart" data-chart="${chart}" data-marks="(\\d+)"`).exec(page);
    assert.ok(m && Number(m[1]) > 0, `chart ${chart} has data`);
  }
  const counts = [...page.matchAll(/data-verdict="\w+" data-count="(\d+)"/g)].reduce((sum, m) => sum + Number(m[1]), 0);
  assert.equal(counts, 3000);
  assert.match(page, /data-line="min_rtt p50"/);
  assert.match(page, /data-line="readings with all_retrans &gt; 0"|data-line="readings with all_retrans > 0"/);
  assert.match(page, /Columns: <code>--fields=rtt,min_rtt,snd_cwnd,total_retrans<\/code>/);
  assert.match(page, /--sample-rate<\/code>\) is not written in a log/);
  assert.ok(Buffer.byteLength(page) < 3 * 1024 * 1024);

  // The same filters as explain: a subnet, a time window.
  const filters = ['--client=198.0.0.0/8', '--since=2026-11-23T01:00:00', '--until=2026-11-23T04:00:00'];
  const filtered = await report([log, '-o', '-', ...filters]);
  assert.equal(filtered.code, 0, filtered.stderr);
  const narrow = await assertSameAsExplain(filtered.stdout, [log, ...filters]);
  assert.ok(narrow.transactions > 0 && narrow.transactions < 3000);
  assert.ok(filtered.stdout.includes('Filters: <code>--since=2026-11-23T01:00:00 --until=2026-11-23T04:00:00 --client=198.0.0.0/8</code>'));
});

test('a log without --explain: the TCP charts, and what --explain adds', async (t) => {
  const dir = tempDir(t);
  const lines = [LEVEL2_HEADER];
  for (let i = 0; i < 120; i++) {
    const time = `20261201.10h${String(Math.floor(i / 60)).padStart(2, '0')}m${String(i % 60).padStart(2, '0')}s`;
    lines.push(`${time} txn_close 192.0.2.${i % 5} 10.0.0.1 ${1000 + i * 10} 50 0 0 10 2147483647 64000 0 0 0 0 0 ${i % 4 === 0 ? 1 : 0} 1 2`);
  }
  // Gzipped, and a rolled file: both read, in time order.
  const rolled = path.join(dir, 'tcpinfo.log_web1.20261201.00h00m00s-20261201.10h01m00s.old.gz');
  fs.writeFileSync(rolled, gzipSync(lines.slice(0, 61).join('\n') + '\n'));
  fs.writeFileSync(path.join(dir, 'tcpinfo.log'), [LEVEL2_HEADER, ...lines.slice(61)].join('\n') + '\n');
  // No FILE: ./tcpinfo.log, into ./tcpinfo-report.html.
  const live = await report([], { cwd: dir });
  assert.equal(live.code, 0, live.stderr);
  const page = fs.readFileSync(path.join(dir, 'tcpinfo-report.html'), 'utf8');
  assert.match(page, /data-readings="60"/);
  const both = await report([rolled, path.join(dir, 'tcpinfo.log'), '-o', '-']);
  assert.equal(both.code, 0, both.stderr);
  assert.match(both.stdout, /data-readings="120"/);
  assert.match(both.stdout, /<p class="note" data-no-explain>These logs have no verdict lines\. Written with <code>--explain<\/code>/);
  assert.doesNotMatch(both.stdout, /data-chart="verdicts"|data-table="slowest"/);
  for (const chart of ['rtt', 'retrans']) assert.match(both.stdout, new RegExp(`data-chart="${chart}" data-marks="[1-9]`));
  assert.match(both.stdout, /Columns: level 2/);
  assert.match(both.stdout, /Format: Traffic Server text \(120 lines\)/);
  assert.match(both.stdout, /hooks: <code>--hooks=txn_close<\/code>/);
  assert.match(both.stdout, /Without <code>--explain<\/code>/);
  // A file that cannot be read: said, exit 1, the page of the others still made.
  const missing = await report([path.join(dir, 'tcpinfo.log'), path.join(dir, 'nope.log'), '-o', path.join(dir, 'm.html')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope\.log: cannot read \(ENOENT\)/);
  assert.match(fs.readFileSync(path.join(dir, 'm.html'), 'utf8'), /Could not be read: <code>[^<]*nope\.log<\/code>/);
  // Usage errors: exit 2.
  assert.equal((await report(['--top=x'])).code, 2);
  assert.equal((await report(['--bogus'])).code, 2);
});

test('time buckets stay at most MAX_BUCKETS over any span; percentiles within 0.5%', () => {
  const series = new TimeSeries();
  const start = Date.UTC(2026, 0, 1);
  let n = 0;
  // 40 days, a reading every 7 minutes, in order; then some out of order.
  for (let ms = 0; ms < 40 * 86_400_000; ms += 7 * 60_000, n++) {
    series.addReading({ time: start + ms, number: (name) => (name === 'rtt' ? 1000 + (n % 50) : undefined) });
  }
  series.addReading({ time: start - 86_400_000, number: () => undefined });
  const buckets = series.series();
  assert.ok(buckets.length <= MAX_BUCKETS && buckets.length > MAX_BUCKETS / 4, `${buckets.length} buckets`);
  assert.equal(buckets.reduce((sum, b) => sum + b.bucket.readings, 0), n + 1);

  const h = new LogHistogram();
  const values = [];
  for (let i = 0; i < 10_000; i++) {
    const v = Math.floor(Math.exp(Math.sin(i) * 8 + 9));
    values.push(v);
    h.add(v);
  }
  values.sort((a, b) => a - b);
  const ps = [1, 50, 90, 99, 100];
  h.percentiles(ps).forEach((got, i) => {
    const exact = values[Math.max(0, Math.ceil((ps[i] / 100) * values.length) - 1)];
    assert.ok(Math.abs(got - exact) <= Math.max(0.5, exact * 0.0051), `p${ps[i]}: ${got} against ${exact}`);
  });
});
