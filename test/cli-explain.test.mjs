// `tcpinfo explain` as a subprocess, on logs with the --explain columns (text and JSON lines), in a fresh
// temp dir: the per-verdict counts and shares of slow time, the slowest transactions with their evidence
// in words, the client networks, the filters, --json, escaping, and exit 1 for a log without --explain.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { LEVEL2_HEADER, tempDir } from './support/harness.mjs';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
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
  assert.deepEqual(json.verdicts.client, { transactions: 1, duration_us: 900_000, slow_time_share: 1 });
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
  assert.equal(report.verdicts.network.duration_us, 0);
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
  assert.match(example, /receive window limited \d+% of the transfer/);
});
