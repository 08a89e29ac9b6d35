// attach(): real http/https servers on loopback, real clients, the log file as ATS writes it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { describe, test } from 'node:test';
import { attach, kernelTcpInfoLength, readTcpInfo } from '../dist/index.js';
import {
  LEVEL1_HEADER, LEVEL2_HEADER, TIMESTAMP_RE, closeRequests, countBy, helloHandler, keepAliveRequests,
  listen, makeCertificate, readLog, request, serve, tempDir, waitFor,
} from './support/harness.mjs';

const ALL_HOOKS = ['ssn_start', 'txn_start', 'send_resp_hdr', 'txn_close'];

describe('events', () => {
  for (const hook of ALL_HOOKS) {
    test(`${hook} alone, keep-alive: the right number of lines`, async (t) => {
      const { handle, port, logFile } = await serve(t, { hooks: [hook] });
      await keepAliveRequests(port, 3);
      await waitFor(() => handle.stats().events.txn_close + handle.stats().events.ssn_start >= (hook === 'ssn_start' ? 1 : 0), 2000);
      await handle.close();
      const { headers, records } = readLog(logFile);
      assert.deepEqual(headers, [LEVEL1_HEADER]);
      const expected = hook === 'ssn_start' ? 1 : 3;
      assert.deepEqual(countBy(records), { [hook]: expected });
    });
  }

  test('all four hooks, keep-alive: one ssn_start, then txn_start, send_resp_hdr, txn_close per request', async (t) => {
    const { handle, port, logFile } = await serve(t, { hooks: ALL_HOOKS.join(',') });
    const results = await keepAliveRequests(port, 4);
    assert.ok(results.every((r) => r.status === 200));
    await waitFor(() => handle.stats().events.txn_close === 4, 2000, 'four txn_close');
    await handle.close();
    const events = readLog(logFile).records.map((r) => r.event);
    assert.deepEqual(events, ['ssn_start', ...Array(4).fill(['txn_start', 'send_resp_hdr', 'txn_close']).flat()]);
  });

  test('Connection: close: a session per request, every event read while the socket is open', async (t) => {
    const { handle, port, logFile } = await serve(t, { hooks: ALL_HOOKS });
    await closeRequests(port, 3);
    await waitFor(() => handle.stats().events.txn_close === 3, 2000, 'three txn_close');
    await handle.close();
    const { records } = readLog(logFile);
    assert.deepEqual(countBy(records), { ssn_start: 3, txn_start: 3, send_resp_hdr: 3, txn_close: 3 });
    assert.equal(handle.stats().failedReads, 0);
  });

  test('send_resp_hdr: explicit writeHead and implicit header each give exactly one line', async (t) => {
    const { handle, port, logFile } = await serve(t, { hooks: 'send_resp_hdr' }, {
      handler(req, res) {
        if (req.url === '/explicit') {
          res.writeHead(201, { 'content-type': 'text/plain' });
          res.end('made\n');
        } else if (req.url === '/streamed') {
          res.write('a');
          setTimeout(() => res.end('b'), 5);
        } else {
          res.statusCode = 202;
          res.end('implicit\n');
        }
      },
    });
    const statuses = [];
    for (const p of ['/explicit', '/implicit', '/streamed']) statuses.push((await request({ host: '127.0.0.1', port, path: p })).status);
    assert.deepEqual(statuses, [201, 202, 200]);
    await handle.close();
    assert.deepEqual(countBy(readLog(logFile).records), { send_resp_hdr: 3 });
  });

  test('txn_close for a response the client aborted: counted, never thrown, server keeps answering', async (t) => {
    let aborted;
    const closed = new Promise((resolve) => (aborted = resolve));
    const { handle, port } = await serve(t, { hooks: 'txn_start,txn_close' }, {
      handler(req, res) {
        if (req.url === '/hang') {
          res.write('partial');
          res.on('close', aborted);
          return;
        }
        helloHandler(req, res);
      },
    });
    const req = http.get({ host: '127.0.0.1', port, path: '/hang' }, (res) => res.once('data', () => req.destroy()));
    req.on('error', () => {});
    await closed;
    const after = await request({ host: '127.0.0.1', port, path: '/' });
    assert.equal(after.status, 200);
    await waitFor(() => handle.stats().events.txn_close === 2, 2000, 'both txn_close events');
    const s = handle.stats();
    assert.equal(s.events.txn_start, 2);
    // The aborted one's socket was gone by its txn_close: it gets the reading kept as the fd closed.
    assert.equal(s.logged.txn_close, 2);
    assert.equal(s.failedReads, 0);
  });
});

