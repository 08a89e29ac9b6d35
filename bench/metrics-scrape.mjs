// What a --metrics scrape costs with many open connections: `open` idle keep-alive connections to one server (default
// 10,000), then registry.metrics() timed `scrapes` times. A scrape reads at most MAX_SCRAPE_READS of them (the rest at the
// next scrapes): its time is that many reads and prom-client's text, whatever the number open.
//
//   node bench/metrics-scrape.mjs [open] [scrapes]        (needs open * 2 + 100 fds: ulimit -n)
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import client from 'prom-client';
import { attach } from '../dist/index.js';
import { MAX_SCRAPE_READS } from '../dist/metrics/tcp-metrics.js';

const open = Number(process.argv[2] ?? 10_000);
const scrapes = Number(process.argv[3] ?? 20);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcpinfo-scrape-'));
const registry = new client.Registry();
const server = http.createServer((req, res) => res.end('ok'));
const handle = attach(server, { logFile: path.join(dir, 't.log'), hooks: 'ssn_close', metrics: registry });
await new Promise((resolve) => server.listen(0, '127.0.0.1', 1024, resolve));
const { port } = server.address();
let accepted = 0;
server.on('connection', () => accepted++);
const sockets = [];
for (let i = 0; i < open; i++) {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  sockets.push(socket);
  if (sockets.length % 500 === 0 || i === open - 1) {
    const deadline = Date.now() + 10_000;
    while (accepted < sockets.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  }
}
const times = [];
for (let i = 0; i < scrapes; i++) {
  const start = performance.now();
  await registry.metrics();
  times.push(performance.now() - start);
}
times.sort((a, b) => a - b);
const ms = (x) => x.toFixed(2);
console.log(`${accepted} open, at most ${MAX_SCRAPE_READS} read a scrape: median ${ms(times[times.length >> 1])} ms, max ${ms(times[times.length - 1])} ms a scrape (${scrapes} scrapes)`);
for (const socket of sockets) socket.destroy();
await handle.close();
server.close();
fs.rmSync(dir, { recursive: true, force: true });
