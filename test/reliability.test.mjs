// Reliability: hostile clients, bad configuration in bulk. Churn with fd reuse and the small soak:
// slow/soak.test.mjs (`npm run soak` for the full size).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { describe, test } from 'node:test';
import { TcpinfoConfigError, attach } from '../dist/index.js';
import { countBy, listen, readLog, tempDir, waitFor } from './support/harness.mjs';

describe('hostile clients', () => {
  test('slow headers, resets mid-response, half-close, 431, pipelining, garbage: others are served, every txn gets its txn_close', async (t) => {
    const dir = tempDir(t);
    const logFile = path.join(dir, 'tcpinfo.log');
    const uncaught = [];
    const onUncaught = (err) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    t.after(() => process.removeListener('uncaughtException', onUncaught));
    const server = http.createServer({ headersTimeout: 400, requestTimeout: 800, connectionsCheckingInterval: 100 }, (req, res) => {
      if (req.url === '/stream') {
        // A long response the client will reset in the middle of.
        res.writeHead(200, { 'content-type': 'text/plain' });
        const timer = setInterval(() => res.write('x'.repeat(16_384)), 5);
        res.on('close', () => clearInterval(timer));
        return;
      }
      req.resume();
      req.on('end', () => res.end('fine\n'));
    });
    const handle = attach(server, { logFile, hooks: 'ssn_start,txn_start,send_resp_hdr,txn_close,ssn_close' });
    const port = await listen(t, server);
    const raw = async (bytes, { reset = false, wait = 2000 } = {}) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => {});
      await once(socket, 'connect');
      let got = '';
      socket.on('data', (d) => {
        got += d.toString('latin1');
        if (reset && got.length > 40_000) socket.resetAndDestroy();
      });
      if (bytes !== null) socket.write(bytes);
      await Promise.race([once(socket, 'close'), new Promise((r) => setTimeout(r, wait))]);
      socket.destroy();
      return got;
    };
    const ok = () => raw('GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const results = await Promise.all([
      raw('GET /slow HTTP/1.1\r\nHost: x\r\n', { wait: 3000 }), // never finishes its headers
      raw('GET /stream HTTP/1.1\r\nHost: x\r\n\r\n', { reset: true }), // RST mid-response
      (async () => {
        const s = net.connect(port, '127.0.0.1');
        await once(s, 'connect');
        let got = '';
        s.on('data', (d) => (got += d));
        s.end('GET /half HTTP/1.1\r\nHost: x\r\n\r\n'); // half-close: FIN right after the request
        await once(s, 'close');
        return got;
      })(),
      raw(`GET /big HTTP/1.1\r\nHost: x\r\nX-Big: ${'h'.repeat(20_000)}\r\n\r\n`), // 431
      raw('GET /p1 HTTP/1.1\r\nHost: x\r\n\r\nGET /p2 HTTP/1.1\r\nHost: x\r\n\r\nGET /p3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      raw('\x00\x01\x02 garbage \xff\r\n\r\n'), // not HTTP
      ok(),
      ok(),
    ]);
    const [slow, , half, big, pipelined, garbage, ok1, ok2] = results;
    assert.match(slow, /^$|HTTP\/1.1 408/, 'slow headers: nothing, or 408 when the server gives up');
    assert.match(half, /HTTP\/1.1 200/);
    assert.match(big, /HTTP\/1.1 431/);
    assert.equal(pipelined.match(/HTTP\/1.1 200/g).length, 3);
    assert.match(garbage, /HTTP\/1.1 400/);
    assert.match(ok1, /HTTP\/1.1 200/);
    assert.match(ok2, /HTTP\/1.1 200/);
    // Everyone else is still served after all that.
    assert.match(await ok(), /HTTP\/1.1 200/);
    await waitFor(() => handle.stats().events.txn_close === handle.stats().events.txn_start, 3000, 'a txn_close per txn_start');
    await waitFor(() => handle.stats().events.ssn_close === handle.stats().events.ssn_start, 3000, 'every session closed');
    await handle.close();
    const s = handle.stats();
    // The requests Node answered by itself are transactions too: the 431, the 400 and the 408 if it came.
    const transactions = 10 + (/408/.test(slow) ? 1 : 0);
    assert.equal(s.events.txn_start, transactions, 'stream, half, p1, p2, p3, three /ok, and big, garbage (and slow) answered by Node');
    const counts = countBy(readLog(logFile).records);
    assert.equal(counts.txn_start, transactions);
    assert.equal(counts.txn_close, transactions, 'a txn_close line for every transaction that started, the reset one too');
    assert.equal(counts.ssn_close, counts.ssn_start);
    assert.deepEqual(uncaught, []);
  });
});

describe('bad configuration, in bulk', () => {
  const bad = [
    '--log-level=0', '--log-level=3', '--log-level=', '--log-level=one', '-l 9',
    '--sample-rate=1001', '--sample-rate=-5', '--sample-rate=0x10', '--sample-rate=1e3', '--sample-rate=10.5',
    '--rolling-size=5', '--rolling-size=9', '--rolling-size=10MB', '--rolling-size=-1', '--rolling-size=1T',
    '--rolling-enabled=4', '--rolling-enabled=-1', '--rolling-offset-hr=24', '--rolling-interval-sec=59',
    '--rolling-interval-sec=86401', '--hooks=', '--hooks=ssn_start,bogus', '--hooks=periodic', '--hooks=ssn_start,,txn_close',
    '--bogus=1', '--log-level=2 --log-level=1', 'stray', '--log-file=dir/', '--queue-lines=10',
    '--update-period=-1', '--update-period=1.5', '--fields=rtt,nope', '--fields=', '--format=xml', '--sample-by=conn',
    '--metrics-port=9100', '--metrics --metrics-port=65536', '--log-url=maybe', '--metrics=2', '-z 1',
    { logLevel: 5 }, { hooks: 42 }, { sampleRate: '1,000' }, { unknownKey: true }, { fields: ['rtt', 5] },
  ];
  test(`${bad.length} malformed configurations: each a TcpinfoConfigError at attach, and no half-started server`, async (t) => {
    assert.ok(bad.length >= 40);
    const dir = tempDir(t);
    for (const options of bad) {
      const server = http.createServer(() => {});
      const before = [server.listenerCount('request'), server.listenerCount('connection')];
      const logFile = path.join(dir, 'never.log');
      const input = typeof options === 'string' ? `--log-file=${logFile} ${options}` : { logFile, ...options };
      assert.throws(() => attach(server, input), (err) => {
        assert.ok(err instanceof TcpinfoConfigError, `${JSON.stringify(options)}: ${err}`);
        assert.match(err.message, /^tcpinfo: invalid configuration\n {2}\S/);
        return true;
      });
      assert.deepEqual([server.listenerCount('request'), server.listenerCount('connection')], before, JSON.stringify(options));
      assert.equal(fs.existsSync(logFile), false, `${JSON.stringify(options)} created the log`);
    }
    // A log file that cannot be opened is an error at attach too, and leaves nothing behind.
    const server = http.createServer(() => {});
    const before = server.listenerCount('request');
    assert.throws(() => attach(server, { logFile: path.join(dir, 'missing-dir', 'x.log') }), /cannot open|ENOENT/);
    assert.equal(server.listenerCount('request'), before);
  });
});

