// --server-timing and --timing-allow-origin (issue 27): real servers on loopback (node:http, Express, node:http2 with its
// compatibility API), real clients; each response's `tcpinfo` entry holds the values of its own txn_start line.
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import path from 'node:path';
import { test } from 'node:test';
import express from 'express';
import { attach, parseOptions, TcpinfoConfigError } from '../dist/index.js';
import { jsonLines, listen, tempDir } from './support/harness.mjs';

const FIELDS = 'rtt,min_rtt,rttvar,snd_cwnd,total_retrans,delivery_rate,bytes_sent,bytes_received';
const ENTRY = /tcpinfo;desc="([^"]*)"/;

/** The description a txn_start line's values make (docs/server-timing.md). */
function descOf(line) {
  const ms = (us) => `${Math.floor(Math.round(us / 100) / 10)}.${Math.round(us / 100) % 10}`;
  return `rtt=${ms(line.rtt)}&min_rtt=${ms(line.min_rtt)}&rttvar=${ms(line.rttvar)}&cwnd=${line.snd_cwnd}&retrans=${line.total_retrans}` +
    `&delivery_rate=${line.delivery_rate}&sent=${line.bytes_sent}&recv=${line.bytes_received}`;
}

/** `server` attached with --server-timing (more `options` on top), its txn_start lines in JSON with the entry's fields. */
async function serveTimed(t, server, options = {}) {
  const logFile = path.join(tempDir(t), 'tcpinfo.log');
  const handle = attach(server, { logFile, format: 'json', hooks: 'txn_start', fields: FIELDS, logUrl: true, serverTiming: true, ...options });
  t.after(() => handle.close());
  const port = await listen(t, server);
  return { port, handle, logFile };
}

/** GET `p` on a fresh connection: the status, the raw header lines and the body. */
function get(port, p) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        const lines = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) lines.push([res.rawHeaders[i].toLowerCase(), res.rawHeaders[i + 1]]);
        resolve({ status: res.statusCode, lines, body, all: (name) => lines.filter(([k]) => k === name).map(([, v]) => v) });
      });
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timed out')));
  });
}

/** The Server-Timing entries of a response, every header line and list item in order. */
function entries(r) {
  return r.all('server-timing').flatMap((v) => v.split(/,\s*/));
}

/** Each path's txn_start line, from the closed log. */
async function linesByUrl(handle, logFile) {
  await handle.close();
  return Object.fromEntries(jsonLines(logFile).filter((l) => l.event === 'txn_start').map((l) => [l.url, l]));
}

test('options: off by default; --server-timing and --timing-allow-origin parsed, checked and explained', () => {
  const plain = parseOptions('');
  assert.equal(plain.serverTiming, false);
  assert.equal(plain.timingAllowOrigin, undefined);
  const on = parseOptions('--server-timing --timing-allow-origin=https://app.example,http://127.0.0.1:8080');
  assert.equal(on.serverTiming, true);
  assert.equal(on.timingAllowOrigin, 'https://app.example, http://127.0.0.1:8080');
  assert.equal(parseOptions({ serverTiming: true, timingAllowOrigin: '*' }).timingAllowOrigin, '*');
  const problem = (input) => {
    try {
      parseOptions(input);
    } catch (err) {
      assert.ok(err instanceof TcpinfoConfigError);
      return err.problems.map((p) => `${p.option}=${p.value}: ${p.reason}`).join('\n');
    }
    assert.fail(`accepted: ${JSON.stringify(input)}`);
  };
  assert.equal(problem('--timing-allow-origin=*'), '--timing-allow-origin=*: needs --server-timing');
  assert.match(problem('--server-timing --timing-allow-origin=https://app.example/page'), /did you mean https:\/\/app\.example\?/);
  assert.match(problem('--server-timing --timing-allow-origin=app.example'), /app\.example is not an origin/);
  assert.match(problem('--server-timing --timing-allow-origin=*,https://a.example'), /\* stands alone/);
  assert.match(problem('--server-timing=2'), /--server-timing=2: must be 1 or 0/);
});

