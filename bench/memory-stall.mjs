// Section 4, memory: peak RSS of a process whose log destination stalls, against the queue bound
// (--queue-lines). Each bound runs in a fresh child (memory-stall-child.mjs) so its RSS is its own.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Child } from './ipc.mjs';
import { level2Lines } from './sample-lines.mjs';

const CHILD = new URL('./memory-stall-child.mjs', import.meta.url).pathname;
const MiB = 1024 * 1024;

async function stall(queueLines, s, lineBytes) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcpinfo-bench-stall-'));
  const fifo = path.join(dir, 'stalled.log');
  let child = null;
  try {
    const made = spawnSync('mkfifo', ['-m', '0640', fifo], { encoding: 'utf8', timeout: 5000 });
    if (made.status !== 0) throw new Error(`mkfifo failed: ${made.error?.message ?? made.stderr}`);
    child = new Child(CHILD, [JSON.stringify({ fifo, queueLines, holdSeconds: s.holdSeconds, maxSeconds: s.maxSeconds })], { execArgv: ['--expose-gc'], name: 'stalled writer' });
    const r = await child.next('stalled', (s.maxSeconds + 20) * 1000);
    return {
      queueLines,
      boundMiB: (queueLines * lineBytes) / MiB,
      baselineRssMiB: r.baselineRss / MiB,
      peakRssMiB: r.peakRss / MiB,
      growthMiB: (r.peakRss - r.baselineRss) / MiB,
      reachedBound: r.fillSeconds !== null,
      fillSeconds: r.fillSeconds,
      growthWhileHeldMiB: r.fillSeconds === null ? null : (r.peakRss - r.rssAtBound) / MiB,
      bytesPerQueuedLine: (r.peakRss - r.baselineRss) / Math.min(queueLines, r.logged),
      emitted: r.emitted,
      logged: r.logged,
      dropped: r.dropped,
      written: r.written,
      holdSeconds: s.holdSeconds,
    };
  } finally {
    if (child !== null) {
      child.kill();
      await child.exitedPromise;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The bound in bytes is --queue-lines times the length of a level-2 line of a loopback connection. */
export async function measureMemory(s) {
  const lines = await level2Lines(64);
  const lineBytes = lines.reduce((n, l) => n + l.length, 0) / lines.length;
  const results = [];
  for (const queueLines of s.queueLines) results.push(await stall(queueLines, s, lineBytes));
  return { lineBytes, results };
}
