// tcpinfo/fastify: real Fastify 5 apps on loopback, real clients (undici, node:http), the log file as written (Fastify 4: fastify4.test.mjs).
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import Fastify from 'fastify';
import fp from 'fastify-plugin';
import { Client } from 'undici';
import { parseOptions, TcpinfoConfigError } from '../dist/index.js';
import tcpinfo, { tcpinfo as namedTcpinfo } from '../dist/integrations/fastify.js';
import { handleTests } from './support/fastify-handle.mjs';
import { LEVEL1_HEADER, countBy, keepAliveRequests, readLog, request, tempDir, waitFor } from './support/harness.mjs';

const ALL_HOOKS = 'ssn_start,txn_start,send_resp_hdr,txn_close';
const PER_REQUEST = ['txn_start', 'send_resp_hdr', 'txn_close'];

/** A Fastify app with the plugin registered first (or after `before`), listening on 127.0.0.1 port 0. */
async function serveApp(t, options = {}, routes = () => {}, { before } = {}) {
  const dir = tempDir(t);
  const logFile = path.join(dir, 'tcpinfo.log');
  const app = Fastify();
  t.after(() => app.close());
  if (before) before(app);
  await app.register(tcpinfo, { options: { logFile, hooks: ALL_HOOKS, ...options } });
  routes(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, port: app.server.address().port, logFile, dir };
}

/** Number of lines of `event` in the file. */
function linesOf(logFile, event) {
  try {
    return readLog(logFile).records.filter((r) => r.event === event).length;
  } catch {
    return 0;
  }
}

function eventsOf(logFile) {
  return readLog(logFile).records.map((r) => r.event);
}

describe('fastify: events', () => {
  test('keep-alive with undici: one ssn_start, then txn_start, send_resp_hdr, txn_close per request', async (t) => {
    const { app, port, logFile } = await serveApp(t, {}, (app) => app.get('/', async () => ({ hello: 'world' })));
    const client = new Client(`http://127.0.0.1:${port}`);
    t.after(() => client.destroy());
    for (let i = 0; i < 4; i++) {
      const { statusCode, body } = await client.request({ path: '/', method: 'GET' });
      assert.equal(statusCode, 200);
      assert.deepEqual(await body.json(), { hello: 'world' });
    }
    await app.close();
    const { headers } = readLog(logFile);
    assert.deepEqual(headers, [LEVEL1_HEADER]);
    assert.deepEqual(eventsOf(logFile), ['ssn_start', ...Array(4).fill(PER_REQUEST).flat()]);
  });

  test('a thrown error, a rejected promise and a 404: Fastify answers, every event is logged', async (t) => {
    const { app, port, logFile } = await serveApp(t, {}, (app) => {
      app.get('/throw', () => {
        throw new Error('boom');
      });
      app.get('/reject', async () => {
        await delay(1);
        throw Object.assign(new Error('teapot'), { statusCode: 418 });
      });
    });
    const results = [];
    for (const p of ['/throw', '/reject', '/nowhere']) results.push(await request({ host: '127.0.0.1', port, path: p, agent: false }));
    assert.deepEqual(results.map((r) => r.status), [500, 418, 404]);
    await waitFor(() => linesOf(logFile, 'txn_close') === 3, 2000, 'three txn_close');
    await app.close();
    assert.deepEqual(countBy(readLog(logFile).records), { ssn_start: 3, txn_start: 3, send_resp_hdr: 3, txn_close: 3 });
  });

  test('a streamed response (reply.send of a Readable): one send_resp_hdr, txn_close after the last byte', async (t) => {
    const { app, port, logFile } = await serveApp(t, { logLevel: 2 }, (app) => {
      app.get('/stream', (req, reply) => {
        async function* chunks() {
          for (let i = 0; i < 5; i++) {
            yield `chunk ${i}\n`.repeat(2000);
            await delay(5);
          }
        }
        reply.type('text/plain').send(Readable.from(chunks()));
      });
    });
    const client = new Client(`http://127.0.0.1:${port}`);
    t.after(() => client.destroy());
    for (let i = 0; i < 2; i++) {
      const { statusCode, body } = await client.request({ path: '/stream', method: 'GET' });
      assert.equal(statusCode, 200);
      assert.equal((await body.text()).length, 5 * 2000 * 'chunk 0\n'.length);
    }
    await app.close();
    const { records } = readLog(logFile);
    assert.deepEqual(records.map((r) => r.event), ['ssn_start', ...Array(2).fill(PER_REQUEST).flat()]);
    const segsOut = (r) => Number(r.cols.at(-1));
    assert.ok(segsOut(records[3]) > segsOut(records[2]) + 3, 'txn_close is read after the body went out');
  });

  test('a client that aborts mid-response: counted, never thrown, and the app keeps answering', async (t) => {
    let closed;
    const responseClosed = new Promise((resolve) => (closed = resolve));
    const { app, port, logFile } = await serveApp(t, { hooks: 'txn_start,txn_close' }, (app) => {
      app.get('/hang', (req, reply) => {
        reply.raw.on('close', closed);
        reply.hijack();
        reply.raw.writeHead(200, { 'content-type': 'text/plain' });
        reply.raw.write('partial');
      });
      app.get('/', async () => 'ok');
    });
    const req = http.get({ host: '127.0.0.1', port, path: '/hang', agent: false }, (res) => res.once('data', () => req.destroy()));
    req.on('error', () => {});
    await responseClosed;
    assert.equal((await request({ host: '127.0.0.1', port, path: '/' })).status, 200);
    await waitFor(() => linesOf(logFile, 'txn_close') >= 1, 2000, 'the second txn_close');
    await app.close();
    const counts = countBy(readLog(logFile).records);
    assert.equal(counts.txn_start, 2);
    // The aborted one may have had no socket left to read at its txn_close: then there is no line for it.
    assert.ok(counts.txn_close === 1 || counts.txn_close === 2, JSON.stringify(counts));
  });

  test('encapsulated scopes (registered before and after the plugin), hooks of their own, and reply.raw', async (t) => {
    const { app, port, logFile } = await serveApp(
      t,
      {},
      (app) => {
        app.register(async (child) => {
          child.addHook('onRequest', async (req, reply) => {
            reply.header('x-child', 'after');
          });
          child.get('/raw', (req, reply) => {
            reply.hijack();
            reply.raw.writeHead(201, { 'content-type': 'text/plain' });
            reply.raw.end('raw\n');
          });
          child.register(async (grandchild) => grandchild.get('/deep', async () => 'deep'), { prefix: '/g' });
        }, { prefix: '/after' });
      },
      {
        before(app) {
          app.register(async (child) => child.get('/x', async () => 'before'), { prefix: '/before' });
        },
      },
    );
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    t.after(() => agent.destroy());
    const results = [];
    for (const p of ['/before/x', '/after/raw', '/after/g/deep']) results.push(await request({ host: '127.0.0.1', port, path: p, agent }));
    assert.deepEqual(results.map((r) => [r.status, r.body]), [[200, 'before'], [201, 'raw\n'], [200, 'deep']]);
    await app.close();
    assert.deepEqual(eventsOf(logFile), ['ssn_start', ...Array(3).fill(PER_REQUEST).flat()]);
  });
});