test('node:http: the entry joins the app\'s Server-Timing however it was set, with the values of the txn_start line', async (t) => {
  const shared = { 'Server-Timing': 'cache;desc=hit', 'content-type': 'text/plain' };
  const server = http.createServer((req, res) => {
    switch (req.url) {
      case '/implicit':
        res.end('a');
        break;
      case '/set':
        res.setHeader('Server-Timing', 'db;dur=53');
        res.end('b');
        break;
      case '/set-array':
        res.setHeader('Server-Timing', ['db;dur=53', 'app;dur=2']);
        res.end('c');
        break;
      case '/object':
        // writeHead's object wins over setHeader (Node's rule): the entry goes after the object's.
        res.setHeader('Server-Timing', 'lost;dur=1');
        res.writeHead(200, 'Fine', shared);
        res.end('d');
        break;
      case '/object-other':
        res.setHeader('Server-Timing', 'db;dur=53');
        res.writeHead(200, { 'x-a': '1' });
        res.end('e');
        break;
      case '/flat':
        res.writeHead(200, ['Server-Timing', 'db;dur=53', 'X-A', '1']);
        res.end('f');
        break;
      case '/flat-other':
        res.setHeader('Server-Timing', 'db;dur=53');
        res.writeHead(201, ['X-A', '1']);
        res.end('g');
        break;
      case '/pairs':
        res.writeHead(200, [['Server-Timing', 'db;dur=53'], ['X-A', '1']]);
        res.end('h');
        break;
      case '/sent':
        // Headers out before the second writeHead: Node refuses it, and nothing is added to anything.
        res.writeHead(200);
        res.write('i');
        assert.throws(() => res.writeHead(500, { 'Server-Timing': 'late' }), { code: 'ERR_HTTP_HEADERS_SENT' });
        res.end();
        break;
      default:
        res.end('?');
    }
  });
  const { port, handle, logFile } = await serveTimed(t, server);
  const paths = ['/implicit', '/set', '/set-array', '/object', '/object-other', '/flat', '/flat-other', '/pairs', '/sent'];
  const got = {};
  for (const p of paths) got[p] = await get(port, p);
  const lines = await linesByUrl(handle, logFile);
  const entry = (p) => `tcpinfo;desc="${descOf(lines[p])}"`;
  for (const p of paths) {
    assert.ok(lines[p], `a txn_start line for ${p}`);
    assert.ok(lines[p].rtt > 0, 'a real rtt');
    const st = entries(got[p]);
    assert.equal(st.filter((e) => e.startsWith('tcpinfo')).length, 1, `${p}: one entry: ${st}`);
    assert.equal(st.at(-1), entry(p), `${p}: the entry is last and holds its txn_start line's values`);
    assert.equal(got[p].all('timing-allow-origin').length, 0, 'no Timing-Allow-Origin without the option');
  }
  assert.deepEqual(entries(got['/implicit']), [entry('/implicit')]);
  assert.deepEqual(entries(got['/set']), ['db;dur=53', entry('/set')]);
  assert.deepEqual(entries(got['/set-array']), ['db;dur=53', 'app;dur=2', entry('/set-array')]);
  assert.deepEqual(entries(got['/object']), ['cache;desc=hit', entry('/object')]);
  assert.equal(shared['Server-Timing'], 'cache;desc=hit', 'the app\'s object is never changed');
  assert.deepEqual(entries(got['/object-other']), ['db;dur=53', entry('/object-other')]);
  assert.deepEqual(got['/object-other'].all('x-a'), ['1']);
  assert.deepEqual(entries(got['/flat']), ['db;dur=53', entry('/flat')]);
  assert.deepEqual(entries(got['/flat-other']), ['db;dur=53', entry('/flat-other')]);
  assert.equal(got['/flat-other'].status, 201);
  assert.deepEqual(entries(got['/pairs']), ['db;dur=53', entry('/pairs')]);
  assert.equal(got['/sent'].body, 'i');
});

test('every response gets its entry whatever --sample-rate logs; Timing-Allow-Origin unless the app set its own', async (t) => {
  const server = http.createServer((req, res) => {
    if (req.url === '/own') res.setHeader('Timing-Allow-Origin', 'https://mine.example');
    if (req.url === '/own-object') res.writeHead(200, { 'timing-allow-origin': 'https://obj.example' });
    res.end('x');
  });
  const { port, handle } = await serveTimed(t, server, { sampleRate: 0, timingAllowOrigin: 'https://a.example, https://b.example' });
  for (let i = 0; i < 5; i++) {
    const r = await get(port, `/${i}`);
    assert.match(r.all('server-timing').join(), ENTRY);
    assert.deepEqual(r.all('timing-allow-origin'), ['https://a.example, https://b.example']);
  }
  assert.deepEqual((await get(port, '/own')).all('timing-allow-origin'), ['https://mine.example']);
  assert.deepEqual((await get(port, '/own-object')).all('timing-allow-origin'), ['https://obj.example']);
  const stats = handle.stats();
  assert.equal(stats.events.txn_start, 7);
  assert.equal(stats.logged.txn_start, 0, 'rate 0: no line, every entry');
});

