// HTTP/2, the slow tier: values against ss -tin (with a quiet wait), TLS with allowHTTP1, the preload (a
// child process), gRPC (@grpc/grpc-js) calls, and thousands of streams and calls for leaks (streams,
// sessions, fds). The node:http2 basics and Fastify are in test/http2.test.mjs.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import path from 'node:path';
import { describe, test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { TCP_INFO_FIELD_NAMES, attach } from '../../dist/index.js';
import { appDir, jsonLines, makeCertificate, ssInfo, ssMatches, startApp, tempDir, waitFor } from '../support/harness.mjs';
import { ALL_HOOKS, TRANSACTION_EVENTS, byStream, closedLog, defaultStream, grpcEcho, h2Request, serveH2 } from '../support/http2.mjs';

describe('HTTP/2: values, TLS, the preload', () => {
  test('the lines read the session\'s connection: a held stream\'s send_resp_hdr equals ss -tin taken just before', async (t) => {
    let release;
    const { handle, port, logFile } = await serveH2(t, { fields: TCP_INFO_FIELD_NAMES.join(',') }, {
      onStream(stream, headers) {
        if (headers[':path'] !== '/wait') return defaultStream(stream, headers);
        release = () => {
          stream.respond({ ':status': 200 });
          stream.end('done');
        };
      },
    });
    const session = http2.connect(`http://127.0.0.1:${port}`);
    t.after(() => session.destroy());
    await Promise.all(['/a', '/n/30000', '/b'].map((p) => h2Request(session, p)));
    const waiting = h2Request(session, '/wait');
    await waitFor(() => release !== undefined, 2000, 'the held stream');
    // Quiet: acks settle; then the kernel's view, then the answer's headers (read before they are written).
    await new Promise((r) => setTimeout(r, 150));
    const ss = await ssInfo(port, session.socket.localPort);
    release();
    await waiting;
    const lines = await closedLog(handle, logFile);
    const line = lines.find((l) => l.event === 'send_resp_hdr' && l.url === '/wait');
    assert.ok(ss, 'ss found the session\'s connection');
    const compared = ssMatches(line, ss);
    assert.ok(compared >= 8, `compared ${compared} fields`);
    assert.ok(line.bytes_sent > 30000, 'the connection\'s counters hold every stream so far');
  });


  test('TLS with allowHTTP1: h2 streams get stream ids, an HTTP/1.1 request goes the HTTP/1 way; ssn_start after TLS', async (t) => {
    const cert = makeCertificate(tempDir(t));
    const { server, handle, port, logFile } = await serveH2(t, {}, { secure: { ...cert, allowHTTP1: true }, onStream: () => {} });
    server.on('request', (req, res) => res.end(`hello ${req.httpVersion}`));
    const session = http2.connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
    const h2 = await h2Request(session, '/two');
    assert.equal(h2.body, 'hello 2.0');
    session.close();
    const h1 = await new Promise((resolve, reject) => {
      https.get({ host: '127.0.0.1', port, path: '/one', rejectUnauthorized: false, agent: false }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c)).on('end', () => resolve(body));
      }).on('error', reject);
    });
    assert.equal(h1, 'hello 1.1');
    await waitFor(() => handle.stats().events.ssn_close === 2, 3000, 'both connections to close');
    const lines = await closedLog(handle, logFile);
    const two = lines.filter((l) => l.url === '/two');
    const one = lines.filter((l) => l.url === '/one');
    assert.deepEqual(two.map((l) => l.event), TRANSACTION_EVENTS);
    assert.deepEqual(one.map((l) => l.event), TRANSACTION_EVENTS);
    assert.ok(two.every((l) => l.stream === 1 && l.method === 'GET'));
    assert.ok(one.every((l) => l.stream === undefined && l.method === 'GET'));
    assert.equal(two.at(-1).status, 200);
    assert.equal(one.at(-1).status, 200);
    // After the TLS handshake: the client's hello and the server's flight are in.
    for (const start of lines.filter((l) => l.event === 'ssn_start')) assert.ok(start.rtt > 0);
    assert.equal(lines.filter((l) => l.event === 'ssn_start').length, 2);
  });

  test('the preload attaches to an HTTP/2 server the app made', async (t) => {
    const dir = appDir(t, {
      'app.mjs': `
import http2 from 'node:http2';
const server = http2.createServer();
server.on('stream', (stream) => { stream.respond({ ':status': 200 }); stream.end('hi'); });
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`,
    });
    const logFile = path.join(dir, 'tcpinfo.log');
    const { child, ready, exited } = startApp(t, dir, ['--import', 'tcpinfo/register', 'app.mjs'], {
      env: { TCPINFO_OPTIONS: `--log-file=${logFile} --format=json --hooks=${ALL_HOOKS}`, TCPINFO_QUIET: '1' },
    });
    const { port } = await ready;
    assert.ok(port, 'the app started');
    const session = http2.connect(`http://127.0.0.1:${port}`);
    await Promise.all(['/x', '/y'].map((p) => h2Request(session, p)));
    session.close();
    await waitFor(() => fs.existsSync(logFile) && jsonLines(logFile).some((l) => l.event === 'ssn_close'), 3000, 'ssn_close in the log');
    child.kill('SIGTERM');
    const exit = await exited;
    assert.equal(exit.code, 0, exit.stderr);
    const lines = jsonLines(logFile);
    assert.equal(lines.length, 8);
    assert.equal(lines[0].event, 'ssn_start');
    assert.equal(lines.at(-1).event, 'ssn_close');
    assert.deepEqual(Object.values(byStream(lines)), [TRANSACTION_EVENTS, TRANSACTION_EVENTS]);
  });


});

