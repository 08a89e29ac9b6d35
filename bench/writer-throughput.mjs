// Section 3, writer: level-2 lines per second the plugin's writer sustains into a file, without rolling
// and rolling by size. The writer is taken the way attach() takes it (writer-registry, from parsed
// options); a producer keeps it fed up to, never past, its queue bound, so no line is dropped and the
// figure is lines on disk per second of wall time, flush and close included.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { parseOptions } from '../dist/index.js';
import { acquireWriter, releaseWriter } from '../dist/logger/writer-registry.js';
import { LEVEL2_HEADER, level2Lines } from './sample-lines.mjs';

const VARIANTS = [
  { id: 'plain', label: 'no rolling', options: '--rolling-enabled=0' },
  { id: 'size', label: 'size rolling at 10 MiB', options: '--rolling-enabled=2 --rolling-size=10M' },
];

async function sustain(lines, variant, s) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcpinfo-bench-writer-'));
  try {
    const options = parseOptions(`${variant.options} --log-level=2 --log-dir=${dir} --log-file=writer.log`);
    const writer = acquireWriter(options, LEVEL2_HEADER);
    const bound = options.queueLines;
    let accepted = 0;
    let bytes = 0;
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    const deadline = start + s.seconds * 1000;
    for (let tick = 0; tick < 10_000_000 && performance.now() < deadline; tick++) {
      const room = Math.min(s.chunkLines, bound - (accepted - writer.stats.written - writer.stats.lost));
      for (let i = 0; i < room; i++) {
        const line = lines[accepted & (lines.length - 1)];
        if (!writer.write(line)) break;
        accepted++;
        bytes += line.length;
      }
      await turn();
    }
    await releaseWriter(writer);
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const written = writer.stats.written;
    return {
      variant: variant.id,
      label: variant.label,
      linesPerSecond: written / seconds,
      megabytesPerSecond: bytes / seconds / 1e6,
      cpuNsPerLine: ((cpu.user + cpu.system) * 1000) / written,
      written,
      dropped: writer.stats.dropped,
      lost: writer.stats.lost,
      files: fs.readdirSync(dir).length,
      seconds,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function measureWriter(s) {
  const lines = await level2Lines(4096); // a power of two: the producer cycles through them with a mask
  const meanLineBytes = lines.reduce((n, l) => n + l.length, 0) / lines.length;
  const results = [];
  for (const variant of VARIANTS) results.push(await sustain(lines, variant, s));
  return { meanLineBytes, results };
}
