// Child process: the plugin with a log destination that stalls. The log file is a FIFO this process
// opens for reading (so the writer's open succeeds) and never reads: once the pipe's buffer is full the
// writer's first write blocks for good, and every further line must be held in memory or dropped.
// Lines come through the plugin's real path (attach on a stand-in server, 'connection' emitted with a
// live socket: read, format, queue) as fast as one core makes them until the queue is full, then for
// `holdSeconds` more, with RSS sampled every turn of the event loop; `maxSeconds` bounds it all. The parent kills this process by its pid once it has the
// figures: the blocked write never returns. With `urlBytes`, the lines are JSON lines of txn_start with
// --log-url and a path of that many bytes (a client chooses it: the case the byte bound is for).
//
//   node --expose-gc bench/memory-stall-child.mjs '{"fifo":"/tmp/x/stalled.log","queueLines":65536,"queueBytes":"16M","holdSeconds":1,"maxSeconds":10}'
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { attach } from '../dist/index.js';
import { createLineFormatter } from '../dist/format/line-format.js';
import { beginEvent, kernelTcpInfoLength, readForEvent } from '../dist/tcpinfo/read.js';
import { liveConnection } from './live-connection.mjs';

const { fifo, queueLines, queueBytes, urlBytes = 0, holdSeconds, maxSeconds } = JSON.parse(process.argv[2]);
const CHUNK = 4096;

fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
const conn = await liveConnection();
const server = new EventEmitter();
const lines = urlBytes > 0 ? '--hooks=txn_start --format=json --log-url' : '--hooks=ssn_start';
const handle = attach(
  server,
  `${lines} --log-level=2 --rolling-enabled=0 --queue-lines=${queueLines} --queue-bytes=${queueBytes} ` +
    `--log-dir=${path.dirname(fifo)} --log-file=${path.basename(fifo)}`,
);
// A request as the 'request' event hands it (only what a txn_start line reads of it).
const req = { socket: conn.socket, method: 'GET', url: '/' + 'a'.repeat(Math.max(urlBytes - 1, 0)) };
const res = { req, statusCode: 200 };
const emitOne = urlBytes > 0 ? () => server.emit('request', req, res) : () => server.emit('connection', conn.socket);
// The length of one line, formatted as the plugin formats it (the lines themselves go to the stalled FIFO).
beginEvent();
const sampleLine = createLineFormatter(handle.options, kernelTcpInfoLength()).format(urlBytes > 0 ? 'txn_start' : 'ssn_start', conn.socket, urlBytes > 0 ? res : null, readForEvent(conn.socket));

globalThis.gc?.();
const baselineRss = process.memoryUsage.rss();
let peakRss = baselineRss;
let rssAtBound = 0;
let emitted = 0;
let filledAt = 0;
let queuedAtBound = 0;
const start = performance.now();
const deadline = start + maxSeconds * 1000;
// Fill until lines are dropped (the queue is at its bound), then hold the stall for `holdSeconds` more.
for (let tick = 0; tick < 10_000_000; tick++) {
  const now = performance.now();
  if (now >= deadline || (filledAt > 0 && now >= filledAt + holdSeconds * 1000)) break;
  for (let i = 0; i < CHUNK; i++) emitOne();
  emitted += CHUNK;
  await turn();
  const rss = process.memoryUsage.rss();
  if (rss > peakRss) peakRss = rss;
  if (filledAt === 0) {
    const now = handle.stats();
    if (now.dropped > 0) {
      filledAt = performance.now();
      rssAtBound = peakRss;
      queuedAtBound = (urlBytes > 0 ? now.logged.txn_start : now.logged.ssn_start) - now.written;
    }
  }
}

const stats = handle.stats();
process.send({
  type: 'stalled',
  lineBytes: Buffer.byteLength(sampleLine),
  queueBytes: handle.options.queueBytes,
  baselineRss,
  peakRss,
  rssAtBound,
  fillSeconds: filledAt > 0 ? (filledAt - start) / 1000 : null,
  queuedAtBound,
  emitted,
  logged: urlBytes > 0 ? stats.logged.txn_start : stats.logged.ssn_start,
  dropped: stats.dropped,
  written: stats.written,
  failedReads: stats.failedReads,
});
