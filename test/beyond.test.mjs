// Beyond the original: ssn_close before the fd closes, periodic reads, any field, JSON lines, session sampling.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { describe, test } from 'node:test';
import { TCP_INFO_FIELD_NAMES, attach, parseOptions } from '../dist/index.js';
import { createLineFormatter } from '../dist/format/line-format.js';
import { Reading } from '../dist/tcpinfo/read.js';
import { countBy, groupBy, helloHandler, keepAliveRequests, readLog, request, serve, ssInfo, tempDir, waitFor } from './support/harness.mjs';

const TOTALS = 'bytes_sent,bytes_received,bytes_acked,segs_out,segs_in,data_segs_in,data_segs_out,total_retrans';

function jsonLines(file) {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

/**
 * One raw HTTP/1.1 exchange over a net.Socket, so the test knows exactly the bytes it sent and received.
 * `then` decides how the connection ends: 'client-end' (FIN from the client), or 'wait' (the server ends it).
 */
async function rawExchange(port, { then, path: p = '/', keepAlive = true }) {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const request = `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: ${keepAlive ? 'keep-alive' : 'close'}\r\n\r\n`;
  let received = 0;
  let response = '';
  socket.on('data', (d) => {
    received += d.length;
    response += d.toString('latin1');
  });
  const closed = once(socket, 'close');
  socket.write(request);
  for (let i = 0; i < 300 && !/\r\n\r\n[\s\S]*hello world\n$/.test(response); i++) await new Promise((r) => setTimeout(r, 5));
  if (then === 'client-end') socket.end();
  await Promise.race([closed, new Promise((_, rej) => setTimeout(() => rej(new Error('connection did not close')), 5000))]);
  return { sent: Buffer.byteLength(request), received, localPort: socket.localPort };
}

describe('ssn_close', () => {
  const paths = {
    'client FIN': { then: 'client-end' },
    'server destroy()': { then: 'wait', path: '/destroy' },
    'keep-alive timeout': { then: 'wait', keepAliveTimeout: 150 },
    'Connection: close': { then: 'wait', keepAlive: false },
    'server.close()': { then: 'wait', serverClose: true },
  };
  for (const [name, how] of Object.entries(paths)) {
    test(`${name}: exactly one ssn_close, read before the fd closed, with final totals`, async (t) => {
      const { server, handle, port, logFile } = await serve(t, { hooks: 'ssn_start,ssn_close', format: 'json', fields: TOTALS }, (req, res) => {
        if (req.url === '/destroy') res.end('hello world\n', () => req.socket.destroy());
        else helloHandler(req, res);
      });
      if (how.keepAliveTimeout) server.keepAliveTimeout = how.keepAliveTimeout;
      const exchange = rawExchange(port, how);
      if (how.serverClose) {
        await waitFor(() => handle.stats().events.ssn_start === 1, 2000);
        await new Promise((r) => setTimeout(r, 50));
        server.close();
      }
      const { sent, received } = await exchange;
      await waitFor(() => handle.stats().events.ssn_close === 1, 3000, 'ssn_close');
      await handle.close();
      const lines = jsonLines(logFile);
      assert.deepEqual(lines.map((l) => l.event), ['ssn_start', 'ssn_close']);
      const close = lines[1];
      assert.equal(close.conn, lines[0].conn);
      assert.ok(close.bytes_received >= sent, `bytes_received ${close.bytes_received} >= sent ${sent}`);
      assert.ok(close.bytes_sent >= received, `bytes_sent ${close.bytes_sent} >= received ${received}`);
      assert.ok(close.data_segs_in >= 1 && close.data_segs_out >= 1);
      assert.equal(handle.stats().failedReads, 0, 'the fd was still open at ssn_close');
    });
  }

  test('200 short connections, 10 at a time: one ssn_close per ssn_start, none failed', async (t) => {
    const { handle, port, logFile } = await serve(t, { hooks: 'ssn_start,txn_close,ssn_close' });
    const batches = Array.from({ length: 10 }, async () => {
      for (let i = 0; i < 20; i++) await request({ host: '127.0.0.1', port, path: '/', agent: false, headers: { connection: 'close' } });
    });
    await Promise.all(batches);
    await waitFor(() => handle.stats().events.ssn_close === 200, 3000, '200 ssn_close');
    await handle.close();
    assert.deepEqual(countBy(readLog(logFile).records), { ssn_start: 200, txn_close: 200, ssn_close: 200 });
    assert.equal(handle.stats().failedReads, 0);
  });
});

describe('--fields', () => {
  test('every field by name, in the order given, under a matching header; ss -tin agrees where it prints one', async (t) => {
    // Read the whole body before answering, so no ACK of it is still to go out when the connection idles.
    const { handle, port, logFile } = await serve(t, { hooks: 'ssn_start', updatePeriod: 1, fields: 'all' }, (req, res) => {
      req.resume();
      req.on('end', () => helloHandler(req, res));
    });
    // keepAliveMsecs: the Agent's TCP keepalive probes (after 1 s idle by default) would move segs_in/out.
    const agent = new http.Agent({ keepAlive: true, keepAliveMsecs: 60_000, maxSockets: 1 });
    t.after(() => agent.destroy());
    const res = await request({ host: '127.0.0.1', port, agent, method: 'POST', body: 'y'.repeat(30_000) });
    assert.equal(res.status, 200);
    // Let the connection go idle (delayed acks out), then take a periodic line and ss right after it.
    await new Promise((r) => setTimeout(r, 250));
    const before = handle.stats().events.periodic;
    const waitedFrom = performance.now();
    await waitFor(() => handle.stats().events.periodic > before, 2500, 'a periodic read');
    const ss = await ssInfo(port, res.localPort);
    // The read came after waitedFrom and ss ran before now: how far apart the two can be (a loaded machine
    // takes tens of ms to start ss).
    const apartMs = performance.now() - waitedFrom;
    // Every periodic line logged so far must be in the file: the last one is the read before ss.
    const logged = handle.stats().logged.periodic;
    await waitFor(() => readLog(logFile).records.filter((r) => r.event === 'periodic').length === logged, 1000, 'the line in the file');
    const { headers, records } = readLog(logFile);
    assert.deepEqual(headers, [`timestamp event client server ${TCP_INFO_FIELD_NAMES.join(' ')}`]);
    const line = records.filter((r) => r.event === 'periodic').at(-1);
    assert.equal(line.cols.length, TCP_INFO_FIELD_NAMES.length);
    const v = Object.fromEntries(TCP_INFO_FIELD_NAMES.map((name, i) => [name, Number(line.cols[i])]));
    const equal = {
      mss: 'snd_mss', rcvmss: 'rcv_mss', advmss: 'advmss', cwnd: 'snd_cwnd', pmtu: 'pmtu', bytes_sent: 'bytes_sent',
      bytes_acked: 'bytes_acked', bytes_received: 'bytes_received', segs_out: 'segs_out', segs_in: 'segs_in',
      data_segs_out: 'data_segs_out', data_segs_in: 'data_segs_in', rcv_space: 'rcv_space', rcv_ssthresh: 'rcv_ssthresh',
      snd_wnd: 'snd_wnd', rcv_wnd: 'rcv_wnd', delivered: 'delivered', ssthresh: 'snd_ssthresh', retrans: 'total_retrans',
      reordering: 'reordering', notsent: 'notsent_bytes', lost: 'lost', sacked: 'sacked', unacked: 'unacked',
      reord_seen: 'reord_seen', dsack_dups: 'dsack_dups', rcv_ooopack: 'rcv_ooopack', rehash: 'rehash',
    };
    const checked = [];
    for (const [ssName, field] of Object.entries(equal)) {
      if (ss[ssName] === undefined) continue;
      // ss prints retrans as current/total.
      const shown = ssName === 'retrans' ? Number(String(ss[ssName]).split('/')[1]) : Number(ss[ssName]);
      assert.equal(v[field], shown, `${field} vs ss ${ssName}`);
      checked.push(field);
    }
    const ms = { rto: 'rto', ato: 'ato', minrtt: 'min_rtt', rcv_rtt: 'rcv_rtt' };
    for (const [ssName, field] of Object.entries(ms)) {
      if (ss[ssName] === undefined) continue;
      assert.ok(Math.abs(v[field] / 1000 - Number(ss[ssName])) < 0.0015, `${field} ${v[field]}us vs ss ${ss[ssName]}ms`);
      checked.push(field);
    }
    assert.ok(Math.abs(v.rtt / 1000 - ss.rtt_ms) < 0.0015 && Math.abs(v.rttvar / 1000 - ss.rttvar_ms) < 0.0015, 'rtt/rttvar');
    assert.equal(v.snd_wscale, ss.snd_wscale);
    assert.equal(v.rcv_wscale, ss.rcv_wscale);
    assert.equal(v.state, 1);
    // ss prints last* as ms since: the line was read before ss ran, at most apartMs before (and a ms of rounding).
    for (const [ssName, field] of [['lastsnd', 'last_data_sent'], ['lastrcv', 'last_data_recv'], ['lastack', 'last_ack_recv']]) {
      if (ss[ssName] === undefined) continue;
      const later = Number(ss[ssName]) - v[field];
      assert.ok(later >= -2 && later <= apartMs + 2, `${field} ${v[field]} vs ss ${ss[ssName]} (${apartMs.toFixed(0)} ms apart at most)`);
    }
    assert.ok(checked.length >= 18, `checked ${checked.length} fields against ss: ${checked.join(' ')}`);
    assert.ok(v.bytes_received >= 30_000);
  });

  test('a field this kernel does not return is written "-" (text) or null (JSON)', () => {
    const reading = new Reading(Buffer.alloc(280, 7), 136);
    const text = createLineFormatter(parseOptions({ fields: 'rtt,bytes_acked,min_rtt,rcv_wnd' }), 280);
    // Addresses as Node caches them on a socket (tcpinfo/endpoints.ts reads those before asking a handle).
    const fake = { _peername: { address: '192.0.2.1', port: 1 }, _sockname: { address: '192.0.2.2', port: 2 } };
    // A 4.1 kernel's struct ends at bytes_received: min_rtt (4.6) and rcv_wnd (6.2) are not in it.
    const line = text.format('periodic', fake, null, reading).trim().split(' ');
    assert.deepEqual(line.slice(1), ['periodic', '192.0.2.1', '192.0.2.2', String(0x07070707), String(0x0707070707070707n), '-', '-']);
    const json = createLineFormatter(parseOptions({ fields: 'rtt,rcv_wnd', format: 'json' }), 280);
    const obj = JSON.parse(json.format('periodic', fake, null, reading));
    assert.equal(obj.rtt, 0x07070707);
    assert.equal(obj.rcv_wnd, null);
  });

  test('addresses that could not be read are written "-" (text) or null (JSON), not "undefined"', () => {
    // A connection reset before its first read: no handle left, and Node cached no address on it.
    const gone = { _handle: null };
    const text = createLineFormatter(parseOptions({ logLevel: 2 }), 280).format('ssn_close', gone, null, new Reading(Buffer.alloc(280), 0));
    assert.deepEqual(text.trim().split(' ').slice(1, 4), ['ssn_close', '-', '-']);
    const obj = JSON.parse(createLineFormatter(parseOptions({ format: 'json' }), 280).format('ssn_close', gone, null, new Reading(Buffer.alloc(280), 0)));
    assert.deepEqual([obj.client, obj.client_port, obj.server, obj.server_port], [null, null, null, null]);
  });

  test('one file, two column sets: refused at attach, not interleaved', async (t) => {
    const logFile = path.join(tempDir(t), 'shared.log');
    const first = attach(http.createServer(), { logFile, format: 'json', fields: 'rtt' });
    t.after(() => first.close());
    assert.throws(() => attach(http.createServer(), { logFile, format: 'json', fields: 'rtt,min_rtt' }), /already being written in this process with other columns/);
    const same = attach(http.createServer(), { logFile, format: 'json', fields: 'rtt' });
    await same.close();
  });

  test('unknown field names are an option error naming them', () => {
    assert.throws(() => parseOptions('--fields=rtt,bogus,cwnd'), /--fields=rtt,bogus,cwnd: unknown fields "bogus", "cwnd"/);
    assert.throws(() => parseOptions('--format=xml'), /--format=xml: must be ats or json/);
    assert.throws(() => parseOptions('--sample-by=request'), /--sample-by=request: must be event or session/);
    assert.throws(() => parseOptions('--update-period=-1'), /--update-period=-1/);
  });
});

describe('--format=json', () => {
  test('one JSON object a line: time, event, addresses, ports, a stable connection id, method and status', async (t) => {
    const { handle, port, logFile } = await serve(t, { hooks: 'ssn_start,txn_start,send_resp_hdr,txn_close,ssn_close', format: 'json', logLevel: 2 }, (req, res) => {
      if (req.url.startsWith('/missing')) {
        res.writeHead(404);
        res.end();
      } else helloHandler(req, res);
    });
    await keepAliveRequests(port, 2, { path: '/missing?token=secret' });
    await keepAliveRequests(port, 1);
    await waitFor(() => handle.stats().events.ssn_close === 2, 2000);
    await handle.close();
    const lines = jsonLines(logFile);
    assert.equal(lines.length, 2 * 2 + 3 * 3);
    const conns = [...new Set(lines.map((l) => l.conn))];
    assert.equal(conns.length, 2, 'two connections, two ids');
    for (const conn of conns) {
      const events = lines.filter((l) => l.conn === conn).map((l) => l.event);
      assert.equal(events[0], 'ssn_start');
      assert.equal(events.at(-1), 'ssn_close');
    }
    for (const l of lines) {
      assert.match(l.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.ok(Math.abs(Date.parse(l.time) - Date.now()) < 10_000);
      assert.equal(l.client, '127.0.0.1');
      assert.equal(l.server_port, port);
      assert.ok(Number.isInteger(l.client_port) && l.client_port > 0);
      assert.ok(Number.isInteger(l.rtt) && Number.isInteger(l.data_segs_out), 'level-2 columns by their ATS names');
      assert.equal('url' in l, false, 'no URL without --log-url');
      if (l.event.startsWith('txn') || l.event === 'send_resp_hdr') assert.equal(l.method, 'GET');
      else assert.equal('method' in l, false);
    }
    const statuses = lines.filter((l) => l.event === 'send_resp_hdr' || l.event === 'txn_close').map((l) => l.status);
    assert.deepEqual(statuses, [404, 404, 404, 404, 200, 200]);
    assert.equal(lines.find((l) => l.event === 'txn_start').status, undefined, 'no status yet at txn_start');
  });

  test('--log-url adds the path, never the query string', async (t) => {
    const { handle, port, logFile } = await serve(t, { hooks: 'txn_close', format: 'json', logUrl: true });
    await keepAliveRequests(port, 1, { path: '/a/b?token=secret&x=1' });
    await waitFor(() => handle.stats().events.txn_close === 1, 2000);
    await handle.close();
    const [line] = jsonLines(logFile);
    assert.equal(line.url, '/a/b');
    assert.doesNotMatch(fs.readFileSync(logFile, 'utf8'), /secret/);
    assert.equal(parseOptions('--format=json --log-url').logUrl, true);
    assert.equal(parseOptions('--log-url=0').logUrl, false);
  });

  test('--log-url writes at most 1024 characters of the path, cut and marked with an ellipsis', async (t) => {
    const { handle, port, logFile } = await serve(t, { hooks: 'txn_start,txn_close', format: 'json', logUrl: true });
    const long = '/' + 'a'.repeat(5000);
    const exact = '/' + 'b'.repeat(1023);
    await keepAliveRequests(port, 1, { path: `${long}?q=${'z'.repeat(100)}` });
    await keepAliveRequests(port, 1, { path: exact });
    await waitFor(() => handle.stats().events.txn_close === 2, 2000);
    await handle.close();
    const urls = jsonLines(logFile).map((l) => l.url);
    assert.deepEqual(urls, [long.slice(0, 1024) + '\u2026', long.slice(0, 1024) + '\u2026', exact, exact]);
  });

  test('--log-url escapes every control character in the path (C0, DEL and C1 as \\u00XX): one line, one record', async (t) => {
    // An app that decodes its paths in place: whatever the client percent-encoded is now raw in req.url.
    const { handle, port, logFile } = await serve(t, { hooks: 'txn_close', format: 'json', logUrl: true }, (req, res) => {
      req.url = decodeURIComponent(req.url);
      res.end('ok');
    });
    await keepAliveRequests(port, 1, { path: '/x%1B%5B31m%07%7F%C2%85%C2%9B%0Ay%0D%22%5C%E2%82%AC' });
    await waitFor(() => handle.stats().events.txn_close === 1, 2000);
    await handle.close();
    const text = fs.readFileSync(logFile, 'utf8');
    // Nothing but the line break below U+0020, no DEL, no C1 control: not a byte a terminal would act on.
    // eslint-disable-next-line no-control-regex -- control characters are what this looks for
    assert.doesNotMatch(text.slice(0, -1), /[\u0000-\u001f\u007f-\u009f]/);
    assert.match(text, /"url":"\/x\\u001b\[31m\\u0007\\u007f\\u0085\\u009b\\u000ay\\u000d\\"\\\\€"/);
    const [line] = jsonLines(logFile);
    assert.equal(line.url, '/x\u001b[31m\u0007\u007f\u0085\u009b\ny\r"\\€', 'JSON gives back the path as the app had it');
  });
});

describe('--sample-by=session', () => {
  test('a sampled connection has all its events; the others none', async (t) => {
    const hooks = 'ssn_start,txn_start,send_resp_hdr,txn_close,ssn_close';
    const { handle, port, logFile } = await serve(t, { hooks, format: 'json', sampleBy: 'session', sampleRate: 500, sampleSeed: 'sessions' });
    const n = 60;
    for (let i = 0; i < n; i += 6) await Promise.all(Array.from({ length: 6 }, () => keepAliveRequests(port, 3)));
    await waitFor(() => handle.stats().events.ssn_close === n, 3000, 'all closed');
    await handle.close();
    const byConn = groupBy(jsonLines(logFile), (l) => l.conn);
    const sampled = Object.keys(byConn).length;
    for (const lines of Object.values(byConn)) assert.equal(lines.length, 1 + 3 * 3 + 1, 'all or nothing');
    // n = 60 connections at 1/2: expect 30, sd ~3.9; five sd either side.
    assert.ok(sampled >= 11 && sampled <= 49, `${sampled} of ${n} connections sampled`);
    assert.equal(handle.stats().events.txn_start, n * 3);
  });
});
