// HTTP/2: node:http2 servers (h2c) with a real node:http2 client, and Fastify with http2: true. Each stream is a transaction; every read is of the
// session's TCP socket. (Comparisons with ss, TLS, the preload, gRPC and leaks: test/slow/http2.test.mjs.)
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http2 from 'node:http2';
import path from 'node:path';
import { describe, test } from 'node:test';
import Fastify from 'fastify';
import client from 'prom-client';
import { attach } from '../dist/index.js';
import tcpinfoPlugin from '../dist/integrations/fastify.js';
import { jsonLines, tempDir, waitFor } from './support/harness.mjs';
import { TRANSACTION_EVENTS, byStream, closedLog, defaultStream, fileStream, h2Outcome, h2Request, serveH2 } from './support/http2.mjs';

describe('HTTP/2 (node:http2 server and client)', () => {
  test('concurrent streams on one session, a reset stream, the client closing: every stream has its txn_close, all on the session\'s socket', async (t) => {
    const { handle, port, logFile } = await serveH2(t);
    const session = http2.connect(`http://127.0.0.1:${port}`);
    await new Promise((resolve, reject) => session.once('connect', resolve).once('error', reject));
    const clientPort = session.socket.localPort;
    const answers = await Promise.all(['/a', '/b', '/missing', '/n/70000', '/c'].map((p) => h2Request(session, p)));
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 404, 200, 200]);
    assert.equal(answers[3].body.length, 70000);
    // A stream the client cancels before any answer: txn_start and txn_close, no send_resp_hdr.
    const held = session.request({ ':path': '/hold' });
    await waitFor(() => handle.stats().events.txn_start === 6, 2000, 'the held stream to start');
    held.close(http2.constants.NGHTTP2_CANCEL);
    await waitFor(() => handle.stats().events.txn_close === 6, 2000, 'the reset stream to close');
    // A stream still open when the client closes the connection: its txn_close comes at the socket's destroy.
    session.request({ ':path': '/hold' });
    await waitFor(() => handle.stats().events.txn_start === 7, 2000, 'the second held stream');
    session.destroy();
    await waitFor(() => handle.stats().events.ssn_close === 1, 2000, 'the session to close');

    const lines = await closedLog(handle, logFile);
    assert.equal(lines.filter((l) => l.event === 'ssn_start').length, 1);
    assert.equal(lines.at(-1).event, 'ssn_close', 'ssn_close comes last, after every stream\'s txn_close');
    assert.ok(lines.every((l) => l.client_port === clientPort && l.conn === lines[0].conn), 'every line reads the one session\'s connection');
    const streams = byStream(lines);
    assert.equal(Object.keys(streams).length, 7);
    for (const [id, events] of Object.entries(streams)) {
      const answered = events.includes('send_resp_hdr');
      assert.deepEqual(events, answered ? TRANSACTION_EVENTS : ['txn_start', 'txn_close'], `stream ${id}: ${events}`);
    }
    const closes = lines.filter((l) => l.event === 'txn_close');
    assert.deepEqual(closes.map((l) => l.status).sort(), [200, 200, 200, 200, 404, null, null]);
    const held1 = closes.find((l) => l.status === null);
    assert.equal(held1.method, 'GET');
    assert.equal(held1.url, '/hold');
    assert.ok(closes.every((l) => Number.isInteger(l.stream) && l.stream % 2 === 1), 'client streams have odd ids');
    assert.ok(lines.filter((l) => l.event.startsWith('ssn_')).every((l) => l.stream === undefined && l.method === undefined));
    const st = handle.stats();
    assert.equal(st.failedReads, 0, 'every read found the socket open');
    assert.equal(st.logged.txn_close, 7);
  });

  test('the server closing the session (destroy with streams open, and a graceful close): txn_close before ssn_close', async (t) => {
    let sessions = [];
    const { server, handle, port, logFile } = await serveH2(t);
    server.on('session', (s) => sessions.push(s));
    const first = http2.connect(`http://127.0.0.1:${port}`);
    first.on('error', () => {});
    await h2Request(first, '/a');
    const open = first.request({ ':path': '/hold' });
    open.on('error', () => {});
    await waitFor(() => handle.stats().events.txn_start === 2, 2000, 'the held stream');
    sessions[0].destroy();
    await waitFor(() => handle.stats().events.ssn_close === 1, 2000, 'the destroyed session to close');

    const second = http2.connect(`http://127.0.0.1:${port}`);
    second.on('error', () => {});
    await h2Request(second, '/b');
    sessions[1].close();
    await waitFor(() => handle.stats().events.ssn_close === 2, 2000, 'the gracefully closed session');
    first.destroy();
    second.destroy();
    sessions = [];

    const lines = await closedLog(handle, logFile);
    const conns = [...new Set(lines.map((l) => l.conn))];
    assert.equal(conns.length, 2);
    for (const conn of conns) {
      const events = lines.filter((l) => l.conn === conn).map((l) => l.event);
      assert.equal(events[0], 'ssn_start');
      assert.equal(events.at(-1), 'ssn_close');
      assert.equal(events.filter((e) => e === 'txn_start').length, events.filter((e) => e === 'txn_close').length, `${conn}: ${events}`);
    }
    assert.equal(handle.stats().events.txn_close, 3);
    assert.equal(handle.stats().failedReads, 0);
  });

  test('sampling by session: all of a session\'s streams or none; per event: some', async (t) => {
    const { handle, port, logFile } = await serveH2(t, { sampleRate: 500, sampleBy: 'session', sampleSeed: 'h2' });
    for (let i = 0; i < 12; i++) {
      const session = http2.connect(`http://127.0.0.1:${port}`);
      await Promise.all(['/a', '/b', '/c'].map((p) => h2Request(session, p)));
      session.close();
    }
    await waitFor(() => handle.stats().events.ssn_close === 12, 3000, 'the sessions to close');
    const lines = await closedLog(handle, logFile);
    const perConn = {};
    for (const l of lines) perConn[l.conn] = (perConn[l.conn] ?? 0) + 1;
    const counts = Object.values(perConn);
    assert.ok(counts.length > 0 && counts.length < 12, `${counts.length} of 12 sessions chosen`);
    // ssn_start, ssn_close, and 3 events for each of 3 streams.
    assert.ok(counts.every((n) => n === 11), `lines per chosen session: ${counts}`);
  });

  test('respondWithFile / respondWithFD: logged with what the client got, when the headers go out; a file that cannot be sent is a reset stream', async (t) => {
    const dir = tempDir(t);
    fs.writeFileSync(path.join(dir, 'file.txt'), 'hello');
    fs.mkdirSync(path.join(dir, 'sub'));
    const { handle, port, logFile } = await serveH2(t, {}, { onStream: fileStream(dir) });
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const paths = ['/file', '/fd', '/missing', '/missing-onerror', '/dir', '/dir-fd', '/304', '/fd-304'];
    const got = {};
    for (const p of paths) got[p] = await h2Outcome(session, p);
    session.close();
    await waitFor(() => handle.stats().events.ssn_close === 1, 2000, 'the session to close');
    const lines = await closedLog(handle, logFile);
    const logged = {};
    for (const l of lines) if (l.url !== undefined) (logged[l.url] ??= []).push(l.event === 'txn_start' ? l.event : `${l.event} ${l.status}`);
    const expected = {
      '/file': 200, '/fd': 200, '/missing': null, '/missing-onerror': 404, '/dir': null, '/dir-fd': 200, '/304': 304, '/fd-304': 304,
    };
    for (const p of paths) {
      const status = expected[p];
      // Each as the client had it: the status it received, or none (the stream reset first).
      assert.equal(got[p].status, status, `${p}: the client's status`);
      const events = status === null ? ['txn_start', 'txn_close null'] : ['txn_start', `send_resp_hdr ${status}`, `txn_close ${status}`];
      assert.deepEqual(logged[p], events, `${p}: client got ${JSON.stringify(got[p])}`);
    }
    // Headers, then a reset (the fd is a directory): the client had the 200, and the stream's error.
    assert.equal(got['/dir-fd'].error, 'ERR_HTTP2_STREAM_ERROR');
    assert.equal(got['/missing'].error, 'ERR_HTTP2_STREAM_ERROR');
  });

  test('--explain attached while streams are open: theirs are unknown; a later stream not sampled at its start has no line', async (t) => {
    const held = [];
    const { server, handle, port, logFile } = await serveH2(t, {}, {
      onStream: (stream, headers) => (headers[':path'] === '/held' ? held.push(stream) : defaultStream(stream, headers)),
    });
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const heldAnswers = [h2Request(session, '/held'), h2Request(session, '/held')];
    await waitFor(() => held.length === 2, 2000, 'the held streams');
    const all = path.join(path.dirname(logFile), 'all.log');
    const some = path.join(path.dirname(logFile), 'some.log');
    const options = '--hooks=txn_close --explain --format=json --log-url';
    const loggers = [attach(server, `${options} --log-file=${all}`), attach(server, `${options} --sample-rate=500 --sample-seed=5 --log-file=${some}`)];
    t.after(() => Promise.all(loggers.map((l) => l.close())));
    for (const stream of held) {
      stream.respond({ ':status': 200 });
      stream.end('late');
    }
    await Promise.all(heldAnswers);
    for (let i = 0; i < 20; i++) await h2Request(session, `/after/${i}`);
    session.close();
    await Promise.all([handle.close(), ...loggers.map((l) => l.close())]);
    const allLines = jsonLines(all).filter((l) => l.event === 'txn_delivered');
    assert.equal(allLines.length, 22);
    assert.deepEqual(allLines.filter((l) => l.url === '/held').map((l) => [l.verdict, l.duration_us]), [['unknown', null], ['unknown', null]]);
    assert.ok(allLines.filter((l) => l.url !== '/held').every((l) => l.verdict === 'ok'));
    const fresh = jsonLines(some).filter((l) => l.event === 'txn_delivered' && l.url !== '/held');
    assert.ok(fresh.length > 2 && fresh.length < 18, `${fresh.length} of 20 sampled`);
    assert.ok(fresh.every((l) => l.verdict === 'ok'), 'each logged one was chosen at its txn_start, with its baseline');
    assert.equal(loggers[1].stats().logged.txn_close, jsonLines(some).filter((l) => l.event === 'txn_close').length);
  });

  test('metrics: an HTTP/2 session is one connection, opened and closed', async (t) => {
    const registry = new client.Registry();
    const { handle, port } = await serveH2(t, { metrics: registry, hooks: 'txn_close' });
    const session = http2.connect(`http://127.0.0.1:${port}`);
    await Promise.all(['/a', '/b', '/n/20000'].map((p) => h2Request(session, p)));
    session.close();
    const label = `server="127.0.0.1:${port}"`;
    await waitFor(async () => (await registry.metrics()).includes(`tcpinfo_connections_closed_total{${label}} 1\n`), 2000, 'the session to close');
    assert.equal(handle.stats().events.txn_close, 3);
    const text = await registry.metrics();
    assert.match(text, new RegExp(`tcpinfo_connections_opened_total\\{${label}\\} 1\\n`));
    assert.match(text, new RegExp(`tcpinfo_connections_closed_total\\{${label}\\} 1\\n`));
    const tx = Number(new RegExp(`tcpinfo_tx_bytes_total\\{${label}\\} (\\d+)`).exec(text)[1]);
    assert.ok(tx > 20000, `tx bytes ${tx}`);
  });

});

describe('HTTP/2 in Fastify', () => {
  test('Fastify with http2: true: the plugin is accepted and logs each stream', async (t) => {
    const dir = tempDir(t);
    const logFile = path.join(dir, 'tcpinfo.log');
    const app = Fastify({ http2: true });
    t.after(() => app.close());
    await app.register(tcpinfoPlugin, { options: { logFile, format: 'json', hooks: 'txn_start,txn_close', logUrl: true } });
    app.get('/hi', async () => 'hi');
    await app.listen({ port: 0, host: '127.0.0.1' });
    const session = http2.connect(`http://127.0.0.1:${app.server.address().port}`);
    const answers = await Promise.all(['/hi', '/hi', '/nope'].map((p) => h2Request(session, p)));
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 404]);
    session.close();
    await app.close();
    const lines = jsonLines(logFile);
    const closes = lines.filter((l) => l.event === 'txn_close');
    assert.deepEqual(closes.map((l) => l.stream).sort(), [1, 3, 5]);
    assert.deepEqual(closes.map((l) => l.status).sort(), [200, 200, 404]);
    assert.equal(lines.filter((l) => l.event === 'txn_start').length, 3);
  });

});
