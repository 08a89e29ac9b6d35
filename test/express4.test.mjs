// tcpinfo/express on Express 4 (the express4 dev dependency, npm:express@^4): the middleware's behaviours of
// express.test.mjs that involve Express itself (routers, error handling, the final 404, res.send), on a real app.
import assert from 'node:assert/strict';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import express from 'express4';
import { Client } from 'undici';
import tcpinfo from '../dist/integrations/express.js';
import { countBy, jsonLines, keepAliveRequests, LEVEL1_HEADER, listen, readLog, request, tempDir, waitFor } from './support/harness.mjs';

const require = createRequire(import.meta.url);
const ALL_HOOKS = 'ssn_start,txn_start,send_resp_hdr,txn_close';
const PER_REQUEST = ['txn_start', 'send_resp_hdr', 'txn_close'];

/** An Express 4 app with the middleware first, on 127.0.0.1 port 0. */
async function serveApp(t, options = {}, routes = () => {}) {
  const logFile = path.join(tempDir(t), 'tcpinfo.log');
  const middleware = tcpinfo({ logFile, hooks: ALL_HOOKS, ...options });
  t.after(() => middleware.close());
  const app = express();
  app.use(middleware);
  routes(app);
  app.get('*', (req, res) => res.send('hello world\n'));
  const port = await listen(t, http.createServer(app));
  return { middleware, port, logFile };
}

function eventsOf(logFile) {
  return readLog(logFile).records.map((r) => r.event);
}

describe('express 4', () => {
  test('the app is on Express 4', () => {
    assert.equal(require('express4/package.json').version.split('.')[0], '4');
  });

  test('keep-alive with undici: ssn_start at first sight, then txn_start, send_resp_hdr, txn_close per request', async (t) => {
    const { middleware, port, logFile } = await serveApp(t);
    const client = new Client(`http://127.0.0.1:${port}`);
    t.after(() => client.destroy());
    for (let i = 0; i < 3; i++) {
      const { statusCode, body } = await client.request({ path: `/${i}`, method: 'GET' });
      assert.equal(statusCode, 200);
      assert.equal(await body.text(), 'hello world\n');
    }
    await keepAliveRequests(port, 1);
    await waitFor(() => middleware.stats().events.txn_close === 4, 2000, 'four txn_close');
    await middleware.close();
    assert.deepEqual(readLog(logFile).headers, [LEVEL1_HEADER]);
    assert.deepEqual(eventsOf(logFile), ['ssn_start', ...Array(3).fill(PER_REQUEST).flat(), 'ssn_start', ...PER_REQUEST]);
    assert.equal(middleware.stats().failedReads, 0);
  });

  test('a thrown error, next(err) and a 404 from the final handler: every event of each', async (t) => {
    const logFile = path.join(tempDir(t), 'tcpinfo.log');
    const middleware = tcpinfo({ logFile, hooks: ALL_HOOKS });
    t.after(() => middleware.close());
    const app = express();
    app.use(middleware);
    app.get('/throw', () => {
      throw new Error('boom');
    });
    app.get('/next', (req, res, next) => setTimeout(() => next(new Error('later boom')), 1));
    // Four parameters: Express tells an error handler by its arity (and then prints no stack).
    app.use((err, req, res, _next) => res.status(500).send('failed\n'));
    const port = await listen(t, http.createServer(app));
    const statuses = [];
    for (const p of ['/throw', '/next', '/nowhere']) statuses.push((await request({ host: '127.0.0.1', port, path: p })).status);
    assert.deepEqual(statuses, [500, 500, 404]);
    await waitFor(() => middleware.stats().events.txn_close === 3, 2000, 'three txn_close');
    await middleware.close();
    assert.deepEqual(countBy(readLog(logFile).records), { ssn_start: 1, txn_start: 3, send_resp_hdr: 3, txn_close: 3 });
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
    const [result] = await keepAliveRequests(port, 1, { path: '/stream' });
    assert.ok(result.body.endsWith('chunk 4\nend\n'));
    await waitFor(() => middleware.stats().events.txn_close === 1, 2000);
    await middleware.close();
    const { records } = readLog(logFile);
    assert.deepEqual(records.map((r) => r.event), ['ssn_start', ...PER_REQUEST]);
    const segsOut = (r) => Number(r.cols.at(-1));
    assert.ok(segsOut(records[3]) > segsOut(records[2]), 'txn_close is read after the body went out');
  });

  test('--log-url logs req.originalUrl under a router; --explain: the route template under its baseUrl', async (t) => {
    const { middleware, port, logFile } = await serveApp(t, { format: 'json', logUrl: true, explain: true, hooks: 'txn_start,txn_close' }, (app) => {
      const users = express.Router();
      users.get('/:id/orders/:order', (req, res) => res.send('order\n'));
      app.use('/users', users);
    });
    for (const p of ['/users/42/orders/7?secret=1', '/elsewhere']) assert.equal((await request({ host: '127.0.0.1', port, path: p })).status, 200);
    await waitFor(() => jsonLines(logFile).filter((l) => l.event === 'txn_delivered').length === 2, 3000, 'two verdicts');
    await middleware.close();
    const lines = jsonLines(logFile);
    assert.deepEqual(lines.filter((l) => l.event === 'txn_start').map((l) => l.url), ['/users/42/orders/7', '/elsewhere']);
    assert.deepEqual(lines.filter((l) => l.event === 'txn_delivered').map((l) => l.route), ['/users/:id/orders/:order', '*']);
  });

  test('used twice and again in a sub-router naming the same file: each event once; close() then only next()', async (t) => {
    const logFile = path.join(tempDir(t), 'tcpinfo.log');
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
    // Closed: the app still answers, nothing more is logged.
    assert.equal((await request({ host: '127.0.0.1', port, path: '/api/x', agent })).status, 200);
    await delay(50);
    assert.equal(readLog(logFile).records.length, 10);
  });
});
