// Section 1, per event: the whole plugin path for one event (sample -> read -> format -> queue) without
// HTTP around it. attach() is given a stand-in server (an EventEmitter: attach only listens to a
// server's events), and 'connection' is emitted with the accepted socket of a live loopback connection,
// so each emit runs the real ssn_start path into a real log file. Rounds alternate with rounds of bare
// readRaw calls on the same socket, so each variant is also given as a multiple of the read itself,
// median of round ratios: a figure the noise of a shared machine moves much less than nanoseconds.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { attach, parseOptions } from '../dist/index.js';
import { readRaw } from '../dist/tcpinfo/read.js';
import { liveConnection } from './live-connection.mjs';
import { median } from './stats.mjs';

const VARIANTS = [
  { id: 'level2', label: 'plugin event, level 2, logged', options: '--log-level=2' },
  { id: 'level1', label: 'plugin event, level 1, logged', options: '--log-level=1' },
  { id: 'rate10', label: 'plugin event, level 2, rate 10 (1% logged)', options: '--log-level=2 --sample-rate=10' },
  { id: 'json', label: 'plugin event, JSON, all fields, logged', options: '--format=json --fields=all' },
];

async function eventCost(conn, variant, s) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcpinfo-bench-event-'));
  const server = new EventEmitter();
  const handle = attach(
    server,
    `--hooks=ssn_start ${variant.options} --rolling-enabled=0 --queue-lines=10000000 --log-dir=${dir} --log-file=event.log`,
  );
  try {
    const emitMany = (n) => {
      for (let i = 0; i < n; i++) server.emit('connection', conn.socket);
    };
    const readMany = (n) => {
      for (let i = 0; i < n; i++) readRaw(conn.socket);
    };
    const nsPer = (f) => {
      const start = process.hrtime.bigint();
      f(s.iterations);
      return Number(process.hrtime.bigint() - start) / s.iterations;
    };
    emitMany(Math.min(s.iterations, 10_000));
    await turn();
    const events = [];
    const reads = [];
    const deadline = performance.now() + s.maxMs;
    for (let r = 0; r < s.rounds && (r === 0 || performance.now() < deadline); r++) {
      reads.push(nsPer(readMany));
      events.push(nsPer(emitMany));
      await turn(); // lets the writer's completed writes be counted between rounds
    }
    const stats = handle.stats();
    return {
      variant: variant.id,
      label: variant.label,
      ns: median(events),
      readRawNs: median(reads),
      ratioToReadRaw: median(events.map((ns, i) => ns / reads[i])),
      loggedShare: stats.logged.ssn_start / stats.events.ssn_start,
      dropped: stats.dropped,
      failedReads: stats.failedReads,
    };
  } finally {
    await handle.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function measureEventCost(s) {
  const conn = await liveConnection();
  try {
    const results = [];
    const skipped = [];
    for (const variant of VARIANTS) {
      try {
        parseOptions(variant.options);
      } catch {
        // An option this build does not have yet: the variant is one entry, measured once it exists.
        skipped.push({ id: variant.id, label: variant.label, note: `skipped: this build refuses ${variant.options}` });
        continue;
      }
      results.push(await eventCost(conn, variant, s));
    }
    return { results, skipped };
  } finally {
    conn.close();
  }
}
