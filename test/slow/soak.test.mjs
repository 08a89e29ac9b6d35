// The reliability soak, small (`npm run soak` runs it at full size): 200 keep-alive connections, 25
// requests each, every hook; lines per event equal the events seen; fds back to their baseline.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { Agent, request as undiciRequest } from 'undici';
import { attach } from '../../dist/index.js';
import { countBy, listen, readLog, tempDir, waitFor } from '../support/harness.mjs';

function openFds() {
  return fs.readdirSync('/proc/self/fd').length;
}

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
