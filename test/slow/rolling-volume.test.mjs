// Rolling by size at volume: tens of MB through several rolls, and a real `tail -F` following the log across
// rolls (as a log shipper meets them, about 2 s of writing at a pace tail can follow).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { LogWriter } from '../../dist/logger/writer.js';
import { logFiles, rolledNameRe, tempDir, waitFor } from '../support/harness.mjs';

const HEADER = 'timestamp event client server rtt\n';
const MiB = 1024 * 1024;
const ROLLED_RE = rolledNameRe('web1');

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

test('tens of MB through several size rolls: every line once, in order, whole, under its header; mode 0640', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'tcpinfo.log');
  const rollingSize = 3 * MiB;
  const w = writer(file, { rollingEnabled: 2, rollingSize });
  t.after(() => w.close());
  const total = 400_000; // about 31 MB
  let bytes = 0;
  for (let i = 0; i < total; i++) {
    const text = line(i);
    bytes += text.length;
    assert.ok(w.write(text));
    if (i % 50_000 === 49_999) await w.flush();
  }
  await w.close();
  assert.ok(bytes > 30 * MiB);
  assert.deepEqual(w.stats, { queued: total, written: total, dropped: 0, lost: 0, writeErrors: 0, rolls: w.stats.rolls });
  const files = logFiles(dir, ROLLED_RE);
  assert.equal(files.length, w.stats.rolls + 1);
  assert.ok(files.length >= 10, `${files.length} files`);
  let next = 0;
  for (const [index, f] of files.entries()) {
    const text = fs.readFileSync(f.file, 'latin1');
    assert.ok(text.startsWith(HEADER), `${f.name} starts with the header`);
    assert.ok(text.endsWith('\n'), `${f.name} ends with a whole line`);
    assert.equal(fs.statSync(f.file).mode & 0o777, 0o640 & ~process.umask(), `${f.name} mode`);
    if (f.name !== 'tcpinfo.log') {
      assert.ok(text.length > rollingSize && text.length < rollingSize + 128, `${f.name}: ${text.length} bytes, rolled at the line past the size`);
    }
    // one file's end is the next one's start
    if (index > 0 && f.start !== undefined) assert.equal(f.start, files[index - 1].end);
    let at = HEADER.length;
    while (at < text.length) {
      const expected = line(next);
      assert.equal(text.slice(at, at + expected.length), expected, `${f.name}: line ${next}`);
      at += expected.length;
      next++;
    }
  }
  assert.equal(next, total, 'every line, once');
});

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
