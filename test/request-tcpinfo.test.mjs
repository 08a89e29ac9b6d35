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

test('pino-http customProps: the fields now, and with --explain the transaction as its txn_close line has it', async (t) => {
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
  assert.equal(txn.closed, true, 'pino-http logs after txn_close: the values of the log line');
  assert.equal(txn.verdict, 'server');
  assert.ok(txn.ttfb_us >= 150_000, `ttfb ${txn.ttfb_us}`);
  const [close] = fs.readFileSync(path.join(dir, 'tcpinfo.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.event === 'txn_close');
  for (const key of ['ttfb_us', 'duration_us', 'resp_bytes', 'txn_retrans', 'txn_busy_us', 'verdict']) {
    assert.equal(txn[key], close[key], `${key}: pino-http's and the tcpinfo log's`);
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
  assert.equal(during.transaction.closed, false);
  assert.ok(during.transaction.duration_us >= 120_000, JSON.stringify(during.transaction));
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
