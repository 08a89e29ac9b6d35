// A real `tail -F` follows the log across size rolls (the writer's rolls as a log shipper meets them):
// about 2 s of writing at a pace tail can follow, so the slow tier.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { LogWriter } from '../../dist/logger/writer.js';
import { tempDir, waitFor } from '../support/harness.mjs';

const HEADER = 'timestamp event client server rtt\n';
const MiB = 1024 * 1024;

/** A record line that says which line it is and has a length that varies, so a torn or moved line shows. */
function line(i) {
  return `20261123.14h05m09s ssn_start 10.0.${(i >> 8) & 255}.${i & 255} 127.0.0.1 ${i} ${'x'.repeat(20 + (i % 37))}\n`;
}

function writer(file, options) {
  return new LogWriter({
    file, header: HEADER, queueLines: 100_000, rollingEnabled: 1, rollingOffsetHr: 0, rollingIntervalSec: 86_400,
    rollingSize: 1024 * MiB, hostname: 'web1', ...options,
  });
}

test('a real tail -F, started before the first line, sees every line across the rolls', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'tcpinfo.log');
  const w = writer(file, { rollingEnabled: 2, rollingSize: 16 * 1024 });
  t.after(() => w.close());
  const tail = spawn('tail', ['-F', '-n', '+1', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => tail.kill());
  let out = '';
  tail.stdout.setEncoding('latin1').on('data', (chunk) => (out += chunk));
  await waitFor(() => out.includes(HEADER), 5000, 'tail to print the header');

  // About 64 KB, four or five rolls, at 500 lines a second: each file lives some 350 ms. tail follows a name,
  // so a file that came and went quicker than tail looks again would be missed by any writer.
  const total = 1000;
  for (let i = 0; i < total; i++) {
    w.write(line(i));
    if (i % 10 === 9) await new Promise((r) => setTimeout(r, 20));
  }
  await w.flush();
  const last = line(total - 1);
  await waitFor(() => out.endsWith(last), 10_000, 'tail to print the last line');
  const lines = out.split('\n').slice(0, -1);
  const records = lines.filter((l) => !l.startsWith('timestamp '));
  assert.deepEqual(records, Array.from({ length: total }, (_, i) => line(i).slice(0, -1)));
  assert.ok(w.stats.rolls >= 3, `${w.stats.rolls} rolls`);
  assert.equal(lines.length - records.length, w.stats.rolls + 1, 'a header from every file');
});
