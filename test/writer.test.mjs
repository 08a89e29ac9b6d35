// The log writer on its own: the bounded queue, close and exit, start-up, and the live name followed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { LogWriter } from '../dist/logger/writer.js';
import { rolledNameRe, tempDir, waitFor } from './support/harness.mjs';

const HEADER = 'timestamp event client server rtt\n';
const WRITER_URL = new URL('../dist/logger/writer.js', import.meta.url).href;

function line(i) {
  return `20261123.14h05m09s txn_close 192.0.2.${i % 256} 127.0.0.1 ${i}\n`;
}

function writer(t, file, options) {
  const w = new LogWriter({
    file, header: HEADER, queueLines: 65_536, rollingEnabled: 0, rollingOffsetHr: 0, rollingIntervalSec: 86_400,
    rollingSize: 1 << 30, hostname: 'web1', ...options,
  });
  t.after(() => w.close());
  const warnings = [];
  w.on('warning', (err) => warnings.push(err));
  return { w, warnings };
}

function records(file) {
  return fs.readFileSync(file, 'utf8').split('\n').slice(0, -1).filter((l) => !l.startsWith('timestamp '));
}

test('a bounded queue: past queueLines lines are dropped and counted, reported once, and write() never waits', async (t) => {
  const file = path.join(tempDir(t), 'tcpinfo.log');
  const { w, warnings } = writer(t, file, { queueLines: 10_000 });
  // Nothing can reach the disk during a synchronous loop: the queue is all there is.
  const started = process.hrtime.bigint();
  let accepted = 0;
  for (let i = 0; i < 200_000; i++) if (w.write(line(i))) accepted++;
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  assert.equal(accepted, 10_000);
  assert.equal(w.stats.queued, 10_000);
  assert.equal(w.stats.dropped, 190_000);
  assert.ok(ms < 1000, `200000 writes took ${ms} ms`);
  await w.flush();
  assert.equal(w.stats.written, 10_000);
  assert.deepEqual(records(file), Array.from({ length: 10_000 }, (_, i) => line(i).slice(0, -1)));
  await new Promise((r) => setImmediate(r));
  // Drained: its end is reported too, with the lines it cost.
  assert.deepEqual(warnings.map((x) => x.code), ['TCPINFO_QUEUE_FULL', 'TCPINFO_WRITE_RECOVERED']);
  assert.match(warnings[1].message, /is written again, after \d+\.\d s held up \(the queue was full\); 190000 lines were lost meanwhile/);

  // Drained, it takes lines again, and a new overflow is a new report.
  for (let i = 0; i < 20_000; i++) w.write(line(i));
  await w.flush();
  await new Promise((r) => setImmediate(r));
  assert.equal(w.stats.written, 20_000);
  assert.equal(w.stats.dropped, 200_000);
  assert.deepEqual(warnings.map((x) => x.code).slice(2), ['TCPINFO_QUEUE_FULL', 'TCPINFO_WRITE_RECOVERED']);
  assert.match(warnings[3].message, /; 10000 lines were lost meanwhile/);
});

test('a queue bounded in bytes too: long lines stop at queueBytes, short ones at queueLines, whichever comes first', async (t) => {
  const MiB = 1024 * 1024;
  const file = path.join(tempDir(t), 'tcpinfo.log');
  const { w, warnings } = writer(t, file, { queueLines: 65_536, queueBytes: MiB });
  // 8 KB lines, as a --log-url path a client chose: 65,536 of them would hold 512 MiB.
  const long = (i) => `{"time":"${i}","event":"txn_close","path":"/${'a'.repeat(8192)}"}\n`;
  let accepted = 0;
  for (let i = 0; i < 65_536; i++) if (w.write(long(i))) accepted++;
  assert.equal(accepted, Math.floor(MiB / long(0).length));
  assert.equal(w.stats.dropped, 65_536 - accepted);
  await w.flush();
  await new Promise((r) => setImmediate(r));
  assert.equal(w.stats.written, accepted);
  assert.deepEqual(warnings.map((x) => x.code), ['TCPINFO_QUEUE_FULL', 'TCPINFO_WRITE_RECOVERED']);
  assert.match(warnings[0].message, /is full \(65536 lines or 1048576 bytes\)/);
  // Short lines: the line bound comes first.
  const { w: w2 } = writer(t, path.join(tempDir(t), 'short.log'), { queueLines: 1000, queueBytes: MiB });
  let short = 0;
  for (let i = 0; i < 5000; i++) if (w2.write(line(i))) short++;
  assert.equal(short, 1000);
});