describe('gRPC (@grpc/grpc-js)', () => {
  test('gRPC (@grpc/grpc-js): unary, server-streaming, client-streaming and bidi calls are one stream each, all closed', async (t) => {
    const dir = tempDir(t);
    const logFile = path.join(dir, 'tcpinfo.log');
    let handle;
    const echo = await grpcEcho(t, (server) => {
      handle = attach(server, { logFile, format: 'json', hooks: ALL_HOOKS, logUrl: true });
    });
    assert.equal(await echo.unary('ping'), 'ping');
    assert.deepEqual(await echo.serverStream('s', 3), ['s0', 's1', 's2']);
    assert.equal(await echo.clientStream(['a', 'b', 'c']), 'abc');
    assert.deepEqual(await echo.bidi(['x', 'y']), ['x', 'y']);
    await echo.failing();
    await echo.close();
    await waitFor(() => handle.stats().events.ssn_close === 1, 3000, 'the channel\'s session to close');
    const lines = await closedLog(handle, logFile);
    const streams = byStream(lines);
    assert.equal(Object.keys(streams).length, 5);
    for (const events of Object.values(streams)) assert.deepEqual(events, TRANSACTION_EVENTS);
    const starts = lines.filter((l) => l.event === 'txn_start');
    assert.deepEqual(starts.map((l) => `${l.method} ${l.url}`), [
      'POST /test.Echo/Unary', 'POST /test.Echo/ServerStream', 'POST /test.Echo/ClientStream', 'POST /test.Echo/Bidi', 'POST /test.Echo/Fail',
    ]);
    // gRPC answers HTTP 200 and puts its own status in the trailers.
    assert.ok(lines.filter((l) => l.event === 'txn_close').every((l) => l.status === 200));
    assert.equal(new Set(lines.map((l) => l.conn)).size, 1, 'one channel, one session, one connection');
    assert.equal(handle.stats().failedReads, 0);
  });


  test('gRPC: a unary call\'s send_resp_hdr equals ss -tin of the channel\'s connection taken just before', async (t) => {
    const dir = tempDir(t);
    const logFile = path.join(dir, 'tcpinfo.log');
    let handle;
    let release;
    const echo = await grpcEcho(t, (server) => {
      handle = attach(server, { logFile, format: 'json', hooks: 'txn_start,send_resp_hdr', fields: TCP_INFO_FIELD_NAMES.join(',') });
    }, { hold: (go) => (release = go) });
    assert.equal(await echo.unary('warm'), 'warm');
    const held = echo.unary('held');
    await waitFor(() => release !== undefined, 2000, 'the held call');
    // The held call's txn_start is in the file within ~100 ms: it names the connection.
    await waitFor(() => jsonLines(logFile).filter((l) => l.event === 'txn_start').length === 2, 2000, 'the held call\'s txn_start');
    await new Promise((r) => setTimeout(r, 150));
    const { server_port: serverPort, client_port: clientPort } = jsonLines(logFile).at(-1);
    const ss = await ssInfo(serverPort, clientPort);
    release();
    assert.equal(await held, 'held');
    await echo.close();
    const lines = await closedLog(handle, logFile);
    const line = lines.filter((l) => l.event === 'send_resp_hdr').at(-1);
    assert.ok(ss, 'ss found the channel\'s connection');
    const compared = ssMatches(line, ss);
    assert.ok(compared >= 8, `compared ${compared} fields`);
  });
});

/** Open fds of this process. */
function fdCount() {
  return fs.readdirSync('/proc/self/fd').length;
}

/** A full garbage collection (the test runner has no --expose-gc). */
const gc = (() => {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc');
})();

