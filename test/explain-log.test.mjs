// --explain in the log and the metrics, on a real node:http server on loopback: the columns (text: after
// the level's, named in the header, `-` on other events; JSON: keys on txn_delivered lines only), the verdict
// of a slow handler and of a quick answer, one decision per transaction at its txn_start, session
// sampling, and with --metrics every transaction counted by verdict.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import client from 'prom-client';
import { attach } from '../dist/index.js';
import { DEFAULT_SLOW_MS } from '../dist/explain/verdict.js';
import { parseOptions } from '../dist/index.js';
import { jsonLines, keepAliveRequests, LEVEL2_HEADER, listen, readLog, request, tempDir, waitFor } from './support/harness.mjs';

const EXPLAIN_COLUMNS = [
  'ttfb_us', 'end_us', 'duration_us', 'delivered_us', 'judged_us', 'server_us', 'client_us', 'network_us', 'upload_us',
  'ack_delay_us', 'resp_bytes', 'txn_retrans', 'txn_busy_us', 'txn_rwnd_limited_us', 'txn_sndbuf_limited_us',
  'wnd_limited_us', 'flow_held_us', 'unsent_bytes', 'min_rtt_us', 'ended', 'shared', 'verdict',
];

/** /slow thinks 150 ms, anything else answers at once; 1 KB either way. */
function handler(req, res) {
  setTimeout(() => res.end('x'.repeat(1024)), req.url === '/slow' ? 150 : 0);
}

async function server(t, options) {
  const dir = tempDir(t);
  const logFile = path.join(dir, 'tcpinfo.log');
  const srv = http.createServer(handler);
  const handle = attach(srv, typeof options === 'string' ? `${options} --log-file=${logFile}` : { ...options, logFile });
  t.after(() => handle.close());
  const port = await listen(t, srv);
  return { handle, port, logFile };
}

test('--slow-ms defaults to the rule table default', () => {
  assert.equal(parseOptions('').slowMs, DEFAULT_SLOW_MS);
});

test('text: the columns after the level 2 ones, named in the header, - on other events; verdicts server and ok', async (t) => {
  const { handle, port, logFile } = await server(t, '--hooks=ssn_start,txn_start,send_resp_hdr,txn_close --log-level=2 --explain');
  await request({ host: '127.0.0.1', port, path: '/slow' });
  await request({ host: '127.0.0.1', port, path: '/' });
  // The verdicts come at delivery (close() would judge what is still followed as gave_up).
  await waitFor(() => handle.stats().logged.txn_delivered === 2, 3000, 'both verdicts');
  await handle.close();
  const { headers, records } = readLog(logFile);
  assert.deepEqual(headers, [`${LEVEL2_HEADER} ${EXPLAIN_COLUMNS.join(' ')}`]);
  const level2 = LEVEL2_HEADER.split(' ').length - 4;
  for (const r of records) {
    assert.equal(r.cols.length, level2 + EXPLAIN_COLUMNS.length, r.line);
    const explain = r.cols.slice(level2);
    if (r.event !== 'txn_delivered') assert.deepEqual(explain, EXPLAIN_COLUMNS.map(() => '-'), r.line);
  }
  assert.equal(records.filter((r) => r.event === 'txn_close').length, 2, 'txn_close still logged, without a verdict');
  const verdicts = records.filter((r) => r.event === 'txn_delivered').map((r) => Object.fromEntries(EXPLAIN_COLUMNS.map((c, i) => [c, r.cols[level2 + i]])));
  assert.equal(verdicts.length, 2);
  const [slow, quick] = verdicts;
  assert.equal(slow.verdict, 'server');
  assert.ok(Number(slow.ttfb_us) >= 150_000 && Number(slow.duration_us) >= Number(slow.ttfb_us), JSON.stringify(slow));
  assert.ok(Number(slow.server_us) >= 149_000 && Number(slow.judged_us) >= Number(slow.server_us), JSON.stringify(slow));
  assert.equal(quick.verdict, 'ok');
  assert.ok(Number(quick.judged_us) < 100_000);
  for (const c of verdicts) {
    assert.equal(c.ended, 'acked');
    assert.equal(Number(c.server_us) + Number(c.client_us) + Number(c.network_us), Number(c.judged_us), 'the shares sum to the judged time');
    assert.ok(Number(c.delivered_us) >= Number(c.end_us), "delivered after the app ended the response");
    // 1 KB of body plus the headers, as Node wrote them; no retransmission on loopback.
    assert.ok(Number(c.resp_bytes) > 1024 && Number(c.resp_bytes) < 1400, c.resp_bytes);
    assert.equal(c.txn_retrans, '0');
  }
});

