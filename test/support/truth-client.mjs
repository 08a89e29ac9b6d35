// The ground-truth suite's clients (test/slow/explain-truth.test.mjs), run in a netlab's client namespace:
//
//   node truth-client.mjs SERVER_ADDR RUN SCENARIO...
//
// Each scenario builds its cause for real against truth-app.mjs and prints one JSON line per transaction:
// { scenario, tag, expect, ms, bytes, port, proto }. `ms` is the client's own time from sending the request
// (its connection already open, or from connect) to reading the response's last byte, read promptly at the end;
// `expect` is the verdict the built cause must get. Tags are unique per RUN, so the log lines are matched by url.
import http from 'node:http';
import http2 from 'node:http2';

const [addr, run, ...names] = process.argv.slice(2);
const KB = 1024;
const MB = 1024 * KB;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let seq = 0;
const tagOf = (scenario) => `${scenario}-${run}-${++seq}`;

function emit(line) {
  process.stdout.write(JSON.stringify(line) + '\n');
}

/**
 * One HTTP/1.1 request on `agent` (keep-alive, one socket): `query` is what the app does, `read` how the body
 * is consumed: { every, pauseMs } pauses after each `every` bytes; { at, stallMs } once after `at` bytes.
 * `upload` { bytes, chunk, gapMs } sends a body paced so.
 */
function h1(scenario, expect, { port = 8080, agent, query, read = {}, upload = null }) {
  const tag = tagOf(scenario);
  return new Promise((resolve, reject) => {
    let t0 = NaN;
    const headers = upload ? { 'content-length': String(upload.bytes) } : {};
    const req = http.request({ host: addr, port, path: `/s/${tag}?${query}`, agent, method: upload ? 'POST' : 'GET', headers }, (res) => {
      let bytes = 0;
      let nextPause = read.every ?? Infinity;
      let stalled = false;
      res.on('data', (chunk) => {
        bytes += chunk.length;
        if (bytes >= nextPause) {
          nextPause += read.every;
          res.pause();
          setTimeout(() => res.resume(), read.pauseMs);
        } else if (read.at !== undefined && !stalled && bytes >= read.at) {
          stalled = true;
          res.pause();
          setTimeout(() => res.resume(), read.stallMs);
        }
      });
      res.on('end', () => {
        const ms = performance.now() - t0;
        const line = { scenario, tag, expect, ms, bytes, port: req.socket.localPort, proto: 'h1' };
        emit(line);
        resolve(line);
      });
      res.on('error', reject);
    });
    req.on('socket', (s) => {
      if (s.connecting) s.once('connect', () => (t0 = performance.now()));
      else t0 = performance.now();
    });
    req.on('error', reject);
    req.setTimeout(60_000, () => req.destroy(new Error(`${tag}: no answer in 60 s`)));
    if (!upload) return req.end();
    (async () => {
      const piece = Buffer.alloc(upload.chunk, 'u');
      for (let sent = 0; sent < upload.bytes; sent += upload.chunk) {
        req.write(piece.subarray(0, Math.min(upload.chunk, upload.bytes - sent)));
        await sleep(upload.gapMs);
      }
      req.end();
    })();
  });
}

/** An h2c session to the app's 8081, connected. */
async function h2session() {
  const session = http2.connect(`http://${addr}:8081`);
  session.on('error', () => {});
  await new Promise((resolve, reject) => session.once('connect', resolve).once('error', reject));
  return session;
}

/** One HTTP/2 request on `session`; `read` as for h1. */
function h2(scenario, expect, session, { query, read = {} }) {
  const tag = tagOf(scenario);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const stream = session.request({ ':path': `/s/${tag}?${query}` });
    let bytes = 0;
    let nextPause = read.every ?? Infinity;
    stream.on('data', (chunk) => {
      bytes += chunk.length;
      if (bytes >= nextPause) {
        nextPause += read.every;
        stream.pause();
        setTimeout(() => stream.resume(), read.pauseMs);
      }
    });
    stream.on('end', () => {
      const line = { scenario, tag, expect, ms: performance.now() - t0, bytes, port: session.socket.localPort, proto: 'h2' };
      emit(line);
      resolve(line);
    });
    stream.on('error', reject);
    stream.setTimeout(60_000, () => stream.destroy(new Error(`${tag}: no answer in 60 s`)));
  });
}

