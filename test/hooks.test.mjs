// How the events are taken from Node (src/hooks/): nothing is added to a request's objects, the
// server gets its emit back at close, servers without the plugin are left alone, and a few event paths
// that do not go through 'request' or a response's end.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { describe, test } from 'node:test';
import { attach } from '../dist/index.js';
import { countBy, keepAliveRequests, listen, readLog, request, tempDir, waitFor } from './support/harness.mjs';

const EVERY_HOOK = 'ssn_start,txn_start,send_resp_hdr,txn_close,ssn_close';

/** Sorted own keys (strings and symbols, by description) of an object. */
function shape(object) {
  return Reflect.ownKeys(object).map((k) => (typeof k === 'symbol' ? `symbol(${k.description})` : k)).sort();
}

/** The own keys of each request's socket and response, as the handler ends it and as the socket closes. */
async function shapesUnder(t, options) {
  const shapes = [];
  const server = http.createServer((req, res) => {
    res.end('hello world\n');
    shapes.push(['socket after end', shape(req.socket)], ['response after end', shape(res)]);
    res.on('close', () => shapes.push(['response at close', shape(res)]));
  });
  server.on('connection', (socket) => socket.on('close', () => shapes.push(['socket at close', shape(socket)])));
  const handle = options === null ? null : attach(server, { logFile: path.join(tempDir(t), 'tcpinfo.log'), ...options });
  const port = await listen(t, server);
  await keepAliveRequests(port, 3);
  server.closeAllConnections();
  await waitFor(() => shapes.some(([what]) => what === 'socket at close'), 2000, 'the socket closed');
  if (handle !== null) {
    assert.equal(handle.stats().logged.txn_close, 3, 'every event was read and logged');
    await handle.close();
  }
  return shapes;
}

test('no property is added to a socket or a response, nor Node made to cache one (the addresses)', async (t) => {
  const bare = await shapesUnder(t, null);
  for (const options of [
    { hooks: EVERY_HOOK, logLevel: 2 },
    { hooks: EVERY_HOOK, format: 'json', fields: 'all', updatePeriod: 1 },
    { hooks: EVERY_HOOK, sampleBy: 'session', metrics: true },
  ]) {
    assert.deepEqual(await shapesUnder(t, options), bare, JSON.stringify(options));
  }
});

test("close gives the server its own emit back; another server's responses pass through untouched", async (t) => {
  const logged = http.createServer((req, res) => res.end('a'));
  const other = http.createServer((req, res) => res.end('b'));
  const handle = attach(logged, { logFile: path.join(tempDir(t), 'tcpinfo.log'), hooks: EVERY_HOOK });
  assert.ok(Object.hasOwn(logged, 'emit'));
  assert.equal(Object.hasOwn(other, 'emit'), false);
  const [loggedPort, otherPort] = [await listen(t, logged), await listen(t, other)];
  assert.equal((await request({ host: '127.0.0.1', port: otherPort, path: '/' })).body, 'b');
  assert.equal((await request({ host: '127.0.0.1', port: loggedPort, path: '/' })).body, 'a');
  await waitFor(() => handle.stats().events.txn_close === 1, 2000, "the logged server's txn_close");
  assert.equal(handle.stats().events.txn_start, 1, "the other server's request is not an event");
  await handle.close();
  assert.equal(Object.hasOwn(logged, 'emit'), false);
  assert.equal(logged.emit, EventEmitter.prototype.emit);
  assert.equal((await request({ host: '127.0.0.1', port: loggedPort, path: '/' })).body, 'a');
});

test('an emit wrapped on the prototype after attach (as OpenTelemetry\'s http instrumentation does) still gets every event', async (t) => {
  class AppServer extends http.Server {}
  const server = new AppServer((req, res) => res.end('hi'));
  const handle = attach(server, `--hooks=txn_close --log-file=${path.join(tempDir(t), 'tcpinfo.log')}`);
  t.after(() => handle.close());
  const port = await listen(t, server);
  // Wrapped after attach, on the prototype the server inherits it from.
  const seen = [];
  const original = AppServer.prototype.emit;
  AppServer.prototype.emit = function wrapped(event, ...args) {
    if (event === 'request') seen.push(args[0].url);
    return original.call(this, event, ...args);
  };
  t.after(() => delete AppServer.prototype.emit);
  await request({ host: '127.0.0.1', port, path: '/after' });
  assert.deepEqual(seen, ['/after']);
  await waitFor(() => handle.stats().events.txn_close === 1, 2000, 'the txn_close');
});

