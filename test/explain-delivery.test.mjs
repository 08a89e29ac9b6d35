// --explain's follow-up to delivery, on real sockets on loopback: a client that stops reading keeps the verdict
// pending until close() (then `gave_up`, judged on what was seen), or until SIGTERM in a child process; a
// `Connection: close` answer is judged at the connection's close; a keep-alive response behind a stalled one
// does not hide it (delivery by position); nothing stays followed afterwards.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { attach } from '../dist/index.js';
import { pendingDeliveries } from '../dist/explain/delivery.js';
import { jsonLines, listen, request, ROOT, startApp, tempDir, waitFor } from './support/harness.mjs';

const BIG = Buffer.alloc(8 * 1024 * 1024, 'b');

function verdicts(logFile) {
  return jsonLines(logFile).filter((l) => l.event === 'txn_delivered');
}

/** A raw client that sends one GET and then reads nothing: its receive window fills and stays shut. */
function stalledClient(port, path = '/big') {
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.setNoDelay(true);
  socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
  socket.pause();
  return socket;
}

test('a client that stopped reading: pending until close(), then judged as gave_up on what was seen', async (t) => {
  const logFile = path.join(tempDir(t), 'tcpinfo.log');
  // 1 MB: the kernel takes it all at once (the hand-off), then holds it for a client that reads nothing.
  const server = http.createServer((req, res) => res.end(BIG.subarray(0, 1024 * 1024)));
  const handle = attach(server, `--hooks=txn_close --explain --format=json --log-url --log-file=${logFile}`);
  const port = await listen(t, server);
  const socket = stalledClient(port);
  t.after(() => socket.destroy());
  await waitFor(() => handle.stats().logged.txn_close === 1, 5000, 'the hand-off');
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(handle.stats().logged.txn_delivered, 0, 'not delivered while the client reads nothing');
  assert.ok(pendingDeliveries() >= 1);
  await handle.close();
  const [line] = verdicts(logFile);
  assert.equal(line.ended, 'gave_up');
  assert.equal(line.delivered_us, null);
  assert.ok(line.judged_us >= 300_000, `judged until close(): ${line.judged_us}`);
  assert.equal(line.verdict, 'client', JSON.stringify(line));
  assert.ok(line.client_us >= 0.5 * line.judged_us, JSON.stringify(line));
  assert.equal(pendingDeliveries(), 0);
});

test('delivery by position: a stalled big response is not hidden by the quick one sent behind it', async (t) => {
  const logFile = path.join(tempDir(t), 'tcpinfo.log');
  const server = http.createServer((req, res) => res.end(req.url === '/big' ? BIG : 'small'));
  const handle = attach(server, `--hooks=txn_close --explain --format=json --log-url --log-file=${logFile}`);
  const port = await listen(t, server);
  // Two pipelined requests; the client reads the whole stream only after 400 ms.
  const socket = net.connect({ port, host: '127.0.0.1' });
  t.after(() => socket.destroy());
  socket.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\nGET /small HTTP/1.1\r\nHost: x\r\n\r\n');
  socket.pause();
  await new Promise((resolve) => setTimeout(resolve, 400));
  const started = Date.now();
  socket.resume();
  socket.on('data', () => {});
  await waitFor(() => handle.stats().logged.txn_delivered === 2, 5000, 'both verdicts');
  await handle.close();
  // Both are delivered at about the same time (the small one may be seen acknowledged at its own hand-off first).
  const lines = verdicts(logFile).sort((a, b) => a.url.localeCompare(b.url));
  assert.deepEqual(lines.map((l) => [l.url, l.ended]), [['/big', 'acked'], ['/small', 'acked']]);
  const [big] = lines;
  assert.ok(big.delivered_us >= 400_000, `the big one was delivered after the client read on: ${big.delivered_us}`);
  assert.equal(big.verdict, 'client', JSON.stringify(big));
  assert.ok(Date.now() - started < 5000);
});

test('Connection: close: judged at the connection\'s close (fd still open there), one verdict line', async (t) => {
  const logFile = path.join(tempDir(t), 'tcpinfo.log');
  const server = http.createServer((req, res) => res.end('x'.repeat(1024)));
  const handle = attach(server, `--hooks=txn_close --explain --format=json --log-file=${logFile}`);
  const port = await listen(t, server);
  await request({ host: '127.0.0.1', port, path: '/', agent: false, headers: { connection: 'close' } });
  await waitFor(() => handle.stats().logged.txn_delivered === 1, 3000, 'the verdict');
  await handle.close();
  const [line] = verdicts(logFile);
  assert.ok(['acked', 'closed'].includes(line.ended), line.ended);
  assert.equal(line.verdict, 'ok');
  assert.equal(jsonLines(logFile).filter((l) => l.verdict !== undefined).length, 1, 'exactly one line carries a verdict');
});