const keepAlive = () => new http.Agent({ keepAlive: true, maxSockets: 1 });

/** Each scenario: its transactions, one after another (15's in parallel batches). */
const SCENARIOS = {
  async quick() {
    await h1('quick', 'ok', { agent: keepAlive(), query: 'bytes=1024' });
  },
  async 'slow-handler'() {
    await h1('slow-handler', 'server', { agent: keepAlive(), query: 'think=300&bytes=1024' });
  },
  async 'slow-reader'() {
    await h1('slow-reader', 'client', { agent: keepAlive(), query: `bytes=${4 * MB}`, read: { every: 64 * KB, pauseMs: 30 } });
  },
  async 'stalled-reader'() {
    await h1('stalled-reader', 'client', { agent: keepAlive(), query: `bytes=${1 * MB}`, read: { at: 256 * KB, stallMs: 2000 } });
  },
  async lossy() {
    await h1('lossy', 'network', { agent: keepAlive(), query: `bytes=${4 * MB}` });
  },
  async 'rate-limited'() {
    await h1('rate-limited', 'network', { agent: keepAlive(), query: `bytes=${4 * MB}` });
  },
  async 'long-rtt'() {
    const agent = keepAlive();
    await h1('long-rtt-warm', 'any', { agent, query: 'bytes=1024' });
    await h1('long-rtt', 'network', { agent, query: 'bytes=1024' });
  },
  async 'slow-producer'() {
    await h1('slow-producer', 'server', { agent: keepAlive(), query: 'chunks=5&chunk=16384&gap=100' });
  },
  async 'second-cause'() {
    await h1('second-cause', 'mixed', { agent: keepAlive(), query: `think=1500&bytes=${4 * MB}` });
  },
  async upload() {
    // 3 MB in 48 KB pieces 64 ms apart: 0.75 MB/s.
    await h1('upload', 'client', { agent: keepAlive(), query: 'bytes=1024', upload: { bytes: 3 * MB, chunk: 48 * KB, gapMs: 64 } });
  },
  async 'small-window'() {
    await h1('small-window', 'client', { agent: keepAlive(), query: `bytes=${4 * MB}` });
  },
  async 'h2-slow-reader'() {
    const session = await h2session();
    await h2('h2-slow-reader', 'client', session, { query: `bytes=${1 * MB}`, read: { every: 64 * KB, pauseMs: 30 } });
    session.close();
  },
  async 'h2-default-window'() {
    const session = await h2session();
    await h2('h2-default-window', 'client', session, { query: `bytes=${2 * MB}` });
    session.close();
  },
  async 'keep-alive'() {
    const agent = keepAlive();
    await h1('keep-alive', 'ok', { agent, query: 'bytes=1024' });
    await h1('keep-alive', 'server', { agent, query: 'think=300&bytes=1024' });
    await h1('keep-alive', 'ok', { agent, query: 'bytes=1024' });
  },
  async sampled() {
    // 20 quick and 20 slow-handler transactions, each on its own connection, ten at a time.
    const all = [];
    for (let i = 0; i < 40; i++) all.push(i % 2 === 0 ? ['ok', 'bytes=1024'] : ['server', 'think=300&bytes=1024']);
    for (let i = 0; i < all.length; i += 10) {
      await Promise.all(all.slice(i, i + 10).map(([expect, query]) => h1('sampled', expect, { port: 8082, agent: keepAlive(), query })));
    }
  },
};

for (const name of names) {
  if (!(name in SCENARIOS)) throw new Error(`unknown scenario ${name}; known: ${Object.keys(SCENARIOS).join(', ')}`);
  await SCENARIOS[name]();
}
// Keep-alive agents and sessions still hold their sockets: the transactions are all done.
process.exit(0);
