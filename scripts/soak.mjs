// npm run soak: the soak and churn checks of test/slow/soak.test.mjs at full size, with figures.
//
//   soak   thousands of concurrent keep-alive connections, hundreds of thousands of requests, all hooks,
//          sample-rate 1000: per event, lines in the log = events stats() saw; every line parses;
//          open fds and RSS back near their baseline after the clients go
//   churn  thousands of short connections as fast as they come, each with a request of its own size:
//          every reading belongs to the connection its line names (fd numbers are reused at once)
//
// The clients run in child processes, so the fds and memory measured here are the server's own.
// Options: --connections=N --requests=N --churn=N --seconds=N (a time bound on each phase).
import { fork } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { attach } from '../dist/index.js';
import { wrongReadings } from './churn-check.mjs';

const { values: args } = parseArgs({
  options: {
    connections: { type: 'string', default: '4000' },
    requests: { type: 'string', default: '300000' },
    churn: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '240' },
    child: { type: 'string' },
    port: { type: 'string' },
  },
});

if (args.child !== undefined) await runClient(args.child, Number(args.port), JSON.parse(process.env.SOAK_JOB));
else await main();

async function main() {
  const connections = Number(args.connections);
  const requests = Number(args.requests);
  const churn = Number(args.churn);
  const seconds = Number(args.seconds);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcpinfo-soak-'));
  console.log(`tcpinfo soak: ${connections} connections, ${requests} requests, ${churn} churned connections; log in ${dir}`);
  const report = [];
  try {
    report.push(await soakPhase(dir, connections, requests, seconds));
    report.push(await churnPhase(dir, churn, seconds));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log('\n| phase | check | result | figures |\n|---|---|---|---|');
  let failed = 0;
  for (const phase of report) {
    for (const c of phase.checks) {
      if (!c.ok) failed++;
      console.log(`| ${phase.name} | ${c.what} | ${c.ok ? 'PASS' : 'FAIL'} | ${c.figures} |`);
    }
  }
  process.exitCode = failed === 0 ? 0 : 1;
}

function openFds() {
  return fs.readdirSync('/proc/self/fd').length;
}

function heapUsedMiB() {
  return Math.round(process.memoryUsage().heapUsed / 2 ** 20);
}

function rssMiB() {
  return Math.round(process.memoryUsage().rss / 2 ** 20);
}

async function listen(server) {
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server.address().port;
}

/** Run the client side in a child process; resolves with what it reports. */
function client(kind, port, job, seconds) {
  return new Promise((resolve, reject) => {
    const child = fork(new URL(import.meta.url).pathname, ['--child', kind, '--port', String(port)], {
      env: { ...process.env, SOAK_JOB: JSON.stringify(job) },
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 30) * 1000);
    let result = null;
    child.on('message', (m) => (result = m));
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0 && result !== null) resolve(result);
      else reject(new Error(`${kind} client exited with ${code}`));
    });
  });
}

async function waitFor(predicate, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (predicate()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return predicate();
}

async function soakPhase(dir, connections, requests, seconds) {
  const logFile = path.join(dir, 'soak.log');
  const server = http.createServer((req, res) => res.end('hello world\n'));
  server.maxConnections = connections + 100;
  const fdsBefore = openFds();
  global.gc?.();
  const rssBefore = rssMiB();
  const heapBefore = heapUsedMiB();
  const handle = attach(server, { logFile, hooks: 'ssn_start,txn_start,send_resp_hdr,txn_close,ssn_close', logLevel: 2 });
  const port = await listen(server);
  let rssPeak = rssBefore;
  let fdsPeak = fdsBefore;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, rssMiB());
    fdsPeak = Math.max(fdsPeak, openFds());
  }, 100);
  const started = Date.now();
  const result = await client('soak', port, { connections, requests, seconds }, seconds);
  const elapsed = (Date.now() - started) / 1000;
  await waitFor(() => handle.stats().events.ssn_close >= handle.stats().events.ssn_start, 10_000);
  await handle.close();
  await new Promise((r) => server.close(r));
  clearInterval(sampler);
  global.gc?.();
  await new Promise((r) => setTimeout(r, 500));
  // Measured before this process reads the log below, which takes memory of its own.
  const fdsAfter = openFds();
  const rssAfter = rssMiB();
  const heapAfter = heapUsedMiB();
  const stats = handle.stats();
  const counts = {};
  let bad = 0;
  let lines = 0;
  const text = fs.readFileSync(logFile, 'utf8');
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('timestamp ')) continue;
    lines++;
    const cols = line.split(' ');
    if (cols.length !== 19 || !/^\d{8}\.\d\dh\d\dm\d\ds$/.test(cols[0]) || cols.slice(4).some((c) => !/^\d+$/.test(c))) bad++;
    counts[cols[1]] = (counts[cols[1]] ?? 0) + 1;
  }
  const events = ['ssn_start', 'txn_start', 'send_resp_hdr', 'txn_close', 'ssn_close'];
  const mismatched = events.filter((e) => (counts[e] ?? 0) !== stats.events[e]);
  return {
    name: 'soak',
    checks: [
      { what: 'requests answered', ok: result.ok === result.sent && result.errors === 0, figures: `${result.ok}/${result.sent} ok, ${result.errors} errors, ${Math.round(result.ok / elapsed)} req/s over ${elapsed.toFixed(1)} s` },
      { what: 'lines per event = events seen', ok: mismatched.length === 0, figures: events.map((e) => `${e} ${counts[e] ?? 0}/${stats.events[e]}`).join(', ') },
      { what: 'every line parses', ok: bad === 0 && lines > 0, figures: `${lines} lines, ${bad} malformed` },
      { what: 'nothing dropped, lost or unread', ok: stats.dropped + stats.lost + stats.failedReads === 0, figures: `dropped ${stats.dropped}, lost ${stats.lost}, failed reads ${stats.failedReads}` },
      { what: 'fds back to baseline', ok: fdsAfter <= fdsBefore + 2, figures: `${fdsBefore} before, ${fdsAfter} after` },
      // What the process still holds after a GC: a leak keeps objects. RSS is shown too, but V8 gives the pages of a
      // heap that grew back to the system only over time (seen: heap 6.7 -> 7.7 MiB while RSS stayed 121 MiB).
      { what: 'heap back near baseline', ok: heapAfter <= heapBefore + 16, figures: `heap ${heapBefore} MiB before, ${heapAfter} MiB after a GC; RSS ${rssBefore} MiB before, ${rssPeak} MiB peak, ${rssAfter} MiB after (fds peak ${fdsPeak})` },
    ],
  };
}

