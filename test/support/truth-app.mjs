// The ground-truth suite's server (test/slow/explain-truth.test.mjs), run in a netlab's server namespace:
//
//   node truth-app.mjs LOG_DIR SAMPLE_SEED
//
// Three servers on 10.77.2.2, each carrying the plugin with --explain into its own JSON log in LOG_DIR:
//   8080 http (h1.log), 8081 h2c (h2.log), 8082 http with --sample-rate=500 --sample-seed=SAMPLE_SEED (sampled.log).
// Every path is /s/<tag>?<what to do>, the same on each:
//   think=MS      wait MS before answering (the server's own time)
//   bytes=N       answer N bytes, handed to Node at once with end()
//   chunks=K&chunk=N&gap=MS   write K chunks of N bytes MS apart (the first at once), then end()
// A request body is read whole before the think time starts. Prints {"listening":true} once all three listen.
import http from 'node:http';
import http2 from 'node:http2';
import path from 'node:path';
import { attach } from '../../dist/index.js';

const [logDir, sampleSeed = '1'] = process.argv.slice(2);
const OPTIONS = '--hooks=txn_close --explain --format=json --log-url --fields=rtt';
const cache = new Map();

/** A response body of `n` bytes (shared: handing the same buffer to Node twice is fine). */
function body(n) {
  let b = cache.get(n);
  if (b === undefined) cache.set(n, (b = Buffer.alloc(n, 'x')));
  return b;
}

/** What a request asks for, from its query. */
function plan(url) {
  const q = new URL(url, 'http://x').searchParams;
  const num = (k, d) => (q.has(k) ? Number(q.get(k)) : d);
  return { think: num('think', 0), bytes: num('bytes', 1024), chunks: num('chunks', 0), chunk: num('chunk', 16384), gap: num('gap', 0) };
}

/** Runs a plan against a writable (an http response or an h2 stream, headers already sent on first write). */
function answer(p, out) {
  const go = () => {
    if (p.chunks === 0) return out.end(body(p.bytes));
    let i = 0;
    const next = () => {
      if (out.destroyed) return;
      out.write(body(p.chunk));
      if (++i === p.chunks) return setTimeout(() => out.end(), p.gap);
      setTimeout(next, p.gap);
    };
    next();
  };
  if (p.think > 0) setTimeout(go, p.think);
  else go();
}

function h1(req, res) {
  req.on('data', () => {});
  req.on('end', () => {
    res.setHeader('content-type', 'application/octet-stream');
    answer(plan(req.url), res);
  });
  req.on('error', () => {});
  res.on('error', () => {});
}

function h2(stream, headers) {
  stream.on('error', () => {});
  stream.on('data', () => {});
  stream.on('end', () => {
    if (stream.destroyed) return;
    stream.respond({ ':status': 200, 'content-type': 'application/octet-stream' });
    answer(plan(headers[':path']), stream);
  });
}

const servers = [
  [http.createServer({ keepAliveTimeout: 60_000 }, h1), 8080, 'h1.log', ''],
  [http2.createServer().on('stream', h2), 8081, 'h2.log', ''],
  [http.createServer({ keepAliveTimeout: 60_000 }, h1), 8082, 'sampled.log', ` --sample-rate=500 --sample-seed=${sampleSeed}`],
];
for (const [server, port, file, extra] of servers) {
  const handle = attach(server, `${OPTIONS}${extra} --log-file=${path.join(logDir, file)}`);
  handle.on('warning', (err) => process.stderr.write(`tcpinfo warning (${file}): ${err.message}\n`));
  await new Promise((resolve) => server.listen(port, '10.77.2.2', resolve));
}
process.stdout.write(JSON.stringify({ listening: true }) + '\n');
