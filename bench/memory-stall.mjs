// Section 4, memory: peak RSS of a process whose log destination stalls, against the queue's bounds
// (--queue-lines and --queue-bytes: whichever a case reaches first). Each case runs in a fresh child
// (memory-stall-child.mjs) so its RSS is its own.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Child } from './ipc.mjs';

const CHILD = new URL('./memory-stall-child.mjs', import.meta.url).pathname;
const MiB = 1024 * 1024;

async function stall(c, s) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcpinfo-bench-stall-'));
  const fifo = path.join(dir, 'stalled.log');
  let child = null;
  try {
    const made = spawnSync('mkfifo', ['-m', '0640', fifo], { encoding: 'utf8', timeout: 5000 });
    if (made.status !== 0) throw new Error(`mkfifo failed: ${made.error?.message ?? made.stderr}`);
    const args = { fifo, queueLines: c.queueLines, queueBytes: c.queueBytes, urlBytes: c.urlBytes ?? 0, holdSeconds: s.holdSeconds, maxSeconds: s.maxSeconds };
    child = new Child(CHILD, [JSON.stringify(args)], { execArgv: ['--expose-gc'], name: 'stalled writer' });
    const r = await child.next('stalled', (s.maxSeconds + 20) * 1000);
    const linesBoundMiB = (c.queueLines * r.lineBytes) / MiB;
    const bytesBoundMiB = r.queueBytes / MiB;
    return {
      id: c.id,
      queueLines: c.queueLines,
      queueBytes: r.queueBytes,
      urlBytes: c.urlBytes ?? 0,
      lineBytes: r.lineBytes,
      // The queue holds whichever is less: queueLines lines, or queueBytes bytes of lines.
      bound: linesBoundMiB <= bytesBoundMiB ? 'lines' : 'bytes',
      boundMiB: Math.min(linesBoundMiB, bytesBoundMiB),
      baselineRssMiB: r.baselineRss / MiB,
      peakRssMiB: r.peakRss / MiB,
      growthMiB: (r.peakRss - r.baselineRss) / MiB,
      reachedBound: r.fillSeconds !== null,
      fillSeconds: r.fillSeconds,
      growthWhileHeldMiB: r.fillSeconds === null ? null : (r.peakRss - r.rssAtBound) / MiB,
      queuedAtBound: r.queuedAtBound,
      bytesPerQueuedLine: (r.peakRss - r.baselineRss) / Math.max(r.queuedAtBound, 1),
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

/** One row per case: its bounds, which one the queue reached, and the memory it took. */
export async function measureMemory(s) {
  const results = [];
  for (const c of s.cases) results.push(await stall(c, s));
  return { results };
}
