// --update-period with many open connections (issue 14): the reads go in slices that each hold the event
// loop a few milliseconds, however many connections there are; a round that cannot finish within its
// period goes on where it left off, and the reads it could not do in time are counted. Thousands of real
// idle loopback connections, so this is the slow tier.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { test } from 'node:test';
import { attach } from '../../dist/index.js';
import { groupBy, listen, request, serve, tempDir, waitFor } from '../support/harness.mjs';

/** `n` idle client connections to `port`, opened 200 at a time; destroyed after the test. */
async function idleConnections(t, port, n) {
  const sockets = [];
  t.after(() => {
    for (const s of sockets) s.destroy();
  });
  for (let i = 0; i < n; i += 200) {
    const batch = Array.from({ length: Math.min(200, n - i) }, () => new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', resolve);
      socket.on('error', reject);
      sockets.push(socket);
    }));
    await Promise.all(batch);
  }
  return sockets;
}

/**
 * Runs `ms`, sampling the plugin's periodic-read count at every turn of a 1 ms timer: the most reads done
 * between two turns is the most one stretch of the loop did without letting a timer run.
 */
async function readsPerTurn(handle, ms) {
  let last = handle.stats().events.periodic;
  let most = 0;
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const probe = setInterval(() => {
    const now = handle.stats().events.periodic;
    most = Math.max(most, now - last);
    last = now;
  }, 1);
  await new Promise((r) => setTimeout(r, ms));
  clearInterval(probe);
  delay.disable();
  return { most, maxDelayMs: delay.max / 1e6, p99DelayMs: delay.percentile(99) / 1e6 };
}

test('periodic reads of thousands of idle connections go in slices: no turn of the loop does them all', async (t) => {
  const N = 3000;
  const dir = tempDir(t);
  const server = http.createServer((req, res) => res.end('x'));
  // JSON with every field: a read of some 10-40 us, so a 4 ms slice is a few hundred reads even on a fast machine.
  const handle = attach(server, { logFile: path.join(dir, 'tcpinfo.log'), hooks: 'ssn_start', updatePeriod: 1, format: 'json', fields: 'all', queueLines: 1_000_000 });
  t.after(() => handle.close());
  const port = await listen(t, server);
  await idleConnections(t, port, N);
  await waitFor(() => handle.stats().events.ssn_start === N, 10_000, 'every connection seen');
  const before = handle.stats().events.periodic;
  const turns = await readsPerTurn(handle, 2500);
  t.diagnostic(`reads in one turn of the loop: at most ${turns.most}; loop delay max ${turns.maxDelayMs.toFixed(1)} ms, p99 ${turns.p99DelayMs.toFixed(1)} ms`);
  const s = handle.stats();
  // Two periods at least began in 2.5 s, each a whole round of every connection.
  assert.ok(s.events.periodic - before >= 2 * N, `${s.events.periodic - before} periodic reads`);
  assert.equal(s.skippedReads, 0, 'every round finished within its period');
  // A slice stops after 4 ms of reads: a few hundred reads, never the whole round.
  assert.ok(turns.most > 0 && turns.most < N / 3, `${turns.most} reads in one turn of the loop (${N} connections)`);
});