describe('fastify: registration and close', () => {
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
    // No wait: close() resolved after the line was written.
    assert.deepEqual(eventsOf(logFile), ['txn_start', 'txn_close']);
  });

  test('options as a string; the same message as parseOptions for bad ones, at ready()', async (t) => {
    const dir = tempDir(t);
    const logFile = path.join(dir, 'tcpinfo.log');
    const app = Fastify();
    t.after(() => app.close());
    app.register(tcpinfo, { options: `--hooks=txn_start --log-file=${logFile}` });
    app.get('/', async () => 'ok');
    await app.listen({ port: 0, host: '127.0.0.1' });
    await keepAliveRequests(app.server.address().port, 2);
    await app.close();
    assert.deepEqual(eventsOf(logFile), ['txn_start', 'txn_start']);

    const expected = (() => {
      try {
        parseOptions('--log-level=9 -r 2000');
      } catch (err) {
        return err.message;
      }
    })();
    const bad = Fastify();
    bad.register(tcpinfo, { options: '--log-level=9 -r 2000' });
    await assert.rejects(bad.ready(), (err) => err instanceof TcpinfoConfigError && err.message === expected);
  });

  test('tcpinfo options at the top level are refused with a pointer to { options }', async () => {
    const app = Fastify();
    app.register(tcpinfo, { hooks: 'txn_start' });
    await assert.rejects(app.ready(), /tcpinfo's options go under "options"/);
  });

  test('registered twice with two files: both complete; metadata, default and named export', async (t) => {
    const dir = tempDir(t);
    const fileA = path.join(dir, 'a.log');
    const fileB = path.join(dir, 'b.log');
    const app = Fastify();
    t.after(() => app.close());
    await app.register(tcpinfo, { options: { logFile: fileA, hooks: ALL_HOOKS } });
    await app.register(namedTcpinfo, { options: { logFile: fileB, hooks: ['ssn_start'], logLevel: 2 }, decorator: 'tcpinfoB' });
    app.get('/', async () => 'ok');
    await app.listen({ port: 0, host: '127.0.0.1' });
    assert.equal(app.hasPlugin('tcpinfo'), true);
    assert.equal(tcpinfo, namedTcpinfo);
    assert.equal(tcpinfo[Symbol.for('skip-override')], true, 'not encapsulated: its hooks are the whole app\'s');
    await keepAliveRequests(app.server.address().port, 2);
    await app.close();
    assert.deepEqual(eventsOf(fileA), ['ssn_start', ...PER_REQUEST, ...PER_REQUEST]);
    assert.deepEqual(eventsOf(fileB), ['ssn_start']);
    assert.equal(readLog(fileB).records[0].cols.length, 15);
  });

  test('a plugin that depends on it by name loads after it', async (t) => {
    const dir = tempDir(t);
    const app = Fastify();
    t.after(() => app.close());
    app.register(tcpinfo, { options: { logFile: path.join(dir, 't.log') } });
    app.register(fp(async () => {}, { name: 'needs-tcpinfo', dependencies: ['tcpinfo'] }));
    await app.ready();
    assert.equal(app.hasPlugin('needs-tcpinfo'), true);
    await app.close();
  });
});

handleTests(Fastify);
