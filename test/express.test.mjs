// tcpinfo/express: a real Express 5 app (Express 4: express4.test.mjs) (and plain node:http, and a Connect-style stack) on loopback,
// real clients (node:http, undici, raw sockets), the log file as written.
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import express from 'express';
import { Client } from 'undici';
import { parseOptions, TcpinfoConfigError } from '../dist/index.js';
import tcpinfo, { tcpinfo as namedTcpinfo } from '../dist/integrations/express.js';
import {
  LEVEL1_HEADER, closeRequests, countBy, helloHandler, keepAliveRequests, listen, makeCertificate, readLog, request,
  tempDir, waitFor,
} from './support/harness.mjs';

const ALL_HOOKS = 'ssn_start,txn_start,send_resp_hdr,txn_close';
const PER_REQUEST = ['txn_start', 'send_resp_hdr', 'txn_close'];

/** An Express app with the middleware first, on 127.0.0.1 port 0. */
async function serveApp(t, options = {}, routes = () => {}, { server } = {}) {
  const dir = tempDir(t);
  const logFile = path.join(dir, 'tcpinfo.log');
  const middleware = tcpinfo({ logFile, hooks: ALL_HOOKS, ...options });
  t.after(() => middleware.close());
  const app = express();
  app.use(middleware);
  routes(app);
  app.get('/{*rest}', (req, res) => res.send('hello world\n'));
  server ??= http.createServer(app);
  if (server.listenerCount('request') === 0) server.on('request', app);
  const port = await listen(t, server);
  return { app, middleware, port, logFile, dir, server };
}

