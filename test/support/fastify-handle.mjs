// The Fastify plugin's handle (fastify.tcpinfo: options, stats(), close(), as the Express middleware has them),
// run by fastify.test.mjs on Fastify 5 and by fastify4.test.mjs on Fastify 4.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import tcpinfo from '../../dist/integrations/fastify.js';
import { keepAliveRequests, readLog, tempDir, waitFor } from './harness.mjs';

const PER_REQUEST = ['txn_start', 'send_resp_hdr', 'txn_close'];

export function handleTests(Fastify) {
  describe('fastify: the handle (fastify.tcpinfo)', () => {
    test('options, stats() as requests pass, close() writes out every line and stops logging; fastify.close() after it', async (t) => {
      const logFile = path.join(tempDir(t), 'tcpinfo.log');
      const app = Fastify();
      t.after(() => app.close());
      await app.register(tcpinfo, { options: { logFile, hooks: ['ssn_start', 'txn_start', 'send_resp_hdr', 'txn_close'] } });
      app.get('/', async () => 'ok');
      await app.listen({ port: 0, host: '127.0.0.1' });
      const port = app.server.address().port;
      const handle = app.tcpinfo;
      assert.equal(handle.options.logFile, logFile);
      assert.deepEqual(handle.options.hooks, ['ssn_start', 'txn_start', 'send_resp_hdr', 'txn_close']);

      await keepAliveRequests(port, 3);
      await waitFor(() => handle.stats().events.txn_close === 3, 2000, 'three txn_close');
      const s = handle.stats();
      assert.deepEqual([s.events.ssn_start, s.events.txn_start, s.events.send_resp_hdr], [1, 3, 3]);
      assert.deepEqual([s.logged.ssn_start, s.logged.txn_close, s.failedReads], [1, 3, 0]);

      await handle.close();
      assert.deepEqual(readLog(logFile).records.map((r) => r.event), ['ssn_start', ...Array(3).fill(PER_REQUEST).flat()]);
      assert.equal(handle.stats().written, 10);
      // Closed: the app still answers, nothing more is logged; fastify.close() then closes nothing twice.
      assert.ok((await keepAliveRequests(port, 2, { path: '/' })).every((r) => r.status === 200));
      await delay(50);
      assert.equal(readLog(logFile).records.length, 10);
      await app.close();
      assert.equal(handle.stats().events.txn_start, 3);
    });

    test('registered twice: the second under a decorator of its own, each handle its own file; the same name twice is refused', async (t) => {
      const dir = tempDir(t);
      const fileA = path.join(dir, 'a.log');
      const fileB = path.join(dir, 'b.log');
      const app = Fastify();
      t.after(() => app.close());
      await app.register(tcpinfo, { options: { logFile: fileA, hooks: 'txn_close' } });
      await app.register(tcpinfo, { options: { logFile: fileB, hooks: 'ssn_start', logLevel: 2 }, decorator: 'tcpinfoSessions' });
      app.get('/', async () => 'ok');
      await app.listen({ port: 0, host: '127.0.0.1' });
      await keepAliveRequests(app.server.address().port, 2);
      await waitFor(() => app.tcpinfo.stats().events.txn_close === 2, 2000, 'two txn_close');
      assert.equal(app.tcpinfoSessions.stats().events.ssn_start, 1);
      assert.equal(app.tcpinfoSessions.options.logFile, fileB);
      await app.close();
      assert.equal(app.tcpinfo.stats().written, 2);
      assert.equal(app.tcpinfoSessions.stats().written, 1);

      const twice = Fastify();
      await twice.register(tcpinfo, { options: { logFile: path.join(dir, 'c.log') } });
      twice.register(tcpinfo, { options: { logFile: path.join(dir, 'd.log') } });
      await assert.rejects(twice.ready(), (err) => err.code === 'ERR_TCPINFO_INVALID_ARGUMENT' &&
        /fastify\.tcpinfo is already taken .*decorator: 'tcpinfo2'/.test(err.message));
      await twice.close();
    });

    test('a decorator that is not a non-empty string, or one the app has taken: refused at ready(), naming it', async () => {
      for (const [decorator, message] of [[5, /decorator: 5 \}\): decorator must be a non-empty string/], ['', /decorator: "" \}\)/]]) {
        const app = Fastify();
        app.register(tcpinfo, { options: { hooks: 'txn_close', logFile: 'stderr' }, decorator });
        await assert.rejects(app.ready(), message);
        await app.close();
      }
      const app = Fastify();
      app.decorate('tcpinfo', 'the app\'s own');
      app.register(tcpinfo, { options: { logFile: 'stderr' } });
      await assert.rejects(app.ready(), /fastify\.tcpinfo is already taken/);
      await app.close();
    });
  });
}