test('many transactions: each judged once, and nothing is left followed', async (t) => {
  const logFile = path.join(tempDir(t), 'tcpinfo.log');
  const server = http.createServer((req, res) => res.end('y'.repeat(2048)));
  const handle = attach(server, `--hooks=txn_close --explain --format=json --log-file=${logFile}`);
  const port = await listen(t, server);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  t.after(() => agent.destroy());
  await Promise.all(Array.from({ length: 200 }, () => request({ host: '127.0.0.1', port, path: '/', agent })));
  await waitFor(() => handle.stats().logged.txn_delivered === 200, 5000, '200 verdicts');
  assert.equal(pendingDeliveries(), 0);
  await handle.close();
  const lines = verdicts(logFile);
  assert.equal(lines.length, 200);
  // Judged, each, from its own baseline (a loaded machine may make a few slow: ok is not the point here).
  assert.ok(lines.every((l) => l.ended === 'acked' && l.verdict !== 'unknown'), JSON.stringify(lines.find((l) => l.ended !== 'acked' || l.verdict === 'unknown')));
});

test('SIGTERM while a delivery is followed: its verdict line (gave_up) is in the file when the process has died', async (t) => {
  const dir = tempDir(t);
  const logFile = path.join(dir, 'tcpinfo.log');
  const app = path.join(dir, 'app.mjs');
  fs.writeFileSync(app, `
import http from 'node:http';
import { attach } from ${JSON.stringify(path.join(ROOT, 'dist', 'index.js'))};
const server = http.createServer((req, res) => res.end(Buffer.alloc(1024 * 1024, 'c')));
attach(server, '--hooks=txn_close --explain --format=json --log-file=${logFile}');
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
`);
  const { child, ready, exited } = startApp(t, dir, [app]);
  const { port } = await ready;
  const socket = stalledClient(port);
  t.after(() => socket.destroy());
  await waitFor(() => fs.existsSync(logFile) && jsonLines(logFile).some((l) => l.event === 'txn_close'), 5000, 'the hand-off');
  child.kill('SIGTERM');
  const { signal } = await exited;
  assert.equal(signal, 'SIGTERM', 'it died of the signal, as without the plugin');
  const [line] = verdicts(logFile);
  assert.equal(line?.ended, 'gave_up', JSON.stringify(jsonLines(logFile)));
  // Judged on what was seen until the signal: a client holding its window shut, for however long that was.
  assert.ok(line.verdict === 'ok' ? line.judged_us < 100_000 : line.verdict === 'client', JSON.stringify(line));
});

test('Connection: close to a client that reads late: followed past the close through a duplicated fd, then acked', async (t) => {
  const logFile = path.join(tempDir(t), 'tcpinfo.log');
  const server = http.createServer((req, res) => res.end(BIG.subarray(0, 1024 * 1024)));
  const handle = attach(server, `--hooks=txn_close,ssn_close --explain --format=json --log-file=${logFile}`);
  t.after(() => handle.close());
  const port = await listen(t, server);
  const socket = net.connect({ port, host: '127.0.0.1' });
  t.after(() => socket.destroy());
  await new Promise((resolve) => socket.once('connect', resolve));
  const clientPort = socket.localPort;
  socket.write('GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  socket.pause();
  // Node has handed the response over and closed its socket; the kernel still holds most of it.
  await waitFor(() => handle.stats().logged.ssn_close === 1, 5000, 'the server closed the connection');
  assert.equal(handle.stats().logged.txn_delivered, 0, 'still followed after the close');
  await new Promise((resolve) => setTimeout(resolve, 300));
  socket.resume();
  socket.on('data', () => {});
  await waitFor(() => verdicts(logFile).length === 1, 5000, 'the verdict line');
  const [line] = verdicts(logFile);
  assert.equal(line.ended, 'acked', JSON.stringify(line));
  assert.ok(line.delivered_us >= 300_000, `delivered after the client read: ${line.delivered_us}`);
  assert.equal(line.verdict, 'client');
  assert.equal(line.client_port, clientPort);
});