test('a line reaches the file within ~100 ms on an idle writer', async (t) => {
  const file = path.join(tempDir(t), 'tcpinfo.log');
  const { w } = writer(t, file);
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 30));
    const started = Date.now();
    w.write(line(i));
    await waitFor(() => records(file).length === i + 1, 1000, `line ${i}`);
    assert.ok(Date.now() - started < 100, `line ${i} took ${Date.now() - started} ms`);
  }
});

test('close() writes out everything queued; lines after it are dropped', async (t) => {
  const file = path.join(tempDir(t), 'tcpinfo.log');
  const { w } = writer(t, file);
  for (let i = 0; i < 1000; i++) w.write(line(i));
  await w.close();
  assert.equal(records(file).length, 1000);
  assert.equal(w.write(line(1000)), false);
  assert.deepEqual(w.stats, { queued: 1000, written: 1000, dropped: 1, lost: 0, writeErrors: 0, rolls: 0 });
});

test('process exit writes what is queued, synchronously', (t) => {
  const file = path.join(tempDir(t), 'tcpinfo.log');
  const script = `
    import { LogWriter } from ${JSON.stringify(WRITER_URL)};
    const w = new LogWriter({ file: ${JSON.stringify(file)}, header: ${JSON.stringify(HEADER)}, queueLines: 100000,
      rollingEnabled: 1, rollingOffsetHr: 0, rollingIntervalSec: 86400, rollingSize: 1 << 30 });
    for (let i = 0; i < 5000; i++) w.write('line ' + i + '\\n');
    process.exit(0);
  `;
  execFileSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000 });
  const lines = records(file);
  assert.equal(lines.length, 5000);
  assert.equal(lines[4999], 'line 4999');
});

test('start-up: a new file gets the header and mode 0640, an existing one is appended to, a bad path throws', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'tcpinfo.log');
  fs.writeFileSync(file, 'timestamp event client server rtt\nold line\n');
  writer(t, file);
  assert.equal(fs.readFileSync(file, 'utf8'), 'timestamp event client server rtt\nold line\n');
  const fresh = path.join(dir, 'fresh.log');
  writer(t, fresh);
  assert.equal(fs.readFileSync(fresh, 'utf8'), HEADER);
  assert.equal(fs.statSync(fresh).mode & 0o777, 0o640 & ~process.umask());
  assert.throws(() => writer(t, path.join(dir, 'missing', 'x.log')), /--log-file=.*missing.*cannot open for appending \(ENOENT\)/);
});

test('a file already past the size at start-up rolls before the first new line goes in', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'tcpinfo.log');
  fs.writeFileSync(file, HEADER + 'x'.repeat(5000) + '\n');
  const { w } = writer(t, file, { rollingEnabled: 2, rollingSize: 4096 });
  w.write(line(0));
  await w.flush();
  const rolled = fs.readdirSync(dir).filter((n) => n.endsWith('.old'));
  assert.equal(rolled.length, 1);
  assert.equal(rolledNameRe('web1').exec(rolled[0])?.[3], undefined, `${rolled[0]}: a rolled name with no .<n>`);
  assert.match(rolled[0], rolledNameRe('web1'));
  assert.equal(fs.readFileSync(file, 'utf8'), HEADER + line(0));
});

test('the live file removed or renamed by another tool: the name is followed, a new file gets the header', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'tcpinfo.log');
  const { w, warnings } = writer(t, file);
  w.write(line(0));
  await w.flush();
  fs.renameSync(file, path.join(dir, 'by-logrotate.log'));
  w.write(line(1));
  await w.flush();
  fs.unlinkSync(file);
  w.write(line(2));
  await w.flush();
  assert.equal(fs.readFileSync(path.join(dir, 'by-logrotate.log'), 'utf8'), HEADER + line(0));
  assert.equal(fs.readFileSync(file, 'utf8'), HEADER + line(2));
  assert.equal(w.stats.written, 3);
  assert.equal(warnings.length, 0, 'following a name is not a fault');
});

test('a file that is not a regular file (/dev/null) is written and never rolled', async (t) => {
  const { w } = writer(t, '/dev/null', { rollingEnabled: 3, rollingSize: 10 });
  for (let i = 0; i < 100; i++) w.write(line(i));
  await w.flush();
  assert.equal(w.stats.written, 100);
  assert.equal(w.stats.rolls, 0);
});