/** Collect until every WeakRef is empty, or give up after a few rounds; returns how many still hold. */
async function collected(refs) {
  for (let i = 0; i < 20; i++) {
    gc();
    const alive = refs.filter((r) => r.deref() !== undefined).length;
    if (alive === 0) return 0;
    await new Promise((r) => setTimeout(r, 20));
  }
  return refs.filter((r) => r.deref() !== undefined).length;
}

describe('HTTP/2 and gRPC: nothing leaks', () => {
  test('3000 streams on 6 sessions (some reset, sessions closed both ways): every txn_start has its txn_close, fds back, streams and sessions collected', async (t) => {
    const refs = [];
    const sessionRefs = [];
    const { server, handle, port, logFile } = await serveH2(t, { hooks: ALL_HOOKS, logUrl: false }, {
      onStream(stream, headers) {
        refs.push(new WeakRef(stream));
        defaultStream(stream, headers);
      },
    });
    server.on('session', (s) => sessionRefs.push(new WeakRef(s)));
    gc();
    const fdsBefore = fdCount();
    const SESSIONS = 6;
    const STREAMS = 500;
    for (let s = 0; s < SESSIONS; s++) {
      const session = http2.connect(`http://127.0.0.1:${port}`);
      session.on('error', () => {});
      for (let done = 0; done < STREAMS; done += 50) {
        const batch = [];
        for (let k = 0; k < 50; k++) {
          if (k === 0) {
            // One held stream per batch, reset by the client.
            const held = session.request({ ':path': '/hold' });
            held.on('error', () => {});
            batch.push(new Promise((r) => held.on('close', r)));
            setTimeout(() => held.close(http2.constants.NGHTTP2_CANCEL), 5);
          } else batch.push(h2Request(session, k % 10 === 0 ? '/n/20000' : '/x'));
        }
        await Promise.all(batch);
      }
      // Half the sessions closed by the client, half by the server.
      if (s % 2 === 0) session.close();
      else for (const open of sessionRefs.map((r) => r.deref()).filter((o) => o !== undefined && !o.closed)) open.close();
      await waitFor(() => handle.stats().events.ssn_close === s + 1, 5000, `session ${s} to close`);
      session.destroy();
    }
    const st = handle.stats();
    assert.equal(st.events.txn_start, SESSIONS * STREAMS);
    assert.equal(st.events.txn_close, SESSIONS * STREAMS, 'every stream that started has its txn_close');
    assert.equal(st.events.send_resp_hdr, SESSIONS * STREAMS * 49 / 50);
    assert.equal(st.failedReads, 0);
    await waitFor(() => fdCount() <= fdsBefore, 3000, `fds back to ${fdsBefore} (now ${fdCount()})`);
    assert.equal(await collected(refs), 0, 'every server stream was collected');
    // Node keeps one closed ServerHttp2Session reachable by itself (the same without tcpinfo attached).
    assert.ok((await collected(sessionRefs)) <= 1, 'the closed sessions were collected');
    const lines = await closedLog(handle, logFile);
    const streams = byStream(lines);
    assert.equal(Object.keys(streams).length, SESSIONS * STREAMS);
    for (const events of Object.values(streams)) assert.equal(events.at(-1), 'txn_close');
  });

  test('2000 gRPC calls (unary and streaming) on one channel: every call closed, fds back after the channel closes', async (t) => {
    const dir = tempDir(t);
    const logFile = path.join(dir, 'tcpinfo.log');
    let handle;
    const refs = [];
    const fdsBefore = fdCount();
    const echo = await grpcEcho(t, (server) => {
      handle = attach(server, { logFile, format: 'json', hooks: ALL_HOOKS });
      server.on('stream', (stream) => refs.push(new WeakRef(stream)));
    });
    for (let i = 0; i < 1500; i += 50) await Promise.all(Array.from({ length: 50 }, (_, k) => echo.unary(`u${i + k}`)));
    for (let i = 0; i < 500; i += 50) await Promise.all(Array.from({ length: 50 }, () => echo.serverStream('s', 3)));
    await echo.close();
    await waitFor(() => handle.stats().events.ssn_close >= 1, 3000, 'the channel\'s session to close');
    const st = handle.stats();
    assert.equal(st.events.txn_start, 2000);
    assert.equal(st.events.txn_close, 2000);
    assert.equal(st.events.ssn_start, st.events.ssn_close);
    assert.equal(st.failedReads, 0);
    assert.equal(await collected(refs), 0, 'every server stream was collected');
    await handle.close();
    // The log file's fd was opened after the count (at attach): closed with the handle.
    await waitFor(() => fdCount() <= fdsBefore, 3000, `fds back to ${fdsBefore} (now ${fdCount()})`);
    assert.equal(jsonLines(logFile).filter((l) => l.event === 'txn_close').length, 2000);
  });
});