/** A raw HTTP/1.1 keep-alive connection: send a GET, resolve with the body once it has all arrived. */
function rawConnection(port) {
  const socket = net.connect(port, '127.0.0.1');
  let buffer = '';
  let waiting = null;
  socket.setEncoding('latin1');
  socket.on('data', (chunk) => {
    buffer += chunk;
    const end = buffer.indexOf('\r\n\r\n');
    if (end < 0 || waiting === null) return;
    const length = Number(/content-length: (\d+)/i.exec(buffer.slice(0, end))?.[1] ?? 0);
    if (buffer.length < end + 4 + length) return;
    const body = buffer.slice(end + 4, end + 4 + length);
    buffer = buffer.slice(end + 4 + length);
    const resolve = waiting;
    waiting = null;
    resolve(body);
  });
  const connected = new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return {
    connected,
    get(pathname) {
      return new Promise((resolve, reject) => {
        waiting = resolve;
        socket.once('error', reject);
        socket.write(`GET ${pathname} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      });
    },
    close: () => socket.destroy(),
  };
}

function eventsOf(logFile) {
  return readLog(logFile).records.map((r) => r.event);
}

describe('express: events', () => {
  test('keep-alive: ssn_start once at first sight, then txn_start, send_resp_hdr, txn_close per request', async (t) => {
    const { middleware, port, logFile } = await serveApp(t);
    const results = await keepAliveRequests(port, 4);
    assert.ok(results.every((r) => r.status === 200 && r.body === 'hello world\n'));
    await waitFor(() => middleware.stats().events.txn_close === 4, 2000, 'four txn_close');
    await middleware.close();
    const { headers } = readLog(logFile);
    assert.deepEqual(headers, [LEVEL1_HEADER]);
    assert.deepEqual(eventsOf(logFile), ['ssn_start', ...Array(4).fill(PER_REQUEST).flat()]);
    assert.equal(middleware.stats().failedReads, 0);
  });

  test('keep-alive with undici: the same sequence, and a new connection starts at its connection event', async (t) => {
    const { middleware, port, logFile } = await serveApp(t);
    const client = new Client(`http://127.0.0.1:${port}`);
    t.after(() => client.destroy());
    for (let i = 0; i < 3; i++) {
      const { statusCode, body } = await client.request({ path: `/${i}`, method: 'GET' });
      assert.equal(statusCode, 200);
      assert.equal(await body.text(), 'hello world\n');
    }
    await closeRequests(port, 1);
    await waitFor(() => middleware.stats().events.txn_close === 4, 2000, 'four txn_close');
    await middleware.close();
    assert.deepEqual(eventsOf(logFile), ['ssn_start', ...Array(3).fill(PER_REQUEST).flat(), 'ssn_start', ...PER_REQUEST]);
  });

  test('connections open before the first request start once each, at their first request', async (t) => {
    const { middleware, port, logFile, server } = await serveApp(t);
    const a = rawConnection(port);
    const b = rawConnection(port);
    t.after(() => (a.close(), b.close()));
    await Promise.all([a.connected, b.connected]);
    await waitFor(() => new Promise((r) => server.getConnections((_, n) => r(n === 2))), 2000, 'two connections accepted');
    assert.equal(await a.get('/a1'), 'hello world\n'); // attaches: a starts now
    assert.equal(await a.get('/a2'), 'hello world\n');
    assert.equal(await b.get('/b1'), 'hello world\n'); // b was accepted before: starts at first sight
    assert.equal(await b.get('/b2'), 'hello world\n');
    await closeRequests(port, 1); // accepted after: its 'connection' event
    await waitFor(() => middleware.stats().events.txn_close === 5, 2000, 'five txn_close');
    await middleware.close();
    const events = eventsOf(logFile);
    assert.deepEqual(events, [
      'ssn_start', ...PER_REQUEST, ...PER_REQUEST,
      'ssn_start', ...PER_REQUEST, ...PER_REQUEST,
      'ssn_start', ...PER_REQUEST,
    ]);
  });

  test('ssn_close of a connection first seen at a request: once, when it closes', async (t) => {
    const { middleware, port, logFile } = await serveApp(t, { hooks: 'ssn_start,txn_close,ssn_close' });
    await keepAliveRequests(port, 3); // the agent is destroyed at the end: the connection closes
    await keepAliveRequests(port, 1);
    await waitFor(() => middleware.stats().events.ssn_close === 2, 2000, 'two ssn_close');
    await middleware.close();
    // The first connection was open before the attach: it is tracked from first sight, so it has its ssn_close too.
    assert.deepEqual(countBy(readLog(logFile).records), { ssn_start: 2, txn_close: 4, ssn_close: 2 });
    assert.deepEqual(eventsOf(logFile).slice(0, 4), ['ssn_start', 'txn_close', 'txn_close', 'txn_close']);
  });

  test('a request already past the server when the middleware attached is caught up when it reaches it', async (t) => {
    let releaseSlow;
    const slowArrived = new Promise((resolve) => (releaseSlow = resolve));
    const dir = tempDir(t);
    const logFile = path.join(dir, 'tcpinfo.log');
    const middleware = tcpinfo({ logFile, hooks: ALL_HOOKS });
    t.after(() => middleware.close());
    const app = express();
    // An async step before tcpinfo: /slow waits in it while /fast goes through and attaches.
    app.use(async (req, res, next) => {
      if (req.url === '/slow') await slowArrived;
      next();
    });
    app.use(middleware);
    app.use((req, res) => res.send('hello world\n'));
    const port = await listen(t, http.createServer(app));
    const slow = request({ host: '127.0.0.1', port, path: '/slow', agent: false });
    await delay(30);
    assert.equal((await request({ host: '127.0.0.1', port, path: '/fast', agent: false })).status, 200);
    releaseSlow();
    assert.equal((await slow).status, 200);
    await waitFor(() => middleware.stats().events.txn_close === 2, 2000, 'both txn_close');
    await middleware.close();
    assert.deepEqual(countBy(readLog(logFile).records), { ssn_start: 2, txn_start: 2, send_resp_hdr: 2, txn_close: 2 });
  });

  test('a writeHead wrapper installed before the middleware (on-headers style) still runs on the caught-up request', async (t) => {
    const dir = tempDir(t);
    const logFile = path.join(dir, 'tcpinfo.log');
    const middleware = tcpinfo({ logFile, hooks: 'send_resp_hdr' });
    t.after(() => middleware.close());
    const app = express();
    app.use((req, res, next) => {
      const original = res.writeHead;
      res.writeHead = function (...args) {
        this.setHeader('x-wrapped', 'yes');
        return original.apply(this, args);
      };
      next();
    });
    app.use(middleware);
    app.use((req, res) => res.send('ok'));
    const port = await listen(t, http.createServer(app));
    const results = await keepAliveRequests(port, 2);
    const headers = await new Promise((resolve, reject) => http.get({ host: '127.0.0.1', port }, (res) => (res.resume(), resolve(res.headers))).on('error', reject));
    assert.equal(headers['x-wrapped'], 'yes');
    assert.ok(results.every((r) => r.status === 200));
    await middleware.close();
    assert.deepEqual(countBy(readLog(logFile).records), { send_resp_hdr: 3 });
  });

  test('a thrown error and a rejected promise: 500 from Express, and every event of both', async (t) => {
    const { middleware, port, logFile } = await serveApp(t, {}, (app) => {
      app.get('/throw', () => {
        throw new Error('boom');
      });
      app.get('/reject', async () => {
        await delay(1);
        throw new Error('later boom');
      });
      // Keep the test output clean: Express 5 would print the stack. Four parameters: Express tells an
      // error handler by its arity.
      app.use((err, req, res, _next) => res.status(500).send('failed\n'));
    });
    const results = await keepAliveRequests(port, 1, { path: '/throw' });
    results.push(await request({ host: '127.0.0.1', port, path: '/reject' }));
    assert.deepEqual(results.map((r) => r.status), [500, 500]);
    await waitFor(() => middleware.stats().events.txn_close === 2, 2000, 'two txn_close');
    await middleware.close();
    assert.deepEqual(countBy(readLog(logFile).records), { ssn_start: 2, txn_start: 2, send_resp_hdr: 2, txn_close: 2 });
  });

  test('a 404 from the final handler, as the first and as a later request', async (t) => {
    const dir = tempDir(t);
    const logFile = path.join(dir, 'tcpinfo.log');
    const middleware = tcpinfo({ logFile, hooks: ALL_HOOKS });
    t.after(() => middleware.close());
    const app = express();
    app.use(middleware);
    app.get('/here', (req, res) => res.send('here'));
    const port = await listen(t, http.createServer(app));
    const results = await keepAliveRequests(port, 3);
    assert.deepEqual(results.map((r) => r.status), [404, 404, 404]);
    await waitFor(() => middleware.stats().events.txn_close === 3, 2000);
    await middleware.close();
    assert.deepEqual(eventsOf(logFile), ['ssn_start', ...Array(3).fill(PER_REQUEST).flat()]);
  });

  test('a streamed response: one send_resp_hdr at its first chunk, txn_close after its end', async (t) => {
    const { middleware, port, logFile } = await serveApp(t, { logLevel: 2 }, (app) => {
      app.get('/stream', async (req, res) => {
        res.type('text/plain');
        for (let i = 0; i < 5; i++) {
          res.write(`chunk ${i}\n`.repeat(2000));
          await delay(5);
        }
        res.end('end\n');
      });
    });
    const client = new Client(`http://127.0.0.1:${port}`);
    t.after(() => client.destroy());
    for (let i = 0; i < 2; i++) {
      const { statusCode, body } = await client.request({ path: '/stream', method: 'GET' });
      assert.equal(statusCode, 200);
      assert.ok((await body.text()).endsWith('chunk 4\nend\n'));
    }
    await waitFor(() => middleware.stats().events.txn_close === 2, 2000);
    await middleware.close();
    const { records } = readLog(logFile);
    assert.deepEqual(records.map((r) => r.event), ['ssn_start', ...Array(2).fill(PER_REQUEST).flat()]);
    const segsOut = (r) => Number(r.cols.at(-1));
    assert.ok(segsOut(records[6]) > segsOut(records[5]), 'txn_close is read after the body went out');
  });

  test("--log-url logs the path the client asked for (req.originalUrl), not the one Express's routers rewrote", async (t) => {
    const { middleware, port, logFile } = await serveApp(t, { format: 'json', logUrl: true }, (app) => {
      const api = express.Router();
      // Inside a router mounted at /api, req.url is /items/7; a rewriting middleware changes it further.
      api.use((req, res, next) => {
        req.url = '/rewritten';
        next();
      });
      api.get('/rewritten', (req, res) => setTimeout(() => res.send('item\n'), 5));
      app.use('/api', api);
    });
    const { status, body } = await request({ host: '127.0.0.1', port, path: '/api/items/7?secret=1' });
    assert.equal(status, 200);
    assert.equal(body, 'item\n');
    await waitFor(() => middleware.stats().events.txn_close === 1, 2000);
    await middleware.close();
    const lines = readLog(logFile).lines.map((l) => JSON.parse(l)).filter((l) => l.event !== 'ssn_start');
    assert.deepEqual(lines.map((l) => [l.event, l.url]), PER_REQUEST.map((e) => [e, '/api/items/7']));
  });

  test('a client that aborts mid-response: txn_close counted, never thrown, and the server keeps answering', async (t) => {
    let closed;
    const responseClosed = new Promise((resolve) => (closed = resolve));
    const { middleware, port } = await serveApp(t, {}, (app) => {
      app.get('/hang', (req, res) => {
        res.on('close', closed);
        res.write('partial');
      });
    });
    const req = http.get({ host: '127.0.0.1', port, path: '/hang', agent: false }, (res) => res.once('data', () => req.destroy()));
    req.on('error', () => {});
    await responseClosed;
    assert.equal((await request({ host: '127.0.0.1', port, path: '/' })).status, 200);
    await waitFor(() => middleware.stats().events.txn_close === 2, 2000, 'both txn_close');
    const s = middleware.stats();
    assert.deepEqual([s.events.ssn_start, s.events.txn_start, s.events.send_resp_hdr], [2, 2, 2]);
    assert.equal(s.logged.txn_close + s.failedReads, 2);
    await middleware.close();
  });
});

describe('express: one log per server and file', () => {
  test('the same middleware used twice, and a second one on a sub-router naming the same file: each event once', async (t) => {
    const dir = tempDir(t);
    const logFile = path.join(dir, 'tcpinfo.log');
    const first = tcpinfo({ logFile, hooks: ALL_HOOKS });
    const second = tcpinfo({ logFile, hooks: ALL_HOOKS });
    t.after(() => Promise.all([first.close(), second.close()]));
    const app = express();
    app.use(first);
    app.use(first);
    const api = express.Router();
    api.use(second);
    api.get('/x', (req, res) => res.send('api'));
    app.use('/api', api);
    app.use((req, res) => res.send('root'));
    const port = await listen(t, http.createServer(app));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    t.after(() => agent.destroy());
    for (const p of ['/api/x', '/', '/api/x']) assert.equal((await request({ host: '127.0.0.1', port, path: p, agent })).status, 200);
    await waitFor(() => first.stats().events.txn_close === 3, 2000);
    await Promise.all([first.close(), second.close()]);
    assert.deepEqual(eventsOf(logFile), ['ssn_start', ...Array(3).fill(PER_REQUEST).flat()]);
    assert.equal(second.stats().events.txn_start, 0, 'the second one left the server to the first');
  });

  test('two middlewares with different files: each file has every event, once', async (t) => {
    const dir = tempDir(t);
    const fileA = path.join(dir, 'a.log');
    const fileB = path.join(dir, 'b.log');
    const a = tcpinfo({ logFile: fileA, hooks: ALL_HOOKS });
    const b = tcpinfo({ logFile: fileB, hooks: 'ssn_start,txn_close', logLevel: 2 });
    t.after(() => Promise.all([a.close(), b.close()]));
    const app = express();
    app.use(a, b);
    app.use(helloHandler);
    const port = await listen(t, http.createServer(app));
    await keepAliveRequests(port, 3);
    await waitFor(() => b.stats().events.txn_close === 3, 2000);
    await Promise.all([a.close(), b.close()]);
    assert.deepEqual(eventsOf(fileA), ['ssn_start', ...Array(3).fill(PER_REQUEST).flat()]);
    assert.deepEqual(eventsOf(fileB), ['ssn_start', 'txn_close', 'txn_close', 'txn_close']);
    assert.equal(readLog(fileB).records[0].cols.length, 15);
  });

  test('one middleware on two servers: one logger each, stats summed, one file', async (t) => {
    const dir = tempDir(t);
    const logFile = path.join(dir, 'tcpinfo.log');
    const middleware = tcpinfo({ logFile, hooks: 'txn_start' });
    t.after(() => middleware.close());
    const app = express().use(middleware).use(helloHandler);
    const [p1, p2] = [await listen(t, http.createServer(app)), await listen(t, http.createServer(app))];
    await keepAliveRequests(p1, 2);
    await keepAliveRequests(p2, 3);
    await middleware.close();
    assert.equal(middleware.stats().events.txn_start, 5);
    assert.equal(middleware.stats().written, 5);
    assert.equal(readLog(logFile).records.length, 5);
  });
});

describe('express: other stacks', () => {
  test('plain http.createServer: the middleware called first in the handler, with no next', async (t) => {
    const dir = tempDir(t);
    const logFile = path.join(dir, 'tcpinfo.log');
    const middleware = namedTcpinfo(`--hooks=${ALL_HOOKS} --log-file=${logFile}`);
    t.after(() => middleware.close());
    const server = http.createServer((req, res) => {
      middleware(req, res);
      helloHandler(req, res);
    });
    const port = await listen(t, server);
    await keepAliveRequests(port, 2);
    await waitFor(() => middleware.stats().events.txn_close === 2, 2000);
    await middleware.close();
    assert.deepEqual(eventsOf(logFile), ['ssn_start', ...PER_REQUEST, ...PER_REQUEST]);
  });

  test('a Connect-style stack of (req, res, next) functions', async (t) => {
    const dir = tempDir(t);
    const logFile = path.join(dir, 'tcpinfo.log');
    const middleware = tcpinfo({ logFile, hooks: ALL_HOOKS });
    t.after(() => middleware.close());
    const stack = [middleware, (req, res, next) => (req.url === '/missing' ? next() : helloHandler(req, res))];
    const server = http.createServer((req, res) => {
      let i = 0;
      const next = (err) => {
        const layer = stack[i++];
        if (layer !== undefined) return layer(req, res, next);
        res.statusCode = err ? 500 : 404;
        res.end();
      };
      next();
    });
    const port = await listen(t, server);
    const results = await keepAliveRequests(port, 1, { path: '/missing' });
    results.push(...(await keepAliveRequests(port, 1)));
    assert.deepEqual(results.map((r) => r.status), [404, 200]);
    await waitFor(() => middleware.stats().events.txn_close === 2, 2000);
    await middleware.close();
    assert.deepEqual(countBy(readLog(logFile).records), { ssn_start: 2, txn_start: 2, send_resp_hdr: 2, txn_close: 2 });
  });

  test('https: the TLS connection starts at first sight, every event read over TLS', async (t) => {
    const dir = tempDir(t);
    const server = https.createServer(makeCertificate(dir));
    const { middleware, port, logFile } = await serveApp(t, { logLevel: 2 }, undefined, { server });
    const results = await keepAliveRequests(port, 3, { protocol: 'https:' });
    assert.ok(results.every((r) => r.status === 200));
    await waitFor(() => middleware.stats().events.txn_close === 3, 2000);
    await middleware.close();
    assert.deepEqual(eventsOf(logFile), ['ssn_start', ...Array(3).fill(PER_REQUEST).flat()]);
    assert.equal(middleware.stats().failedReads, 0);
  });
});

describe('express: setup and close()', () => {
  test('bad options throw from tcpinfo(), with the message parseOptions gives', () => {
    let expected;
    try {
      parseOptions('--log-level=7 --hooks=ssn_start,nope');
    } catch (err) {
      expected = err.message;
    }
    assert.throws(() => tcpinfo('--log-level=7 --hooks=ssn_start,nope'), (err) => err instanceof TcpinfoConfigError && err.message === expected);
  });

  test('a log file that cannot be opened throws from tcpinfo(), not at the first request', (t) => {
    const dir = tempDir(t);
    assert.throws(() => tcpinfo({ logFile: path.join(dir, 'no-such-dir', 'tcpinfo.log') }), /cannot open for appending/);
  });

  test('close() writes out every line; afterwards the middleware only calls next() and nothing more is logged', async (t) => {
    const { middleware, port, logFile } = await serveApp(t, { hooks: 'txn_start' });
    await keepAliveRequests(port, 3);
    await middleware.close();
    assert.equal(readLog(logFile).records.length, 3, 'every line is in the file once close() resolves');
    const after = await keepAliveRequests(port, 2);
    assert.ok(after.every((r) => r.status === 200));
    await delay(50);
    assert.equal(readLog(logFile).records.length, 3);
    assert.equal(middleware.stats().events.txn_start, 3);
  });

  test('the default export is the named export; options are the effective ones', async (t) => {
    assert.equal(tcpinfo, namedTcpinfo);
    const middleware = tcpinfo({ hooks: ['txn_close'], logFile: path.join(tempDir(t), 'x.log'), logLevel: 2 });
    await middleware.close();
    assert.deepEqual(middleware.options.hooks, ['txn_close']);
    assert.equal(middleware.options.logLevel, 2);
    assert.equal(middleware.options.sampleRate, 1000);
  });
});
