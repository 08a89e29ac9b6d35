// Child process: the plugin with a log destination that stalls. The log file is a FIFO this process
// opens for reading (so the writer's open succeeds) and never reads: once the pipe's buffer is full the
// writer's first write blocks for good, and every further line must be held in memory or dropped.
// Lines come through the plugin's real path (attach on a stand-in server, 'connection' emitted with a
// live socket: read, format, queue) as fast as one core makes them until the queue is full, then for
// `holdSeconds` more, with RSS sampled every turn of the event loop; `maxSeconds` bounds it all. The parent kills this process by its pid once it has the
// figures: the blocked write never returns.
//
//   node --expose-gc bench/memory-stall-child.mjs '{"fifo":"/tmp/x/stalled.log","queueLines":65536,"holdSeconds":1,"maxSeconds":10}'
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { attach } from '../dist/index.js';
import { liveConnection } from './live-connection.mjs';

const { fifo, queueLines, holdSeconds, maxSeconds } = JSON.parse(process.argv[2]);
const CHUNK = 4096;

fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
const conn = await liveConnection();
const server = new EventEmitter();
const handle = attach(
  server,
  `--hooks=ssn_start --log-level=2 --rolling-enabled=0 --queue-lines=${queueLines} --log-dir=${path.dirname(fifo)} --log-file=${path.basename(fifo)}`,
);

globalThis.gc?.();
const baselineRss = process.memoryUsage.rss();
let peakRss = baselineRss;
let rssAtBound = 0;
let emitted = 0;
let filledAt = 0;
const start = performance.now();
const deadline = start + maxSeconds * 1000;
// Fill until lines are dropped (the queue is at its bound), then hold the stall for `holdSeconds` more.
for (let tick = 0; tick < 10_000_000; tick++) {
  const now = performance.now();
  if (now >= deadline || (filledAt > 0 && now >= filledAt + holdSeconds * 1000)) break;
  for (let i = 0; i < CHUNK; i++) server.emit('connection', conn.socket);
  emitted += CHUNK;
  await turn();
  const rss = process.memoryUsage.rss();
  if (rss > peakRss) peakRss = rss;
  if (filledAt === 0 && handle.stats().dropped > 0) {
    filledAt = performance.now();
    rssAtBound = peakRss;
  }
}

const stats = handle.stats();
process.send({
  type: 'stalled',
  baselineRss,
  peakRss,
  rssAtBound,
  fillSeconds: filledAt > 0 ? (filledAt - start) / 1000 : null,
  emitted,
  logged: stats.logged.ssn_start,
  dropped: stats.dropped,
  written: stats.written,
  failedReads: stats.failedReads,
});
