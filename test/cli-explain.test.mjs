// `tcpinfo explain` as a subprocess, on logs with the --explain columns (text and JSON lines), in a fresh
// temp dir: the per-verdict counts and shares of slow time, the slowest transactions with their evidence
// in words, the client networks, the filters, --json, escaping, and exit 1 for a log without --explain.
// Logs as written since verdicts are judged at delivery (txn_delivered lines: the shares by cause, how
// delivery ended, --by, --verdict), and as written before (the verdict on txn_close lines).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { LEVEL2_HEADER, tempDir } from './support/harness.mjs';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
/** The --explain columns of logs written before verdicts moved to txn_delivered. */
const EXPLAIN_COLUMNS =
  'ttfb_us duration_us resp_bytes txn_retrans txn_busy_us txn_rwnd_limited_us txn_sndbuf_limited_us txn_app_limited_us unsent_bytes unacked_segs verdict';

function cli(args) {
  const r = spawnSync(process.execPath, [CLI, 'explain', ...args], { encoding: 'utf8', timeout: 10_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A level-2 text line: ATS columns (rtt first), then the explain columns. */
function textLine(time, event, client, rtt, explain) {
  const level2 = [rtt, 50, 0, 0, 10, 2147483647, 64000, 0, 0, 0, 0, 0, 0, 1, 2];
  return [time, event, client, '10.0.0.1', ...level2, ...explain].join(' ');
}
const DASHES = Array(11).fill('-');

function textLog(dir) {
  const file = path.join(dir, 'tcpinfo.log');
  fs.writeFileSync(file, [
    `${LEVEL2_HEADER} ${EXPLAIN_COLUMNS}`,
    textLine('20261201.10h00m00s', 'txn_start', '192.0.2.7', 40, DASHES),
    // server: 301 ms of 308 before the first byte
    textLine('20261201.10h00m01s', 'txn_close', '192.0.2.7', 40, [301000, 308000, 1149, 0, 0, 0, 0, 7000, 0, 0, 'server']),
    // client: receive window 1428 of 1575 ms of transfer
    textLine('20261201.10h00m02s', 'txn_close', '198.51.100.9', 30000, [248, 1575000, 4194432, 4, 1576000, 1428000, 0, 0, 2424192, 1, 'client']),
    // network: busy all along, 342 retransmissions
    textLine('20261201.10h00m03s', 'txn_close', '198.51.100.20', 17950, [348, 4416330, 4287104, 342, 4416000, 0, 0, 0, 135688, 16, 'network']),
    textLine('20261201.10h00m04s', 'txn_close', '192.0.2.8', 20, [70, 3300, 1149, 0, 0, 0, 0, 3230, 0, 0, 'ok']),
    textLine('20261201.10h00m05s', 'ssn_close', '192.0.2.8', 20, DASHES),
  ].join('\n') + '\n');
  return file;
}

test('text log: per verdict count and share of slow time, the slowest with evidence in words, the client networks', (t) => {
  const { code, stdout, stderr } = cli([textLog(tempDir(t))]);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /4 explained transactions/);
  assert.match(stdout, /^server\s+1\s+5%$/m);
  assert.match(stdout, /^network\s+1\s+70%$/m);
  assert.match(stdout, /^client\s+1\s+25%$/m);
  assert.match(stdout, /^ok\s+1\s+-$/m);
  // Old lines have no shares: the whole duration goes to the verdict's cause.
  assert.match(stdout, /^cause\s+share of slow time\nserver\s+5%\nclient\s+25%\nnetwork\s+70%$/m);
  assert.doesNotMatch(stdout, /delivered means/, 'old lines were judged at the hand-off');
  // Slowest first: network, client, server (ok is not slow).
  const order = [...stdout.matchAll(/^\d+\. (\w+)/gm)].map((m) => m[1]);
  assert.deepEqual(order, ['network', 'client', 'server']);
  assert.match(stdout, /receive window limited 91% of the transfer; 4 retransmissions; 2\.3MiB still unsent at close/);
  assert.match(stdout, /network limited 100% of the transfer; 342 retransmissions; rtt 17\.9 ms/);
  assert.match(stdout, /first byte after 301\.0 ms: 98% of the transaction/);
  assert.match(stdout, /ttfb 0\.248 ms, transfer 1574\.8 ms, 4\.0MiB/);
  assert.match(stdout, /^198\.51\.100\.0\/24\s+1\s+1\s+2$/m);
  assert.doesNotMatch(stdout, /^192\.0\.2\.0\/24/m, 'a network without network or client verdicts is not listed');
});

test('--client and --since filter the transactions; --top bounds the lists', (t) => {
  const file = textLog(tempDir(t));
  const one = cli([file, '--client=198.51.100.0/24', '--top=1']);
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout, /2 explained transactions/);
  assert.deepEqual([...one.stdout.matchAll(/^\d+\. (\w+)/gm)].map((m) => m[1]), ['network']);
  const later = cli([file, '--since=20261201.10h00m03s']);
  assert.match(later.stdout, /2 explained transactions/);
  assert.equal(cli([file, '--since=yesterday-ish']).code, 2);
});

test('JSON lines: --json has the verdicts, the rule and evidence, the request; control characters in a path are escaped in text', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'tcpinfo.json.log');
  const base = { client: '2001:db8:aa:1::5', client_port: 5000, server: '::1', server_port: 80, conn: 'c1', method: 'GET', status: 200, rtt: 30 };
  fs.writeFileSync(file, [
    { time: '2026-12-01T10:00:00.000Z', event: 'txn_start', ...base },
    {
      time: '2026-12-01T10:00:01.000Z', event: 'txn_close', ...base, url: '/big\u001b[2J',
      ttfb_us: 200, duration_us: 900_000, resp_bytes: 4_000_000, txn_retrans: 0, txn_busy_us: 900_000,
      txn_rwnd_limited_us: 800_000, txn_sndbuf_limited_us: 0, txn_app_limited_us: 0, unsent_bytes: 0, unacked_segs: 0, verdict: 'client',
    },
  ].map((o) => JSON.stringify(o)).join('\n') + '\n');
  const text = cli([file]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /GET \/big\\x1b\[2J 200/);
  // eslint-disable-next-line no-control-regex -- ESC is what this looks for
  assert.doesNotMatch(text.stdout, /\x1b\[2J/);
  assert.match(text.stdout, /^2001:db8:aa::\/48\s+0\s+1\s+1$/m);
  const json = JSON.parse(cli([file, '--json']).stdout);
  assert.equal(json.transactions, 1);
  assert.deepEqual(json.verdicts.client, { transactions: 1, time_us: 900_000, slow_time_share: 1 });
  assert.equal(json.old_format_transactions, 1);
  assert.deepEqual(json.causes.client, { time_us: 900_000, share: 1 });
  assert.equal(json.slowest[0].event, 'txn_close');
  assert.equal(json.slowest[0].rule, 'rwnd');
  assert.equal(json.slowest[0].evidence, 'receive window limited 89% of the transfer');
  assert.equal(json.slowest[0].transfer_us, 899_800);
  assert.equal(json.slowest[0].url, '/big\u001b[2J');
  assert.deepEqual(json.networks, [{ network: '2001:db8:aa::/48', network_verdicts: 0, client_verdicts: 1, transactions: 1 }]);
});

test('a JSON line nested 200,000 deep is skipped and counted, not explained', (t) => {
  const file = path.join(tempDir(t), 'deep.log');
  const close = { time: '2026-12-01T10:00:01.000Z', event: 'txn_close', client: '192.0.2.7', server: '10.0.0.1', rtt: 30, ttfb_us: 200, duration_us: 900_000, verdict: 'server' };
  const deep = JSON.stringify(close).slice(0, -1) + `,"x":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
  fs.writeFileSync(file, [JSON.stringify(close), deep, ''].join('\n'));
  for (const args of [[file], [file, '--json']]) {
    const { code, stdout, stderr } = cli(args);
    assert.equal(code, 0, stderr);
    assert.equal(stderr, 'tcpinfo explain: skipped 1 lines that are not tcpinfo readings\n');
    assert.match(stdout, args.length === 1 ? /1 explained transactions / : /"transactions": 1,/);
  }
});

test('a hand-written log: negative times counted as 0 (and said on stderr), shares within [0, 1] and rounded', (t) => {
  const file = path.join(tempDir(t), 'hand.log');
  const base = { client: '192.0.2.7', server: '10.0.0.1', rtt: 30, resp_bytes: 1000, txn_retrans: 0, txn_busy_us: 0, txn_rwnd_limited_us: 0, txn_sndbuf_limited_us: 0, txn_app_limited_us: 0, unsent_bytes: 0, unacked_segs: 0 };
  fs.writeFileSync(file, [
    { time: '2026-12-01T10:00:01.000Z', event: 'txn_close', ...base, ttfb_us: 1000, duration_us: 1000, verdict: 'server' },
    { time: '2026-12-01T10:00:02.000Z', event: 'txn_close', ...base, ttfb_us: -5000, duration_us: -1, verdict: 'network' },
    // The first byte after the end, chronographs longer than the transfer: parts past their whole.
    { time: '2026-12-01T10:00:03.000Z', event: 'txn_close', ...base, ttfb_us: 900, duration_us: 200, verdict: 'mixed' },
    { time: '2026-12-01T10:00:04.000Z', event: 'txn_close', ...base, ttfb_us: 100, duration_us: 0.3, txn_busy_us: -7, verdict: 'client' },
  ].map((o) => JSON.stringify(o)).join('\n') + '\n');
  const json = cli([file, '--json']);
  assert.equal(json.code, 0, json.stderr);
  assert.equal(json.stderr, 'tcpinfo explain: 2 transactions had negative times (duration, ttfb, chronographs or rtt), counted as 0\n');
  const report = JSON.parse(json.stdout);
  assert.equal(report.slow_time_us, 1200.3);
  const shares = Object.fromEntries(Object.entries(report.verdicts).map(([verdict, v]) => [verdict, v.slow_time_share]));
  // 1000 / 1200.3 and 200 / 1200.3, to six places; nothing below 0 or above 1.
  assert.deepEqual(shares, { server: 0.833125, network: 0, client: 0.00025, mixed: 0.166625, unknown: 0, ok: null });
  assert.equal(report.verdicts.network.time_us, 0);
  for (const txn of report.slowest) {
    for (const [key, value] of Object.entries(txn)) if (typeof value === 'number') assert.ok(value >= 0, `${txn.verdict} ${key} ${value}`);
  }
  const text = cli([file]);
  assert.equal(text.stderr, json.stderr);
  assert.doesNotMatch(text.stdout, / -\d|\b(?!100%)\d{3,}%/, 'no negative figure, no share past 100%');
  assert.match(text.stdout, /^server\s+1\s+83%$/m);
  assert.match(text.stdout, /first byte 100% of the time/);
});

test('a file with no explained transactions: exit 1, saying to enable --explain; the others are still reported', (t) => {
  const dir = tempDir(t);
  const plain = path.join(dir, 'plain.log');
  fs.writeFileSync(plain, `${LEVEL2_HEADER}\n` + textLine('20261201.10h00m00s', 'txn_close', '192.0.2.7', 40, []).trim() + '\n');
  const { code, stdout, stderr } = cli([plain, textLog(dir)]);
  assert.equal(code, 1);
  assert.match(stderr, /plain\.log: no explained transactions .*--explain/);
  assert.match(stdout, /4 explained transactions/);
  const alone = cli([plain]);
  assert.equal(alone.code, 1);
  assert.match(alone.stdout, /no explained transactions/);
});

/** The --explain columns since verdicts are judged at delivery: `-` on every line but txn_delivered. */
const DELIVERY_COLUMNS =
  'ttfb_us end_us duration_us delivered_us judged_us server_us client_us network_us upload_us ack_delay_us resp_bytes txn_retrans ' +
  'txn_busy_us txn_rwnd_limited_us txn_sndbuf_limited_us wnd_limited_us flow_held_us unsent_bytes min_rtt_us ended shared verdict';
const DELIVERY_DASHES = Array(22).fill('-');

function deliveryTextLog(dir) {
  const file = path.join(dir, 'delivery.log');
  fs.writeFileSync(file, [
    `${LEVEL2_HEADER} ${DELIVERY_COLUMNS}`,
    textLine('20261201.10h00m00s', 'txn_start', '192.0.2.7', 40, DELIVERY_DASHES),
    // The hand-off: no verdict yet.
    textLine('20261201.10h00m01s', 'txn_close', '192.0.2.7', 40, DELIVERY_DASHES),
    // mixed: the app ended after 1.5 s, then 2.2 s draining with 344 retransmissions.
    textLine('20261201.10h00m04s', 'txn_delivered', '192.0.2.7', 7900,
      [1900, 1500000, 1520000, 3702000, 3700000, 1500000, 0, 2200000, 0, 2000, 4300000, 344, 2200000, 0, 0, 0, 0, 122000, 25, 'acked', 0, 'mixed']),
    // client: the receive window held the sender 1.43 s.
    textLine('20261201.10h00m05s', 'txn_delivered', '198.51.100.9', 30000,
      [250, 300, 1575000, 1580000, 1579000, 300, 1428000, 150700, 0, 1000, 4194432, 4, 1576000, 1428000, 0, 0, 0, 2424192, 20000, 'acked', 0, 'client']),
    // network: never acknowledged; the follow-up gave up after 9 s.
    textLine('20261201.10h00m09s', 'txn_delivered', '198.51.100.20', 17950,
      [348, 400, 4416330, '-', 9000000, 400, 0, 8999600, 0, '-', 4287104, 342, 9000000, 0, 0, 0, 0, 0, 30, 'gave_up', 0, 'network']),
    textLine('20261201.10h00m09s', 'txn_delivered', '192.0.2.8', 20,
      [70, 80, 3300, 3400, 3400, 80, 0, 3320, 0, 0, 1149, 0, 3000, 0, 0, 0, 0, 0, 20, 'acked', 0, 'ok']),
  ].join('\n') + '\n');
  return file;
}

test('txn_delivered text lines: verdicts on judged time, the shares by cause, evidence naming every cause above 10%, gave_up', (t) => {
  const { code, stdout, stderr } = cli([deliveryTextLog(tempDir(t))]);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^1 file, 4 explained transactions .*; 3 slow or not judged, 14279\.0 ms in all$/m);
  // What it cannot see, once, under the first line.
  assert.equal(stdout.match(/TCP handshake and TLS setup/g)?.length, 1);
  assert.match(stdout, /proxy or load balancer in front/);
  assert.match(stdout, /delivered means in the client's kernel, not yet read by its app/);
  // judged_us per verdict over 14,279 ms of slow time: 9000 network, 1579 client, 3700 mixed.
  assert.match(stdout, /^network\s+1\s+63%$/m);
  assert.match(stdout, /^client\s+1\s+11%$/m);
  assert.match(stdout, /^mixed\s+1\s+26%$/m);
  assert.match(stdout, /^ok\s+1\s+-$/m);
  // server_us, client_us, network_us summed over the slow ones: 1500.7, 1428, 11350.3 ms.
  assert.match(stdout, /^cause\s+share of slow time\nserver\s+11%\nclient\s+10%\nnetwork\s+79%$/m);
  assert.deepEqual([...stdout.matchAll(/^\d+\. (\w+)/gm)].map((m) => m[1]), ['network', 'mixed', 'client']);
  // The mixed one names both of its causes, with what shows each.
  assert.match(
    stdout,
    /^ {3}server 41% \(the app ended the response after 1\.50 s\), network 59% \(2\.20 s draining: 344 retransmissions, rtt 7\.9 ms against a minimum of 0\.03 ms\); 119\.1KiB still unsent at the hand-off$/m,
  );
  assert.match(stdout, /^ {3}ttfb 1\.9 ms, end 1500\.0 ms, hand-off 1520\.0 ms, delivered 3702\.0 ms, judged 3700\.0 ms \(less a delayed ACK of 2\.0 ms\), 4\.1MiB$/m);
  assert.match(stdout, /^ {3}client 90% \(receive window limited 1\.43 s\); 2\.3MiB still unsent at the hand-off$/m);
  assert.match(stdout, /not delivered \(gave_up\), judged 9000\.0 ms/);
  // rtt 18 ms against 0.03: queueing, where the client did not hold its window; 7.9 ms (the mixed one) is under 4 x min + 10 ms.
  assert.match(stdout, /network 100% \(9\.00 s draining: 342 retransmissions, rtt 18 ms against a minimum of 0\.03 ms: queueing\); the client had not acknowledged the last byte after 9\.00 s: gave up$/m);
  assert.match(stdout, /^198\.51\.100\.0\/24\s+1\s+1\s+2$/m);
});

test('an old log (verdicts on txn_close) and a new one (txn_delivered) read together', (t) => {
  const dir = tempDir(t);
  const { code, stdout, stderr } = cli([textLog(dir), deliveryTextLog(dir), '--json']);
  assert.equal(code, 0, stderr);
  const report = JSON.parse(stdout);
  assert.equal(report.transactions, 8);
  assert.equal(report.old_format_transactions, 4);
  // Old: 308 ms server, 1575 client, 4416.33 network (whole durations); new: the shares.
  assert.equal(report.causes.server.time_us, 308_000 + 1_500_700);
  assert.equal(report.causes.network.time_us, 4_416_330 + 11_350_300);
  assert.equal(report.causes.unsplit.time_us, 0);
  assert.deepEqual(report.slowest.map((s) => [s.event, s.verdict]), [
    ['txn_delivered', 'network'], ['txn_close', 'network'], ['txn_delivered', 'mixed'], ['txn_delivered', 'client'], ['txn_close', 'client'], ['txn_close', 'server'],
  ]);
  assert.equal(report.slowest[1].rule, 'network-limited');
  assert.equal(report.slowest[1].ended, null);
});

function deliveryJsonLog(dir) {
  const file = path.join(dir, 'delivery.json.log');
  const base = { client: '2001:db8:aa:1::5', client_port: 5000, server: '::1', server_port: 443, conn: 'c1', method: 'GET', status: 200, rtt: 30 };
  const delivered = (time, url, columns, extra = {}) => ({
    time, event: 'txn_delivered', ...base, url, ...extra,
    ttfb_us: 100, end_us: 200, duration_us: 300, delivered_us: 400, judged_us: 400, server_us: 200, client_us: 0, network_us: 200,
    upload_us: 0, ack_delay_us: 0, resp_bytes: 1000, txn_retrans: 0, txn_busy_us: 300, txn_rwnd_limited_us: 0, txn_sndbuf_limited_us: 0,
    wnd_limited_us: 0, flow_held_us: 0, unsent_bytes: 0, min_rtt_us: 20, ended: 'acked', shared: false, verdict: 'ok', ...columns,
  });
  fs.writeFileSync(file, [
    { time: '2026-12-01T10:00:00.000Z', event: 'txn_start', ...base, url: '/users/42/orders/7' },
    // The hand-off: no explain keys in JSON.
    { time: '2026-12-01T10:00:00.600Z', event: 'txn_close', ...base, url: '/users/42/orders/7' },
    delivered('2026-12-01T10:00:01.000Z', '/users/42/orders/7',
      { end_us: 600_000, duration_us: 600_100, delivered_us: 700_000, judged_us: 700_000, server_us: 600_000, network_us: 100_000, verdict: 'server' }),
    // HTTP/2, sharing the connection; its query string is no part of the route.
    delivered('2026-12-01T10:00:02.000Z', '/users/43/orders/8?token=x',
      { end_us: 100, duration_us: 200, delivered_us: 500_000, judged_us: 500_000, server_us: 100, client_us: 400_000, network_us: 99_900, flow_held_us: 390_000, shared: true, verdict: 'client' },
      { stream: 5 }),
    // The framework's route wins over the path; the connection closed before the last byte was acknowledged.
    delivered('2026-12-01T10:00:03.000Z', '/files/0123456789abcdef0123',
      { delivered_us: null, judged_us: 300_000, server_us: 100, network_us: 299_900, ended: 'closed', verdict: 'network' },
      { route: '/files/:name\u001b[2J' }),
    delivered('2026-12-01T10:00:04.000Z', '/a/123E4567-E89B-12D3-A456-426614174000', {}),
    delivered('2026-12-01T10:00:05.000Z', '/a/3F2504E0-4F89-11D3-9A0C-0305E82C3301', {}),
  ].map((o) => JSON.stringify(o)).join('\n') + '\n');
  return file;
}

test('--by=route: the route key, else the path with ids folded (numbers, UUIDs, long hex) and no query; per route the shares by cause', (t) => {
  const file = deliveryJsonLog(tempDir(t));
  const text = cli([file, '--by=route']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^route\s+transactions\s+slow\s+slow time\s+server\s+client\s+network$/m);
  // 600 + 100 ms server, 400 client, 200 network of 1200 ms.
  assert.match(text.stdout, /^\/users\/:id\/orders\/:id\s+2\s+2\s+1200\.0 ms\s+50%\s+33%\s+17%$/m);
  assert.match(text.stdout, /^\/files\/:name\\x1b\[2J\s+1\s+1\s+300\.0 ms\s+0%\s+0%\s+100%$/m);
  assert.match(text.stdout, /^\/a\/:id\s+2\s+0\s+0\.000 ms\s+-\s+-\s+-$/m);
  assert.doesNotMatch(text.stdout, /^\/.*token/m, 'the query string is no part of a route');
  assert.doesNotMatch(text.stdout, /client networks with the most/, '--by=route shows routes instead');
  assert.match(text.stdout, /client 80% \(HTTP\/2 flow control held the data 390 ms\), network 20% \(100 ms of 500 ms draining[^)]*\); HTTP\/2: sibling streams shared the connection/);
  assert.match(text.stdout, /not delivered \(closed\).*\n.*the connection closed before the client acknowledged the last byte \(after 300 ms\)$/m);
  assert.match(text.stdout, /GET \/files\/0123456789abcdef0123 200 \(route \/files\/:name\\x1b\[2J\)/);
  // --top bounds the routes.
  assert.match(cli([file, '--by=route', '--top=1']).stdout, /^\/users\/:id\/orders\/:id .*\n\(2 more; --top=N shows more\)$/m);

  const report = JSON.parse(cli([file, '--by=route', '--json']).stdout);
  assert.equal(report.by, 'route');
  assert.deepEqual(report.groups[0], {
    route: '/users/:id/orders/:id', transactions: 2, slow: 2, slow_time_us: 1_200_000,
    causes: { server: 0.500083, client: 0.333333, network: 0.166583, unsplit: 0 },
  });
  assert.equal(report.groups[1].route, '/files/:name\u001b[2J');
  assert.deepEqual(report.causes.client, { time_us: 400_000, share: 0.266667 });
  const [server, client, network] = report.slowest;
  assert.equal(server.delivered_us, 700_000);
  assert.equal(server.evidence, 'server 86% (the app ended the response after 600 ms), network 14% (100 ms draining: rtt 0.03 ms against a minimum of 0.02 ms)');
  assert.deepEqual([client.shared, client.stream, client.ended, client.flow_held_us], [true, 5, 'acked', 390_000]);
  assert.deepEqual([network.ended, network.delivered_us, network.route, network.rule], ['closed', null, '/files/:name\u001b[2J', null]);
});

test('--by=route without paths says what routes need; --by=client groups by network; --verdict filters and is validated', (t) => {
  const dir = tempDir(t);
  const text = deliveryTextLog(dir);
  const noRoutes = cli([text, '--by=route']);
  assert.equal(noRoutes.code, 0, noRoutes.stderr);
  assert.match(noRoutes.stdout, /routes need JSON lines with the path, written with --format=json --log-url$/m);
  const noRoutesJson = cli([text, '--by=route', '--json']);
  assert.match(noRoutesJson.stderr, /--by=route: .*--format=json --log-url/);
  assert.deepEqual(JSON.parse(noRoutesJson.stdout).groups, []);

  const byClient = cli([text, '--by=client']);
  assert.match(byClient.stdout, /^network\s+transactions\s+slow\s+slow time\s+server\s+client\s+network$/m);
  assert.match(byClient.stdout, /^198\.51\.100\.0\/24\s+2\s+2\s+10579\.0 ms\s+0%\s+13%\s+86%$/m);
  assert.match(byClient.stdout, /^192\.0\.2\.0\/24\s+2\s+1\s+3700\.0 ms\s+41%\s+0%\s+59%$/m);

  const only = cli([text, '--verdict=client, mixed']);
  assert.equal(only.code, 0, only.stderr);
  assert.match(only.stdout, /2 explained transactions/);
  assert.deepEqual([...only.stdout.matchAll(/^\d+\. (\w+)/gm)].map((m) => m[1]), ['mixed', 'client']);
  const json = JSON.parse(cli([text, '--verdict=network', '--json', '--by=verdict']).stdout);
  assert.equal(json.transactions, 1);
  assert.deepEqual(json.groups.map((g) => [g.verdict, g.transactions]), [['server', 0], ['network', 1], ['client', 0], ['mixed', 0], ['unknown', 0], ['ok', 0]]);

  for (const [args, message] of [
    [['--verdict=slow'], /--verdict=slow: unknown verdict slow; allowed: unknown, ok, server, client, network, mixed/],
    [['--verdict='], /--verdict=: unknown verdict \(none given\)/],
    [['--by=url'], /--by=url: allowed: verdict, route, client/],
  ]) {
    const bad = cli([text, ...args]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, message);
  }
});

test('README: the example between the explain markers is docs/explain-example.txt (the slow test writes it), as scripts/readme-explain.mjs puts it', async () => {
  const { EXPLAIN_BEGIN, EXPLAIN_END, EXAMPLE_FILE, exampleBlock } = await import('../scripts/readme-explain.mjs');
  const readme = fs.readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const begin = readme.indexOf(EXPLAIN_BEGIN);
  const end = readme.indexOf(EXPLAIN_END);
  assert.ok(begin >= 0 && begin < end, 'the begin marker, then the end marker');
  const example = fs.readFileSync(EXAMPLE_FILE, 'utf8');
  assert.equal(readme.slice(begin + EXPLAIN_BEGIN.length, end).trim(), exampleBlock(example));
  // What it shows is tcpinfo explain's output: every verdict row, and the evidence of three verdicts.
  assert.match(example, /^\$ tcpinfo explain /);
  for (const verdict of ['server', 'network', 'client', 'ok']) assert.match(example, new RegExp(`^${verdict}\\s+1\\s`, 'm'));
  assert.match(example, /client \d+% \(receive window limited /);
});