test('JSON: the keys on txn_delivered lines only; --slow-ms moves the line between ok and a verdict', async (t) => {
  const { handle, port, logFile } = await server(t, { hooks: 'txn_start,txn_close', format: 'json', explain: true, slowMs: 1000 });
  await request({ host: '127.0.0.1', port, path: '/slow' });
  await waitFor(() => handle.stats().logged.txn_delivered === 1, 3000, 'the verdict');
  await handle.close();
  const lines = fs.readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.event), ['txn_start', 'txn_close', 'txn_delivered']);
  assert.ok(!('verdict' in lines[0]) && !('ttfb_us' in lines[0]) && !('verdict' in lines[1]));
  assert.deepEqual(Object.keys(lines[2]).slice(-EXPLAIN_COLUMNS.length), EXPLAIN_COLUMNS);
  assert.equal(lines[2].verdict, 'ok', 'a 150 ms transaction is ok under --slow-ms=1000');
  assert.equal(typeof lines[2].txn_busy_us, 'number');
  assert.equal(lines[2].shared, false);
  assert.equal(lines[2].method, 'GET');
  assert.equal(lines[2].status, 200);
});

test('one decision per transaction, at its txn_start: every txn_close logged has its baseline; the others are not logged', async (t) => {
  const { handle, port, logFile } = await server(t, '--hooks=txn_close --explain --sample-rate=500 --sample-seed=7 --format=json');
  await keepAliveRequests(port, 60, { path: '/' });
  await handle.close();
  const all = fs.readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const lines = all.filter((l) => l.event === 'txn_delivered');
  assert.ok(lines.length > 5 && lines.length < 55, `${lines.length} of 60 logged at rate 500`);
  for (const l of lines) assert.equal(typeof l.txn_retrans, 'number', 'a baseline read at its txn_start');
  assert.equal(handle.stats().sampled.txn_close, lines.length);
  assert.equal(all.filter((l) => l.event === 'txn_close').length, lines.length, 'one verdict line per logged txn_close');
});

test('transactions already in their handler at attach(): their txn_close, verdict unknown, no baseline columns', async (t) => {
  const dir = tempDir(t);
  const held = [];
  const srv = http.createServer((req, res) => (req.url.startsWith('/held') ? held.push(res) : handler(req, res)));
  const port = await listen(t, srv);
  const answers = Array.from({ length: 5 }, (_, i) => request({ host: '127.0.0.1', port, path: `/held/${i}`, agent: false }));
  await waitFor(() => held.length === 5, 5000, 'the 5 requests in their handler');
  const jsonFile = path.join(dir, 'json.log');
  const textFile = path.join(dir, 'text.log');
  const json = attach(srv, `--hooks=txn_close --explain --format=json --log-file=${jsonFile}`);
  const text = attach(srv, `--hooks=txn_close --explain --log-level=2 --log-file=${textFile}`);
  t.after(() => Promise.all([json.close(), text.close()]));
  for (const res of held) res.end('x'.repeat(1024));
  await Promise.all(answers);
  // One that starts after attach has its baseline as usual.
  await request({ host: '127.0.0.1', port, path: '/' });
  await waitFor(() => json.stats().logged.txn_delivered === 6 && text.stats().logged.txn_delivered === 6, 5000, 'every verdict');
  await Promise.all([json.close(), text.close()]);

  const all = jsonLines(jsonFile);
  assert.equal(all.filter((l) => l.event === 'txn_close').length, 6, 'every txn_close logged');
  const lines = all.filter((l) => l.event === 'txn_delivered');
  assert.equal(lines.length, 6, 'every transaction judged');
  const [late, fresh] = [lines.slice(0, 5), lines[5]];
  for (const l of late) {
    assert.equal(l.verdict, 'unknown', JSON.stringify(l));
    for (const c of EXPLAIN_COLUMNS.slice(0, 10)) assert.equal(l[c], null, `${c}: no start, no baseline`);
    assert.equal(typeof l.unsent_bytes, 'number', 'read at txn_close');
  }
  assert.equal(fresh.verdict, 'ok');
  assert.equal(typeof fresh.txn_retrans, 'number');
  for (const handle of [json, text]) {
    const st = handle.stats();
    assert.deepEqual([st.events.txn_close, st.sampled.txn_close, st.logged.txn_close], [6, 6, 6]);
  }
  const level2 = LEVEL2_HEADER.split(' ').length - 4;
  const closes = readLog(textFile).records.filter((r) => r.event === 'txn_delivered').map((r) => r.cols.slice(level2));
  assert.equal(closes.length, 6);
  for (const cols of closes.slice(0, 5)) {
    assert.deepEqual(cols.slice(0, 10), Array(10).fill('-'));
    assert.equal(cols.at(-1), 'unknown');
  }
});