test('off (the default), and after close: the response is as the app made it', async (t) => {
  const server = http.createServer((req, res) => {
    res.setHeader('Server-Timing', 'db;dur=53');
    res.end('x');
  });
  const logFile = path.join(tempDir(t), 'tcpinfo.log');
  const off = attach(server, { logFile, hooks: 'txn_start' });
  t.after(() => off.close());
  const port = await listen(t, server);
  assert.deepEqual((await get(port, '/')).all('server-timing'), ['db;dur=53']);
  const on = attach(server, { logFile: `${logFile}.2`, hooks: 'txn_start', serverTiming: true });
  assert.match((await get(port, '/')).all('server-timing').join(), /^db;dur=53, tcpinfo;desc="rtt=/);
  await on.close();
  assert.deepEqual((await get(port, '/')).all('server-timing'), ['db;dur=53']);
});

test('Express: res.setHeader(\'Server-Timing\', \'db;dur=53\') then res.send', async (t) => {
  const app = express();
  app.get('/{*rest}', (req, res) => {
    res.setHeader('Server-Timing', 'db;dur=53');
    res.send('hello');
  });
  const { port, handle, logFile } = await serveTimed(t, http.createServer(app), { timingAllowOrigin: '*' });
  const r = await get(port, '/x');
  const lines = await linesByUrl(handle, logFile);
  assert.equal(r.body, 'hello');
  assert.deepEqual(entries(r), ['db;dur=53', `tcpinfo;desc="${descOf(lines['/x'])}"`]);
  assert.deepEqual(r.all('timing-allow-origin'), ['*']);
});

/** One HTTP/2 request on `session`: the response headers and body. */
function h2Get(session, p) {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': p });
    let headers = {};
    let body = '';
    stream.setEncoding('utf8');
    stream.on('response', (h) => (headers = h));
    stream.on('data', (c) => (body += c));
    stream.on('end', () => resolve({ headers, body }));
    stream.on('error', reject);
    stream.setTimeout(5000, () => stream.close(http2.constants.NGHTTP2_CANCEL));
    stream.end();
  });
}

test('HTTP/2: respond() headers (none, an object naming Server-Timing), the compatibility API, headers already sent', async (t) => {
  const server = http2.createServer();
  // Both APIs on one server: 'stream' answers its own paths, the compatibility API's 'request' the others.
  server.on('stream', (stream, headers) => {
    const p = headers[':path'];
    if (p === '/bare') {
      stream.respond();
      stream.end('a');
    } else if (p === '/object') {
      stream.respond({ ':status': 200, 'Server-Timing': 'db;dur=53' });
      stream.end('b');
    } else if (p === '/sent') {
      stream.respond({ ':status': 200 });
      assert.throws(() => stream.respond({ ':status': 500 }), { code: 'ERR_HTTP2_HEADERS_SENT' });
      stream.end('c');
    }
  });
  server.on('request', (req, res) => {
    if (req.url === '/compat') {
      res.setHeader('Server-Timing', 'db;dur=53');
      res.end('d');
    } else if (req.url === '/compat-writehead') {
      res.writeHead(203, { 'server-timing': 'app;dur=1', 'timing-allow-origin': 'https://own.example' });
      res.end('e');
    }
  });
  const { port, handle, logFile } = await serveTimed(t, server, { timingAllowOrigin: 'https://a.example' });
  const session = http2.connect(`http://127.0.0.1:${port}`);
  t.after(() => session.destroy());
  const got = {};
  for (const p of ['/bare', '/object', '/sent', '/compat', '/compat-writehead']) got[p] = await h2Get(session, p);
  session.close();
  const lines = await linesByUrl(handle, logFile);
  const entry = (p) => `tcpinfo;desc="${descOf(lines[p])}"`;
  assert.equal(got['/bare'].headers['server-timing'], entry('/bare'));
  assert.equal(got['/object'].headers['server-timing'], `db;dur=53, ${entry('/object')}`);
  assert.equal(got['/sent'].headers['server-timing'], entry('/sent'));
  assert.equal(got['/compat'].headers['server-timing'], `db;dur=53, ${entry('/compat')}`);
  assert.equal(got['/compat-writehead'].headers['server-timing'], `app;dur=1, ${entry('/compat-writehead')}`);
  assert.equal(got['/compat-writehead'].headers[':status'], 203);
  for (const p of ['/bare', '/object', '/sent', '/compat']) assert.equal(got[p].headers['timing-allow-origin'], 'https://a.example', p);
  assert.equal(got['/compat-writehead'].headers['timing-allow-origin'], 'https://own.example');
  assert.equal(got['/compat'].body, 'd');
});

test('a headers object that cannot be copied: the response goes out as the app made it, one TCPINFO_SERVER_TIMING warning', async (t) => {
  const server = http.createServer((req, res) => {
    let reads = 0;
    const headers = {
      get 'Server-Timing'() {
        if (reads++ === 0) throw new Error('first read fails');
        return 'db;dur=53';
      },
    };
    res.writeHead(200, headers);
    res.end('x');
  });
  const warnings = [];
  const onWarning = (w) => w.code === 'TCPINFO_SERVER_TIMING' && warnings.push(w.message);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const { port } = await serveTimed(t, server);
  for (let i = 0; i < 2; i++) {
    const r = await get(port, `/${i}`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.all('server-timing'), ['db;dur=53']);
  }
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(warnings.length, 1, 'reported once');
  assert.match(warnings[0], /--server-timing: a response went out without its entry: first read fails/);
});