test('a round that cannot finish within its period goes on where it left off; the reads skipped are counted', async (t) => {
  const N = 1500;
  const dir = tempDir(t);
  const logFile = path.join(dir, 'tcpinfo.log');
  const server = http.createServer((req, res) => res.end('x'));
  // JSON with every field and the metrics: the heaviest read, so a slice holds few connections.
  const handle = attach(server, { logFile, hooks: 'ssn_start', updatePeriod: 1, format: 'json', fields: 'all', metrics: true, queueLines: 1_000_000 });
  t.after(() => handle.close());
  const port = await listen(t, server);
  await idleConnections(t, port, N);
  await waitFor(() => handle.stats().events.ssn_start === N, 10_000, 'every connection seen');
  // How many slices a round takes here (a fast machine reads faster: fewer slices), counted as the turns of
  // the loop that did reads during one whole round.
  await waitFor(() => handle.stats().events.periodic >= N, 3000, 'a first round');
  const base = Math.ceil(handle.stats().events.periodic / N) * N;
  await waitFor(() => handle.stats().events.periodic >= base, 3000, 'that round over');
  let last = handle.stats().events.periodic;
  let slices = 0;
  const counter = setInterval(() => {
    const now = handle.stats().events.periodic;
    if (now > last) slices++;
    last = now;
  }, 1);
  t.after(() => clearInterval(counter));
  await waitFor(() => handle.stats().events.periodic >= base + N, 3000, 'a whole round counted');
  clearInterval(counter);
  // An app that keeps the loop busy at every turn, so long that a round takes about two periods.
  const busyMs = Math.min(500, Math.max(20, Math.round(2000 / slices)));
  t.diagnostic(`${slices} slices a round; the app now works ${busyMs} ms at every turn`);
  const busy = setInterval(() => {
    const until = performance.now() + busyMs;
    while (performance.now() < until);
  }, 1);
  t.after(() => clearInterval(busy));
  const started = Date.now();
  await waitFor(() => handle.stats().skippedReads > 0, 5000, 'a period whose round did not finish');
  await new Promise((r) => setTimeout(r, 3000));
  clearInterval(busy);
  const elapsedS = (Date.now() - started) / 1000;
  const s = handle.stats();
  await handle.close();
  const lines = fs.readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const byConn = groupBy(lines.filter((l) => l.event === 'periodic'), (l) => l.conn);
  const counts = Object.values(byConn).map((reads) => reads.length);
  t.diagnostic(`${s.events.periodic} periodic reads, ${s.skippedReads} skipped, in ${elapsedS.toFixed(1)} s; per connection ${Math.min(...counts)}..${Math.max(...counts)}`);
  // The round went on where it was: every connection was reached, none starved behind a restart.
  assert.equal(Object.keys(byConn).length, N, 'every connection read at least once');
  // No connection read twice in a period: at most one read per period begun.
  assert.ok(Math.max(...counts) <= Math.ceil(elapsedS) + 2, `a connection read ${Math.max(...counts)} times in ${elapsedS.toFixed(1)} s`);
  for (const reads of Object.values(byConn)) {
    const times = reads.map((l) => Date.parse(l.time));
    for (let i = 1; i < times.length; i++) assert.ok(times[i] - times[i - 1] >= 500, `two reads of ${reads[0].conn} ${times[i] - times[i - 1]} ms apart`);
  }
  assert.ok(s.skippedReads > 0);
});

// Two connections for three periods of 1 s (the shortest): on schedule, and no read after the close.
test('--update-period reads every open connection on schedule, and stops when it closes', async (t) => {
  const { handle, port, logFile } = await serve(t, { hooks: 'ssn_start,ssn_close', updatePeriod: 1, format: 'json', fields: 'rtt,bytes_received' });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  // Two connections held open by keep-alive, for a little over three periods.
  await Promise.all([request({ host: '127.0.0.1', port, agent }), request({ host: '127.0.0.1', port, agent })]);
  const opened = Date.now();
  await new Promise((r) => setTimeout(r, 3300));
  agent.destroy();
  await waitFor(() => handle.stats().events.ssn_close === 2, 2000, 'both closed');
  const periodicWhileOpen = handle.stats().events.periodic;
  await new Promise((r) => setTimeout(r, 1300));
  assert.equal(handle.stats().events.periodic, periodicWhileOpen, 'no periodic reads after close');
  await handle.close();
  const lines = fs.readFileSync(logFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const byConn = groupBy(lines.filter((l) => l.event === 'periodic'), (l) => l.conn);
  const conns = Object.keys(byConn);
  assert.equal(conns.length, 2);
  for (const conn of conns) {
    const n = byConn[conn].length;
    assert.ok(n >= 3 && n <= 4, `${n} periodic lines for ${conn} over ${Date.now() - opened} ms`);
    const times = byConn[conn].map((l) => Date.parse(l.time));
    for (let i = 1; i < times.length; i++) assert.ok(Math.abs(times[i] - times[i - 1] - 1000) < 250, `spacing ${times[i] - times[i - 1]}`);
  }
});