test('--sample-by=session: a sampled connection has every transaction explained', async (t) => {
  const { handle, port, logFile } = await server(t, '--hooks=txn_close --explain --sample-by=session --sample-rate=500 --sample-seed=3 --format=json');
  for (let i = 0; i < 8; i++) await keepAliveRequests(port, 5, { path: '/' });
  await handle.close();
  const lines = fs.readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.event === 'txn_delivered');
  const perConnection = new Map();
  for (const l of lines) perConnection.set(l.conn, [...(perConnection.get(l.conn) ?? []), l]);
  assert.ok(perConnection.size > 0 && perConnection.size < 8, `${perConnection.size} of 8 connections`);
  for (const [conn, txns] of perConnection) {
    assert.equal(txns.length, 5, `connection ${conn}: every transaction`);
    for (const l of txns) assert.equal(l.verdict, 'ok');
  }
});

test('--metrics --explain: the transactions chosen by --sample-rate counted by verdict, without the txn_close hook too', async (t) => {
  const registry = new client.Registry();
  const { handle, port } = await server(t, { hooks: 'ssn_start', explain: true, sampleRate: 1000, metrics: registry });
  await keepAliveRequests(port, 3, { path: '/' });
  await request({ host: '127.0.0.1', port, path: '/slow' });
  // The verdicts are counted at delivery: the client's ACK of the last byte, a follow-up read after the response.
  let text = '';
  for (let i = 0; i < 500 && !(/verdict="server"} 1$/m.test(text) && /verdict="ok"} 3$/m.test(text)); i++) {
    text = await registry.metrics();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const label = `server="127.0.0.1:${port}"`;
  const value = (name) => Number(new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
  assert.equal(value(`tcpinfo_transactions_total{${label},verdict="ok"}`), 3);
  assert.equal(value(`tcpinfo_transactions_total{${label},verdict="server"}`), 1);
  assert.equal(value(`tcpinfo_transactions_total{${label},verdict="network"}`), 0, 'every verdict has its series from the start');
  assert.equal(value(`tcpinfo_transaction_duration_us_count{${label},verdict="server"}`), 1);
  assert.ok(value(`tcpinfo_transaction_duration_us_sum{${label},verdict="server"}`) >= 149_000);
  assert.equal(handle.stats().logged.txn_close, 0, 'the log has no txn_close hook: no verdict line either');
  assert.equal(handle.stats().logged.txn_delivered, 0);
});

test('--metrics --explain at --sample-rate=0: nothing judged, nothing followed (the metrics count the chosen ones)', async (t) => {
  const registry = new client.Registry();
  const { port } = await server(t, { hooks: 'txn_close', explain: true, sampleRate: 0, metrics: registry });
  await keepAliveRequests(port, 5, { path: '/' });
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.match(await registry.metrics(), /^tcpinfo_transactions_total\{server="[^"]+",verdict="ok"\} 0$/m);
});

test('without --explain: no transaction metrics and no columns', async (t) => {
  const registry = new client.Registry();
  const { handle, port, logFile } = await server(t, { hooks: 'txn_close', metrics: registry, logLevel: 2 });
  await request({ host: '127.0.0.1', port, path: '/' });
  await handle.close();
  assert.doesNotMatch(await registry.metrics(), /tcpinfo_transaction/);
  assert.deepEqual(readLog(logFile).headers, [LEVEL2_HEADER]);
});