async function churnPhase(dir, n, seconds) {
  const logFile = path.join(dir, 'churn.log');
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  const before = { request: server.listenerCount('request'), connection: server.listenerCount('connection') };
  const handle = attach(server, { logFile, hooks: 'txn_close,ssn_close', format: 'json', fields: 'bytes_received' });
  const port = await listen(server);
  const started = Date.now();
  const result = await client('churn', port, { n, seconds }, seconds);
  await waitFor(() => handle.stats().events.ssn_close >= result.done, 10_000);
  await handle.close();
  await new Promise((r) => server.close(r));
  const elapsed = (Date.now() - started) / 1000;
  let lines = 0;
  const parsed = [];
  for (const line of fs.readFileSync(logFile, 'utf8').split('\n')) {
    if (line === '') continue;
    lines++;
    parsed.push(JSON.parse(line));
  }
  const wrong = wrongReadings(result.sizes, parsed);
  const stats = handle.stats();
  return {
    name: 'churn',
    checks: [
      { what: 'connections opened and closed', ok: result.done === n && result.errors === 0, figures: `${result.done}/${n} in ${elapsed.toFixed(1)} s (${Math.round(result.done / elapsed)}/s), ${result.errors} errors` },
      { what: 'every reading is of its own connection', ok: wrong === 0 && lines === 2 * result.done, figures: `${lines} lines, ${wrong} with another connection's bytes_received` },
      { what: 'no listener left behind', ok: server.listenerCount('request') === before.request && server.listenerCount('connection') === before.connection, figures: `request ${server.listenerCount('request')}, connection ${server.listenerCount('connection')}` },
      { what: 'no failed reads', ok: stats.failedReads === 0, figures: `${stats.failedReads}` },
    ],
  };
}

async function runClient(kind, port, job) {
  const net = await import('node:net');
  const deadline = Date.now() + job.seconds * 1000;
  if (kind === 'soak') {
    const { Agent, request } = await import('undici');
    const dispatcher = new Agent({ connections: job.connections, pipelining: 1, keepAliveTimeout: 60_000, connect: { timeout: 30_000 } });
    let sent = 0;
    let ok = 0;
    let errors = 0;
    const origin = `http://127.0.0.1:${port}`;
    // One loop per connection, each taking requests from the shared count.
    await Promise.all(Array.from({ length: job.connections }, async () => {
      while (sent < job.requests && Date.now() < deadline) {
        sent++;
        try {
          const { statusCode, body } = await request(origin, { dispatcher });
          await body.text();
          if (statusCode === 200) ok++;
          else errors++;
        } catch {
          errors++;
        }
      }
    }));
    await dispatcher.close();
    process.send({ sent, ok, errors });
  } else {
    const sizes = [];
    let next = 0;
    let done = 0;
    let errors = 0;
    async function worker() {
      while (next < job.n && Date.now() < deadline) {
        const i = next++;
        const body = 'b'.repeat(3 * i);
        const head = `POST /${i} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
        await new Promise((resolve) => {
          const socket = net.connect(port, '127.0.0.1', () => {
            sizes.push([socket.localPort, Buffer.byteLength(head) + body.length]);
            socket.end(head + body);
          });
          socket.resume();
          socket.on('error', () => errors++);
          socket.on('close', () => {
            done++;
            resolve();
          });
        });
      }
    }
    await Promise.all(Array.from({ length: 32 }, worker));
    process.send({ sizes, done, errors });
  }
}
