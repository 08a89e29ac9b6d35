// requestTcpInfo(req) in the app's own request log, with the two request loggers Node users run: real
// pino-http (customProps) and real morgan (a token), on a node:http server on loopback with the plugin.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import morgan from 'morgan';
import pinoHttp from 'pino-http';
import { attach, requestTcpInfo } from '../dist/index.js';
import { listen, request, tempDir, waitFor } from './support/harness.mjs';

/** A writable that keeps the lines written to it. */
function lineSink() {
  const lines = [];
  let partial = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      partial += chunk;
      const parts = partial.split('\n');
      partial = parts.pop();
      lines.push(...parts);
      done();
    },
  });
  return { stream, lines };
}

/** A handler that thinks `ms`, then answers 1 KB. */
function slowHandler(ms) {
  return (req, res) => setTimeout(() => res.end('x'.repeat(1024)), ms);
}

test('pino-http customProps: the fields now, and with --explain the transaction so far, pending its delivery', async (t) => {
  const dir = tempDir(t);
  const sink = lineSink();
  const logger = pinoHttp({ customProps: (req) => ({ tcp: requestTcpInfo(req) }) }, sink.stream);
  const handler = slowHandler(150);
  const server = http.createServer((req, res) => {
    logger(req, res);
    handler(req, res);
  });
  const handle = attach(server, `--hooks=txn_close --explain --format=json --log-file=${path.join(dir, 'tcpinfo.log')}`);
  t.after(() => handle.close());
  const port = await listen(t, server);
  await request({ host: '127.0.0.1', port, path: '/' });
  await waitFor(() => sink.lines.length >= 1, 5000, 'the pino-http line');
  await handle.close();

  const line = JSON.parse(sink.lines[0]);
  assert.equal(typeof line.tcp.rtt, 'number');
  assert.ok(line.tcp.rtt > 0 && line.tcp.snd_cwnd > 0 && line.tcp.min_rtt > 0, JSON.stringify(line.tcp));
  const txn = line.tcp.transaction;
  // pino-http logs at the response's end: pending unless the hand-off's own reading showed the last byte acknowledged.
  assert.equal(typeof txn.pending, 'boolean');
  assert.equal(txn.verdict, 'server');
  assert.ok(txn.ttfb_us >= 149_000 && txn.server_us >= 149_000, JSON.stringify(txn));
  const [verdict] = fs.readFileSync(path.join(dir, 'tcpinfo.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.event === 'txn_delivered');
  for (const key of ['ttfb_us', 'end_us', 'txn_retrans', 'verdict']) {
    assert.equal(txn[key], verdict[key], `${key}: pino-http's and the tcpinfo log's`);
  }
});

test('requestTcpInfo after delivery: the values of the verdict line, no longer pending', async (t) => {
  const dir = tempDir(t);
  let req = null;
  const server = http.createServer((request, res) => {
    req = request;
    setTimeout(() => res.end('z'.repeat(1024)), 120);
  });
  const handle = attach(server, `--hooks=txn_close --explain --format=json --log-file=${path.join(dir, 'tcpinfo.log')}`);
  t.after(() => handle.close());
  const port = await listen(t, server);
  await request({ host: '127.0.0.1', port, path: '/' });
  await waitFor(() => handle.stats().logged.txn_delivered === 1, 5000, 'the verdict line');
  const after = requestTcpInfo(req);
  assert.ok(after !== null, 'the keep-alive connection is still open');
  assert.equal(after.transaction.pending, false);
  await handle.close();
  const [verdict] = fs.readFileSync(path.join(dir, 'tcpinfo.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.event === 'txn_delivered');
  for (const key of ['ttfb_us', 'end_us', 'duration_us', 'delivered_us', 'judged_us', 'server_us', 'client_us', 'network_us', 'resp_bytes', 'txn_retrans', 'ended', 'verdict']) {
    assert.equal(after.transaction[key], verdict[key], `${key}: requestTcpInfo's and the tcpinfo log's`);
  }
});

test('morgan token: the verdict so far inside the handler, and the final one in the access log line', async (t) => {
  const dir = tempDir(t);
  const sink = lineSink();
  morgan.token('tcp', (req) => {
    const info = requestTcpInfo(req);
    return info === null ? '-' : `rtt=${info.rtt} verdict=${info.transaction?.verdict ?? '-'} ttfb_us=${info.transaction?.ttfb_us ?? '-'}`;
  });
  const log = morgan(':method :url :status :tcp', { stream: sink.stream });
  let during = null;
  const server = http.createServer((req, res) =>
    log(req, res, () => {
      setTimeout(() => {
        during = requestTcpInfo(req);
        res.end('y'.repeat(1024));
      }, 120);
    }),
  );
  const handle = attach(server, `--hooks=txn_close --explain --log-file=${path.join(dir, 'tcpinfo.log')}`);
  t.after(() => handle.close());
  const port = await listen(t, server);
  await request({ host: '127.0.0.1', port, path: '/morgan' });
  await waitFor(() => sink.lines.length >= 1, 5000, 'the morgan line');
  // Before the response: a transaction under way, no header yet (ttfb is the time so far).
  assert.equal(during.transaction.pending, true);
  assert.ok(during.transaction.duration_us >= 119_000, JSON.stringify(during.transaction));
  assert.match(sink.lines[0], /^GET \/morgan 200 rtt=\d+ verdict=server ttfb_us=\d+$/);
});

test('without --explain: the connection fields, and no transaction; null once the connection is gone', async (t) => {
  let info;
  let socket;
  const server = http.createServer((req, res) => {
    info = requestTcpInfo(req);
    socket = req.socket;
    res.end('ok');
  });
  const handle = attach(server, `--hooks=txn_close --log-file=${path.join(tempDir(t), 'tcpinfo.log')}`);
  t.after(() => handle.close());
  const port = await listen(t, server);
  await request({ host: '127.0.0.1', port, path: '/', agent: false });
  assert.equal(info.transaction, null);
  assert.ok(info.rtt > 0 && Number.isInteger(info.bytes_received) && info.bytes_received > 0, JSON.stringify(info));
  await waitFor(() => socket.destroyed, 5000, 'the connection closed');
  assert.equal(requestTcpInfo({ socket }), null);
  assert.equal(requestTcpInfo({}), null);
});
