// The route template on verdict lines (JSON, --explain --log-url), for `tcpinfo explain --by=route`: Express's
// req.route under its router's baseUrl, Fastify's routeOptions.url through its plugin, none on a plain server.
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import express from 'express';
import Fastify from 'fastify';
import { attach } from '../dist/index.js';
import tcpinfoExpress from '../dist/integrations/express.js';
import tcpinfoFastify from '../dist/integrations/fastify.js';
import { jsonLines, listen, request, tempDir, waitFor } from './support/harness.mjs';

const OPTIONS = '--hooks=txn_close --explain --format=json --log-url';

function verdicts(logFile) {
  return jsonLines(logFile).filter((l) => l.event === 'txn_delivered');
}

test('Express: the route template under the router it is mounted in; a path no route matched has none', async (t) => {
  const logFile = path.join(tempDir(t), 'tcpinfo.log');
  const app = express();
  const middleware = tcpinfoExpress(`${OPTIONS} --log-file=${logFile}`);
  app.use(middleware);
  const users = express.Router();
  users.get('/:id/orders/:order', (req, res) => res.send('order'));
  app.use('/users', users);
  app.get('/health', (req, res) => res.send('ok'));
  const server = http.createServer(app);
  t.after(() => middleware.close());
  const port = await listen(t, server);
  for (const p of ['/users/42/orders/7', '/users/43/orders/8', '/health', '/nowhere']) await request({ host: '127.0.0.1', port, path: p });
  await waitFor(() => verdicts(logFile).length === 4, 3000, 'four verdicts');
  const lines = verdicts(logFile);
  assert.deepEqual(lines.map((l) => [l.url, l.route]), [
    ['/users/42/orders/7', '/users/:id/orders/:order'],
    ['/users/43/orders/8', '/users/:id/orders/:order'],
    ['/health', '/health'],
    ['/nowhere', undefined],
  ]);
});

test('Fastify: the route template from routeOptions.url', async (t) => {
  const logFile = path.join(tempDir(t), 'tcpinfo.log');
  const app = Fastify();
  await app.register(tcpinfoFastify, { options: `${OPTIONS} --log-file=${logFile}` });
  app.get('/items/:sku', async () => 'item');
  await app.listen({ port: 0, host: '127.0.0.1' });
  t.after(() => app.close());
  const { port } = app.server.address();
  await request({ host: '127.0.0.1', port, path: '/items/abc-123?color=red' });
  await waitFor(() => verdicts(logFile).length === 1, 3000, 'the verdict');
  const [line] = verdicts(logFile);
  assert.equal(line.url, '/items/abc-123', 'never the query string');
  assert.equal(line.route, '/items/:sku');
});

test('a plain server: no route key; without --log-url neither url nor route', async (t) => {
  const dir = tempDir(t);
  const server = http.createServer((req, res) => res.end('x'));
  const withUrl = attach(server, `${OPTIONS} --log-file=${path.join(dir, 'a.log')}`);
  const withoutUrl = attach(server, `--hooks=txn_close --explain --format=json --log-file=${path.join(dir, 'b.log')}`);
  t.after(() => Promise.all([withUrl.close(), withoutUrl.close()]));
  const port = await listen(t, server);
  await request({ host: '127.0.0.1', port, path: '/a/1' });
  await waitFor(() => verdicts(path.join(dir, 'a.log')).length === 1 && verdicts(path.join(dir, 'b.log')).length === 1, 3000, 'the verdicts');
  const [a] = verdicts(path.join(dir, 'a.log'));
  const [b] = verdicts(path.join(dir, 'b.log'));
  assert.equal(a.url, '/a/1');
  assert.ok(!('route' in a));
  assert.ok(!('url' in b) && !('route' in b));
});