test("a request answered through 'checkContinue' is a transaction like any other", async (t) => {
  const logFile = path.join(tempDir(t), 'tcpinfo.log');
  const server = http.createServer((req, res) => res.end('plain'));
  server.on('checkContinue', (req, res) => {
    res.writeContinue();
    req.resume();
    req.on('end', () => res.end('continued'));
  });
  const handle = attach(server, { logFile, hooks: 'txn_start,send_resp_hdr,txn_close' });
  const port = await listen(t, server);
  const body = await new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { expect: '100-continue' }, agent: false });
    req.on('continue', () => req.end('payload'));
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d) => (text += d)).on('end', () => resolve(text));
    });
    req.on('error', reject);
  });
  assert.equal(body, 'continued');
  await waitFor(() => handle.stats().events.txn_close === 1, 2000, 'txn_close');
  await handle.close();
  assert.deepEqual(countBy(readLog(logFile).records), { txn_start: 1, send_resp_hdr: 1, txn_close: 1 });
});

test('a response the client resets: its txn_close comes before its ssn_close, both read with the fd open', async (t) => {
  const logFile = path.join(tempDir(t), 'tcpinfo.log');
  const server = http.createServer((req, res) => res.write('partial'));
  const handle = attach(server, { logFile, hooks: 'txn_close,ssn_close' });
  const port = await listen(t, server);
  await new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    socket.once('data', () => {
      socket.resetAndDestroy();
      resolve();
    });
    socket.on('error', reject);
  });
  await waitFor(() => handle.stats().events.ssn_close === 1, 2000, 'ssn_close');
  await handle.close();
  assert.deepEqual(readLog(logFile).records.map((r) => r.event), ['txn_close', 'ssn_close']);
  assert.equal(handle.stats().failedReads, 0);
  for (const r of readLog(logFile).records) assert.equal(r.client, '127.0.0.1');
});

test('pipelined requests whose client resets after the first response: every one has its txn_close, in order, read with the fd open', async (t) => {
  const logFile = path.join(tempDir(t), 'tcpinfo.log');
  // Each answered a little later, as most handlers are: the client's reset finds responses still queued.
  const server = http.createServer((req, res) => setTimeout(() => res.end(`${req.url}\n`), 5));
  const handle = attach(server, { logFile, hooks: 'txn_start,txn_close,ssn_close', format: 'json', logUrl: true });
  const port = await listen(t, server);
  const N = 50;
  await new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      let batch = '';
      for (let i = 0; i < N; i++) batch += `GET /${i} HTTP/1.1\r\nHost: x\r\n\r\n`;
      socket.write(batch);
    });
    socket.once('data', () => {
      socket.resetAndDestroy();
      resolve();
    });
    socket.on('error', reject);
  });
  await waitFor(() => handle.stats().events.ssn_close === 1, 2000, 'ssn_close');
  const s = handle.stats();
  await handle.close();
  const records = fs.readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const started = records.filter((r) => r.event === 'txn_start').map((r) => r.url);
  assert.ok(started.length > 1, `${started.length} requests reached the server before the reset`);
  assert.deepEqual(records.filter((r) => r.event === 'txn_close').map((r) => r.url), started, 'a txn_close for every txn_start, in order');
  assert.equal(records.at(-1).event, 'ssn_close', 'every txn_close before the ssn_close');
  assert.equal(s.events.txn_close, s.events.txn_start);
  assert.equal(s.failedReads, 0, 'every one read with the fd open');
});

/** Sends `text` on a raw connection; resolves with all the server answered once it closes (or after `ms`). */
function rawExchange(port, text, ms = 1000) {
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    const timer = setTimeout(() => socket.end(), ms);
    socket.setEncoding('latin1');
    socket.on('data', (d) => (answer += d));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    socket.on('error', reject);
  });
}

/** A JSON-lines logger on a fresh server; `records()` closes it and gives its lines. */
async function jsonLogged(t, serverOptions = {}, handler = (req, res) => res.end('ok')) {
  const logFile = path.join(tempDir(t), 'tcpinfo.log');
  const server = http.createServer(serverOptions, handler);
  const handle = attach(server, { logFile, hooks: EVERY_HOOK, format: 'json', logUrl: true });
  const port = await listen(t, server);
  const records = async () => {
    await handle.close();
    return fs.readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  };
  return { server, handle, port, records };
}