describe('lines', () => {
  test('level 1: ATS timestamp, event, client and server IP, rtt in microseconds', async (t) => {
    const { handle, port, logFile } = await serve(t, { hooks: 'ssn_start,txn_start', logLevel: 1 });
    await keepAliveRequests(port, 2);
    await handle.close();
    const { headers, records } = readLog(logFile);
    assert.deepEqual(headers, [LEVEL1_HEADER]);
    assert.equal(records.length, 3);
    for (const r of records) {
      assert.match(r.ts, TIMESTAMP_RE);
      assert.equal(r.client, '127.0.0.1');
      assert.equal(r.server, '127.0.0.1');
      assert.equal(r.cols.length, 1);
      assert.match(r.cols[0], /^\d+$/);
    }
    // The timestamp is local time now, to the second.
    const [, y, mo, d, h, mi, s] = /^(\d{4})(\d\d)(\d\d)\.(\d\d)h(\d\d)m(\d\d)s$/.exec(records[0].ts).map(Number);
    const when = new Date(y, mo - 1, d, h, mi, s).getTime();
    assert.ok(Math.abs(Date.now() - when) < 10_000, `timestamp ${records[0].ts} is not local now`);
  });

  test('level 2: the header and the 15 columns where the kernel has data_segs (Linux 4.6+)', async (t) => {
    assert.ok(kernelTcpInfoLength() >= 160, 'these tests expect a kernel with data_segs_in/out');
    const { handle, port, logFile } = await serve(t, { hooks: ALL_HOOKS, logLevel: 2 });
    await keepAliveRequests(port, 2, { method: 'POST', body: 'x'.repeat(5000) });
    await handle.close();
    const { headers, records } = readLog(logFile);
    assert.deepEqual(headers, [LEVEL2_HEADER]);
    assert.equal(records.length, 7);
    for (const r of records) {
      assert.equal(r.cols.length, 15, r.line);
      for (const c of r.cols) assert.match(c, /^\d+$/, r.line);
    }
    const close = records.filter((r) => r.event === 'txn_close').at(-1);
    const col = (name) => Number(close.cols[LEVEL2_HEADER.split(' ').indexOf(name) - 4]);
    assert.ok(col('snd_cwnd') >= 1);
    assert.ok(col('data_segs_in') >= 2, 'two POST bodies came in');
    assert.ok(col('data_segs_out') >= 2, 'two responses went out');
  });

  test('level 2 columns are the struct fields ATS names, read at the event', async (t) => {
    const seen = [];
    const { handle, port, logFile } = await serve(t, { hooks: 'txn_close', logLevel: 2 }, {
      handler(req, res) {
        // Our txn_close listener was added before this one: read right after it, in the same tick.
        res.on('close', () => seen.push(readTcpInfo(req.socket)));
        helloHandler(req, res);
      },
    });
    await keepAliveRequests(port, 3);
    await waitFor(() => seen.length === 3, 2000, 'three reads');
    await handle.close();
    const { records } = readLog(logFile);
    const names = LEVEL2_HEADER.split(' ').slice(4);
    const field = {
      rtt: 'rtt', rttvar: 'rttvar', last_sent: 'last_data_sent', last_recv: 'last_data_recv', snd_cwnd: 'snd_cwnd',
      snd_ssthresh: 'snd_ssthresh', rcv_ssthresh: 'rcv_ssthresh', unacked: 'unacked', sacked: 'sacked', lost: 'lost',
      retrans: 'retrans', fackets: 'fackets', all_retrans: 'total_retrans', data_segs_in: 'data_segs_in', data_segs_out: 'data_segs_out',
    };
    assert.equal(records.length, 3);
    // Fields that only move with new data must be equal. An ACK can land between the two reads and move
    // rtt, rttvar, snd_cwnd and unacked; last_* count jiffies (up to 10 ms a step) since the last packet.
    const exact = new Set(['snd_ssthresh', 'rcv_ssthresh', 'sacked', 'lost', 'retrans', 'fackets', 'all_retrans', 'data_segs_in', 'data_segs_out']);
    records.forEach((r, i) => {
      names.forEach((name, j) => {
        const logged = Number(r.cols[j]);
        const read = seen[i][field[name]];
        if (exact.has(name)) assert.equal(logged, read, `${name} of line ${i}`);
        else if (name.startsWith('last_')) assert.ok(Math.abs(logged - read) <= 10, `${name}: ${logged} vs ${read}`);
        else assert.ok(logged > 0 === read > 0 || name === 'unacked', `${name}: ${logged} vs ${read}`);
      });
    });
  });

  test('level 2 reads each column from the struct offset the reference gives', async () => {
    const { Reading } = await import('../dist/tcpinfo/read.js');
    const { createLineFormatter } = await import('../dist/format/line-format.js');
    const { parseOptions } = await import('../dist/index.js');
    const level2 = (kernelLength) => createLineFormatter(parseOptions({ logLevel: 2 }), kernelLength);
    const socket = { remoteAddress: '192.0.2.1', localAddress: '192.0.2.2' };
    const bytes = Buffer.alloc(280);
    const columnsOf = (kernelLength) => level2(kernelLength).format('txn_close', socket, null, new Reading(bytes, kernelLength)).trim().split(' ').slice(4);
    const headerLine = (kernelLength) => level2(kernelLength).header;
    // Every u32 word holds 1000 + its index, so each column tells which offset it was read from.
    for (let i = 0; i < bytes.length / 4; i++) bytes.writeUInt32LE(1000 + i, i * 4);
    const offsets = {
      rtt: 68, rttvar: 72, last_sent: 44, last_recv: 52, snd_cwnd: 80, snd_ssthresh: 76, rcv_ssthresh: 64,
      unacked: 24, sacked: 28, lost: 32, retrans: 36, fackets: 40, all_retrans: 100, data_segs_in: 152, data_segs_out: 156,
    };
    const names = headerLine(280).trim().split(' ').slice(4);
    const columns = columnsOf(280).map(Number);
    assert.deepEqual(names, Object.keys(offsets));
    assert.deepEqual(columns, names.map((n) => 1000 + offsets[n] / 4));
    // A kernel older than 4.6 returns less than 160 bytes: no data_segs columns, in header or line.
    assert.equal(columnsOf(104).length, 13);
    assert.equal(headerLine(104).trim().split(' ').length, 17);
  });

  test('IPv6: client and server are the bare ::1', async (t) => {
    const { handle, port, logFile } = await serve(t, { hooks: 'ssn_start,txn_close', logLevel: 2 }, { host: '::1' });
    await keepAliveRequests(port, 2, { host: '::1' });
    await waitFor(() => handle.stats().events.txn_close === 2, 2000);
    await handle.close();
    const { records } = readLog(logFile);
    assert.deepEqual(countBy(records), { ssn_start: 1, txn_close: 2 });
    for (const r of records) {
      assert.equal(r.client, '::1');
      assert.equal(r.server, '::1');
      assert.equal(r.cols.length, 15);
    }
  });

  test('appending to an existing file adds no second header', async (t) => {
    const dir = tempDir(t);
    const logFile = path.join(dir, 'tcpinfo.log');
    for (let round = 0; round < 2; round++) {
      const server = http.createServer(helloHandler);
      const handle = attach(server, { logFile, hooks: 'txn_start' });
      const port = await listen(t, server);
      await keepAliveRequests(port, 2);
      await handle.close();
    }
    const { headers, records } = readLog(logFile);
    assert.deepEqual(headers, [LEVEL1_HEADER]);
    assert.equal(records.length, 4);
    assert.equal(fs.statSync(logFile).mode & 0o777, 0o640 & ~process.umask());
  });
});

