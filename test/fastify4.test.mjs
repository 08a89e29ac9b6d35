// tcpinfo/fastify on Fastify 4 (the fastify4 dev dependency, npm:fastify@^4): the plugin's behaviours of
// fastify.test.mjs (and its route template, HTTP/2 and handle) on real Fastify 4 apps.
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import Fastify from 'fastify4';
import { Client } from 'undici';
import tcpinfo from '../dist/integrations/fastify.js';
import { handleTests } from './support/fastify-handle.mjs';
import { countBy, jsonLines, readLog, request, tempDir, waitFor } from './support/harness.mjs';
import { h2Request } from './support/http2.mjs';

const require = createRequire(import.meta.url);
const ALL_HOOKS = 'ssn_start,txn_start,send_resp_hdr,txn_close';
const PER_REQUEST = ['txn_start', 'send_resp_hdr', 'txn_close'];

/** A Fastify 4 app with the plugin registered, listening on 127.0.0.1 port 0. */
async function serveApp(t, options = {}, routes = () => {}, appOptions = {}) {
  const logFile = path.join(tempDir(t), 'tcpinfo.log');
  const app = Fastify(appOptions);
  t.after(() => app.close());
  await app.register(tcpinfo, { options: { logFile, hooks: ALL_HOOKS, ...options } });
  routes(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, port: app.server.address().port, logFile };
}

function eventsOf(logFile) {
  return readLog(logFile).records.map((r) => r.event);
}

describe('fastify 4', () => {
  test('the app is on Fastify 4; the plugin declares 4.x || 5.x to fastify-plugin', () => {
    assert.equal(Fastify().version.split('.')[0], '4');
    assert.equal(require('fastify4/package.json').version.split('.')[0], '4');
    assert.equal(tcpinfo[Symbol.for('plugin-meta')].fastify, '4.x || 5.x');
    assert.equal(tcpinfo[Symbol.for('skip-override')], true);
  });

  test('keep-alive with undici: one ssn_start, then txn_start, send_resp_hdr, txn_close per request', async (t) => {
    const { app, port, logFile } = await serveApp(t, {}, (app) => app.get('/', async () => ({ hello: 'world' })));
    const client = new Client(`http://127.0.0.1:${port}`);
    t.after(() => client.destroy());
    for (let i = 0; i < 3; i++) {
      const { statusCode, body } = await client.request({ path: '/', method: 'GET' });
      assert.equal(statusCode, 200);
      assert.deepEqual(await body.json(), { hello: 'world' });
    }
    await app.close();
    assert.deepEqual(eventsOf(logFile), ['ssn_start', ...Array(3).fill(PER_REQUEST).flat()]);
  });

  test('a thrown error, a rejected promise, a 404, a hijacked reply in an encapsulated scope: every event', async (t) => {
    const { app, port, logFile } = await serveApp(t, {}, (app) => {
      app.get('/throw', () => {
        throw new Error('boom');
      });
      app.get('/reject', async () => {
        await delay(1);
        throw Object.assign(new Error('teapot'), { statusCode: 418 });
      });
      app.register(async (child) => {
        child.get('/raw', (req, reply) => {
          reply.hijack();
          reply.raw.writeHead(201, { 'content-type': 'text/plain' });
          reply.raw.end('raw\n');
        });
      }, { prefix: '/child' });
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    t.after(() => agent.destroy());
    const statuses = [];
    for (const p of ['/throw', '/reject', '/nowhere', '/child/raw']) statuses.push((await request({ host: '127.0.0.1', port, path: p, agent })).status);
    assert.deepEqual(statuses, [500, 418, 404, 201]);
    await app.close();
    assert.deepEqual(countBy(readLog(logFile).records), { ssn_start: 1, txn_start: 4, send_resp_hdr: 4, txn_close: 4 });
  });

  test('fastify.close() waits for a request in flight, then writes out its txn_close', async (t) => {
    let started;
    const inFlight = new Promise((resolve) => (started = resolve));
    const { app, port, logFile } = await serveApp(t, { hooks: 'txn_start,txn_close' }, (app) => {
      app.get('/slow', async () => {
        started();
        await delay(150);
        return 'slow';
      });
    });
    const slow = request({ host: '127.0.0.1', port, path: '/slow', agent: false });
    await inFlight;
    await app.close();
    assert.equal((await slow).status, 200);
    assert.deepEqual(eventsOf(logFile), ['txn_start', 'txn_close']);
  });

  test('--explain --log-url: the route template (routeOptions.url) on the verdict line', async (t) => {
    const { app, port, logFile } = await serveApp(t, { hooks: 'txn_close', explain: true, format: 'json', logUrl: true }, (app) => {
      app.get('/items/:sku', async () => 'item');
    });
    await request({ host: '127.0.0.1', port, path: '/items/abc-123?color=red' });
    await waitFor(() => jsonLines(logFile).some((l) => l.event === 'txn_delivered'), 3000, 'the verdict');
    await app.close();
    const verdict = jsonLines(logFile).find((l) => l.event === 'txn_delivered');
    assert.deepEqual([verdict.url, verdict.route], ['/items/abc-123', '/items/:sku']);
  });

  test('http2: true: each stream is a transaction, with its stream id', async (t) => {
    const { app, port, logFile } = await serveApp(t, { format: 'json', hooks: 'txn_start,txn_close' }, (app) => {
      app.get('/hi', async () => 'hi');
    }, { http2: true });
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const answers = await Promise.all(['/hi', '/hi', '/nope'].map((p) => h2Request(session, p)));
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 404]);
    session.close();
    await app.close();
    const closes = jsonLines(logFile).filter((l) => l.event === 'txn_close');
    assert.deepEqual(closes.map((l) => l.stream).sort(), [1, 3, 5]);
    assert.deepEqual(closes.map((l) => l.status).sort(), [200, 200, 404]);
  });

  test('tcpinfo options at the top level are refused with a pointer to { options }', async () => {
    const app = Fastify();
    app.register(tcpinfo, { hooks: 'txn_start' });
    await assert.rejects(app.ready(), /tcpinfo's options go under "options"/);
  });
});

handleTests(Fastify);