/** The transaction events of JSON records, as `event status`. */
const transactions = (records) => records.filter((r) => r.event !== 'ssn_start' && r.event !== 'ssn_close').map((r) => `${r.event} ${r.status ?? '-'}`);

describe('requests Node answers by itself are transactions too', () => {
  test('a request Node cannot parse: txn_start, send_resp_hdr and txn_close with status 400, read before the socket closes', async (t) => {
    const { handle, port, records } = await jsonLogged(t);
    const answer = await rawExchange(port, 'GET /a HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n');
    assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
    await waitFor(() => handle.stats().events.ssn_close === 1, 2000, 'ssn_close');
    assert.equal(handle.stats().failedReads, 0);
    const lines = await records();
    assert.deepEqual(lines.map((r) => r.event), ['ssn_start', 'txn_start', 'send_resp_hdr', 'txn_close', 'ssn_close']);
    assert.deepEqual(transactions(lines), ['txn_start -', 'send_resp_hdr 400', 'txn_close 400']);
    assert.equal(lines[1].method, null, 'the request was not parsed: no method');
    assert.equal(lines[1].url, null, 'nor path');
  });

  test('headers too large for Node: the same, with the 431 Node answers', async (t) => {
    const { handle, port, records } = await jsonLogged(t);
    const answer = await rawExchange(port, `GET /a HTTP/1.1\r\nHost: x\r\nX-Big: ${'y'.repeat(20_000)}\r\n\r\n`);
    assert.match(answer, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    await waitFor(() => handle.stats().events.ssn_close === 1, 2000, 'ssn_close');
    assert.deepEqual(transactions(await records()), ['txn_start -', 'send_resp_hdr 431', 'txn_close 431']);
  });

  test("with the app's own 'clientError' listener Node answers nothing, and the plugin adds nothing", async (t) => {
    const { server, handle, port, records } = await jsonLogged(t);
    server.on('clientError', (err, socket) => socket.end('HTTP/1.1 418 Teapot\r\nContent-Length: 0\r\n\r\n'));
    const answer = await rawExchange(port, 'GET /a HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n');
    assert.match(answer, /^HTTP\/1\.1 418 Teapot\r\n/);
    await waitFor(() => handle.stats().events.ssn_close === 1, 2000, 'ssn_close');
    assert.deepEqual((await records()).map((r) => r.event), ['ssn_start', 'ssn_close']);
  });

  test('an Expect Node cannot meet: txn_start, send_resp_hdr and txn_close with status 417', async (t) => {
    const { handle, port, records } = await jsonLogged(t);
    const answer = await rawExchange(port, 'GET /e HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\nConnection: close\r\n\r\n');
    assert.match(answer, /^HTTP\/1\.1 417 Expectation Failed\r\n/);
    await waitFor(() => handle.stats().events.ssn_close === 1, 2000, 'ssn_close');
    const lines = await records();
    assert.deepEqual(transactions(lines), ['txn_start -', 'send_resp_hdr 417', 'txn_close 417']);
    assert.equal(lines[1].url, '/e');
    assert.equal(lines[1].method, 'GET');
  });

  test('an HTTP/1.1 request without Host (400), and one past maxRequestsPerSocket (503): transactions too', async (t) => {
    const { server, handle, port, records } = await jsonLogged(t);
    server.maxRequestsPerSocket = 1;
    const noHost = await rawExchange(port, 'GET /h HTTP/1.1\r\n\r\n');
    assert.match(noHost, /^HTTP\/1\.1 400 Bad Request\r\n/);
    const second = await rawExchange(port, 'GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(second, /HTTP\/1\.1 503 Service Unavailable\r\n/);
    await waitFor(() => handle.stats().events.ssn_close === 2, 2000, 'ssn_close');
    assert.deepEqual(transactions(await records()), [
      'txn_start -', 'send_resp_hdr 400', 'txn_close 400',
      // The first answered at once; the second, queued behind it, is refused as it is parsed.
      'txn_start -', 'send_resp_hdr 200', 'txn_start -', 'send_resp_hdr 503', 'txn_close 200', 'txn_close 503',
    ]);
  });
});