describe('https', () => {
  test('ssn_start once the TLS session is up, then every event over TLS, read from the TCP fd', async (t) => {
    const dir = tempDir(t);
    const server = https.createServer(makeCertificate(dir), helloHandler);
    const { handle, port, logFile } = await serve(t, { hooks: ALL_HOOKS, logLevel: 2 }, { server });
    const results = await keepAliveRequests(port, 3, { protocol: 'https:' });
    assert.ok(results.every((r) => r.status === 200 && r.body === 'hello world\n'));
    await waitFor(() => handle.stats().events.txn_close === 3, 2000);
    await handle.close();
    const { records } = readLog(logFile);
    assert.deepEqual(records.map((r) => r.event), ['ssn_start', ...Array(3).fill(['txn_start', 'send_resp_hdr', 'txn_close']).flat()]);
    // The TLS handshake has already moved data both ways by ssn_start.
    assert.ok(Number(records[0].cols[13]) >= 1, 'data_segs_in at ssn_start counts the ClientHello');
    assert.equal(handle.stats().failedReads, 0);
  });

  test('https over IPv6 with Connection: close', async (t) => {
    const dir = tempDir(t);
    const server = https.createServer(makeCertificate(dir), helloHandler);
    const { handle, port, logFile } = await serve(t, { hooks: 'ssn_start,txn_close' }, { server, host: '::1' });
    await closeRequests(port, 2, { host: '::1', protocol: 'https:' });
    await waitFor(() => handle.stats().events.txn_close === 2, 2000);
    await handle.close();
    const { records } = readLog(logFile);
    assert.deepEqual(countBy(records), { ssn_start: 2, txn_close: 2 });
    assert.ok(records.every((r) => r.client === '::1'));
  });
});

