// Reliability at volume. Churn: 1,500 short connections as fast as they come, fds reused at once, every
// reading of the connection its line names. The soak, small (`npm run soak` runs it at full size): 200
// keep-alive connections, 25 requests each, every hook; lines per event equal the events seen; fds back.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { describe, test } from 'node:test';
import { Agent, request as undiciRequest } from 'undici';
import { attach } from '../../dist/index.js';
import { wrongReadings } from '../../scripts/churn-check.mjs';
import { countBy, listen, readLog, tempDir, waitFor } from '../support/harness.mjs';

function openFds() {
  return fs.readdirSync('/proc/self/fd').length;
}

function jsonLines(file) {
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

describe('churn', () => {
  test('short connections as fast as they come: every reading is of the connection its line names', async (t) => {
    const dir = tempDir(t);
    const logFile = path.join(dir, 'tcpinfo.log');
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    const baseline = { request: server.listenerCount('request'), connection: server.listenerCount('connection') };
    const handle = attach(server, { logFile, hooks: 'txn_close,ssn_close', format: 'json', fields: 'bytes_received,data_segs_in' });
    const port = await listen(t, server);
    // Each connection sends a request of its own size: a reading of any other connection would show
    // another bytes_received. fd numbers are reused at once, so a cached fd would show exactly that.
    const sizes = [];
    const n = 1500;
    let next = 0;
    async function worker() {
      while (next < n) {
        const i = next++;
        // Sizes 3 bytes apart: Linux counts a received FIN in bytes_received, so a reading may be one more.
        const body = 'b'.repeat(3 * i);
        const head = `POST /${i} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
        const socket = net.connect(port, '127.0.0.1');
        await once(socket, 'connect');
        sizes.push([socket.localPort, Buffer.byteLength(head) + body.length]);
        socket.end(head + body);
        socket.resume();
        await once(socket, 'close');
      }
    }
    await Promise.all(Array.from({ length: 16 }, worker));
    await waitFor(() => handle.stats().events.ssn_close === n, 5000, 'every connection closed');
    await handle.close();
    const lines = jsonLines(logFile);
    assert.deepEqual(countBy(lines), { txn_close: n, ssn_close: n });
    // Client ports are reused at once (the server closes first): matched per port, in connection order.
    assert.equal(wrongReadings(sizes, lines), 0, 'lines carrying another connection\'s bytes_received');
    // Nothing left behind on the server.
    assert.equal(server.listenerCount('request'), baseline.request);
    assert.equal(server.listenerCount('connection'), baseline.connection);
    assert.equal(handle.stats().failedReads, 0);
  });
});

describe('soak (small; npm run soak for the full size)', () => {
  test('many keep-alive connections, all hooks: lines per event equal the events seen, fds back to baseline', async (t) => {
    const dir = tempDir(t);
    const logFile = path.join(dir, 'tcpinfo.log');
    const server = http.createServer((req, res) => res.end('hello world\n'));
    const fdsBefore = openFds();
    const handle = attach(server, { logFile, hooks: 'ssn_start,txn_start,send_resp_hdr,txn_close,ssn_close', logLevel: 2 });
    const port = await listen(t, server);
    const connections = 200;
    const perConnection = 25;
    const dispatcher = new Agent({ connections, pipelining: 1, keepAliveTimeout: 10_000 });
    const origin = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    await Promise.all(Array.from({ length: connections }, async () => {
      for (let i = 0; i < perConnection && Date.now() < deadline; i++) {
        const { statusCode, body } = await undiciRequest(origin, { dispatcher });
        assert.equal(statusCode, 200);
        await body.text();
      }
    }));
    await dispatcher.close();
    await waitFor(() => handle.stats().events.ssn_close === handle.stats().events.ssn_start, 5000, 'every connection closed');
    await handle.close();
    const s = handle.stats();
    assert.equal(s.events.txn_start, connections * perConnection);
    const { records, headers } = readLog(logFile);
    assert.equal(headers.length, 1);
    const counts = countBy(records);
    for (const event of ['ssn_start', 'txn_start', 'send_resp_hdr', 'txn_close', 'ssn_close']) {
      assert.equal(counts[event], s.events[event], event);
    }
    for (const r of records) assert.equal(r.cols.length, 15, r.line);
    assert.equal(s.dropped + s.lost + s.failedReads, 0);
    await waitFor(() => openFds() <= fdsBefore + 2, 3000, `fds back to ${fdsBefore} (now ${openFds()})`);
  });
});