describe('sampling', () => {
  async function sampleRun(t, rate, seed, n) {
    const { handle, port, logFile } = await serve(t, { hooks: 'txn_start', sampleRate: rate, sampleSeed: seed });
    await keepAliveRequests(port, n);
    await handle.close();
    return { lines: readLog(logFile).records.length, stats: handle.stats() };
  }

  test('rate 1000 logs every event, rate 0 none', async (t) => {
    assert.equal((await sampleRun(t, 1000, undefined, 50)).lines, 50);
    const none = await sampleRun(t, 0, undefined, 50);
    assert.equal(none.lines, 0);
    assert.equal(none.stats.events.txn_start, 50);
    assert.equal(none.stats.sampled.txn_start, 0);
  });

  test('rate 100 with a seed: within binomial bounds, and the same count again with the same seed', async (t) => {
    const n = 1500;
    const first = await sampleRun(t, 100, 'fixed-seed', n);
    const second = await sampleRun(t, 100, 'fixed-seed', n);
    // Expect n * 0.1 = 150, sd = sqrt(n * 0.1 * 0.9) ~ 11.6: five sd either side.
    assert.ok(first.lines >= 92 && first.lines <= 208, `${first.lines} sampled of ${n}`);
    assert.equal(first.stats.sampled.txn_start, first.lines);
    assert.equal(first.stats.events.txn_start, n);
    assert.equal(second.lines, first.lines);
  });
});

describe('close()', () => {
  test('writes out every queued line before it resolves', async (t) => {
    const { handle, port, logFile } = await serve(t, { hooks: 'txn_start,send_resp_hdr,txn_close' });
    const agents = Array.from({ length: 8 }, () => keepAliveRequests(port, 50));
    await Promise.all(agents);
    await waitFor(() => handle.stats().events.txn_close === 400, 3000, 'all txn_close');
    const logged = handle.stats().logged;
    await handle.close();
    const counts = countBy(readLog(logFile).records);
    assert.deepEqual(counts, { txn_start: 400, send_resp_hdr: 400, txn_close: 400 });
    assert.deepEqual(logged, { ssn_start: 0, txn_start: 400, send_resp_hdr: 400, txn_close: 400, ssn_close: 0, periodic: 0, txn_delivered: 0 });
    assert.equal(handle.stats().written, 1200);
  });

  test('after close the server keeps serving and nothing more is logged', async (t) => {
    const { handle, port, logFile } = await serve(t, { hooks: 'txn_start' });
    await keepAliveRequests(port, 2);
    await handle.close();
    const res = await request({ host: '127.0.0.1', port, path: '/' });
    assert.equal(res.status, 200);
    assert.equal(readLog(logFile).records.length, 2);
  });

  test('a line reaches the file within about 100 ms of its event, with no flush call', async (t) => {
    const { port, logFile } = await serve(t, { hooks: 'txn_start' });
    await request({ host: '127.0.0.1', port, path: '/' });
    const start = Date.now();
    await waitFor(() => readLog(logFile).records.length === 1, 1000, 'the line in the file');
    assert.ok(Date.now() - start < 150, `took ${Date.now() - start} ms`);
  });
});
