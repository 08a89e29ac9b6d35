// The log file can never hang or stop the app: a FIFO (no reader, a reader that stalls, one put in place
// mid-run), a full disk at start-up through attach() and the preload. Each case runs in a child process with a
// time limit, since what it guards against is a process that never returns or never exits.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { attach } from '../../dist/index.js';
import { SELF_ENDING_APP, helloHandler, keepAliveRequests, listen, tempDir, waitFor } from '../support/harness.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const WRITER_URL = JSON.stringify(new URL('../../dist/logger/writer.js', import.meta.url).href);
const REGISTER = path.join(ROOT, 'dist', 'register.js');
const HEADER = 'timestamp event client server rtt\n';
const CHILD_TIMEOUT_MS = 10_000;
const LINE_RE = /^20261123\.14h05m09s txn_close 192\.0\.2\.\d+ 127\.0\.0\.1 \d+$/;

/** Writer construction in a child script: `file`, options as the other tests use, retries every `retryMs`. */
function newWriter(file, retryMs) {
  return `new LogWriter({ file: ${JSON.stringify(file)}, header: ${JSON.stringify(HEADER)}, queueLines: 100000,
    rollingEnabled: 1, rollingOffsetHr: 0, rollingIntervalSec: 86400, rollingSize: 1 << 30, retryMs: ${retryMs} })`;
}

const LINE_FN = "const line = (i) => '20261123.14h05m09s txn_close 192.0.2.' + (i % 256) + ' 127.0.0.1 ' + i + '\\n';";

/** Run an ES module script with node; resolves (never rejects) with how it ended and how long it took. */
function runNode(t, script, { cwd, args = [], env } = {}) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [...args, '--input-type=module', '-e', script], {
      cwd, env: { ...process.env, ...env }, timeout: CHILD_TIMEOUT_MS, killSignal: 'SIGKILL',
    }, (err, stdout, stderr) => {
      resolve({ code: child.exitCode, signal: child.signalCode, stdout, stderr, ms: Date.now() - started, timedOut: err?.killed === true });
    });
    t.after(() => child.kill('SIGKILL'));
  });
}

function lastJson(stdout) {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines.at(-1));
}

function mkfifo(dir, name = 'tcpinfo.fifo') {
  const fifo = path.join(dir, name);
  execFileSync('mkfifo', [fifo]);
  return fifo;
}

test('a FIFO with no reader: the writer starts at once, reports it, and a reader that comes later gets the header and every line', async (t) => {
  const dir = tempDir(t);
  const fifo = mkfifo(dir);
  const out = path.join(dir, 'read.txt');
  const run = await runNode(t, `
    import { spawn } from 'node:child_process';
    import fs from 'node:fs';
    import { LogWriter } from ${WRITER_URL};
    ${LINE_FN}
    const started = Date.now();
    const w = ${newWriter(fifo, 50)};
    const startMs = Date.now() - started;
    const warnings = [];
    w.on('warning', (e) => warnings.push(e.code + ':' + e.cause?.code));
    for (let i = 0; i < 100; i++) w.write(line(i));
    await new Promise((r) => setTimeout(r, 200));
    const before = w.stats.written;
    const reader = spawn('cat', [${JSON.stringify(fifo)}], { stdio: ['ignore', fs.openSync(${JSON.stringify(out)}, 'w'), 'inherit'] });
    for (let i = 0; i < 300 && w.stats.written < 100; i++) await new Promise((r) => setTimeout(r, 10));
    await w.close();
    await new Promise((r) => reader.on('exit', r));
    console.log(JSON.stringify({ startMs, before, warnings, stats: w.stats }));
  `);
  assert.equal(run.timedOut, false, `the child hung (killed after ${CHILD_TIMEOUT_MS} ms)`);
  assert.equal(run.code, 0, run.stderr);
  const { startMs, before, warnings, stats } = lastJson(run.stdout);
  assert.ok(startMs < 200, `the writer took ${startMs} ms to start`);
  assert.equal(before, 0, 'nothing written with no reader');
  assert.deepEqual(warnings, ['TCPINFO_LOG_OPEN_FAILED:ENXIO', 'TCPINFO_WRITE_RECOVERED:ENXIO'], 'the fault, and its end once a reader came');
  assert.equal(stats.written, 100);
  assert.equal(stats.lost, 0);
  const text = fs.readFileSync(out, 'utf8');
  assert.equal(text, HEADER + Array.from({ length: 100 }, (_, i) => `20261123.14h05m09s txn_close 192.0.2.${i % 256} 127.0.0.1 ${i}\n`).join(''));
});

for (const how of ['from the start', 'put in place of the file mid-run']) {
  test(`a FIFO whose reader never reads (${how}): close() resolves within ~1 s, counts what it could not write, and the process exits`, async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'tcpinfo.log');
    const run = await runNode(t, `
      import { execFileSync } from 'node:child_process';
      import fs from 'node:fs';
      import { LogWriter } from ${WRITER_URL};
      ${LINE_FN}
      const file = ${JSON.stringify(file)};
      const midRun = ${how !== 'from the start'};
      let reader = -1;
      const plantFifo = () => {
        execFileSync('mkfifo', [file]);
        // A reader that never reads: the pipe fills up (64 KiB), then every write would wait.
        reader = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      };
      if (!midRun) plantFifo();
      const w = ${newWriter(file, 200)};
      const warnings = [];
      w.on('warning', (e) => warnings.push(e.code + ':' + e.cause?.code));
      let offset = 0;
      if (midRun) {
        for (let i = 0; i < 10; i++) w.write(line(i));
        await w.flush();
        offset = w.stats.written;
        fs.renameSync(file, file + '.before');
        plantFifo();
      }
      for (let i = offset; i < 20000; i++) w.write(line(i));
      await new Promise((r) => setTimeout(r, 400));
      const started = Date.now();
      await w.close();
      const closeMs = Date.now() - started;
      // What the pipe holds: read without waiting.
      const chunks = [];
      const buf = Buffer.alloc(65536);
      for (let i = 0; i < 100; i++) {
        let n = 0;
        try { n = fs.readSync(reader, buf); } catch { break; }
        if (n === 0) break;
        chunks.push(Buffer.from(buf.subarray(0, n)));
      }
      console.log(JSON.stringify({ closeMs, offset, warnings, stats: w.stats, piped: Buffer.concat(chunks).toString() }));
    `);
    assert.equal(run.timedOut, false, `the child hung (killed after ${CHILD_TIMEOUT_MS} ms)`);
    assert.equal(run.code, 0, run.stderr);
    const { closeMs, offset, warnings, stats, piped } = lastJson(run.stdout);
    t.diagnostic(`close() took ${closeMs} ms; the child ran ${run.ms} ms; ${stats.written} lines written, ${stats.lost} lost`);
    assert.ok(closeMs < 1500, `close() took ${closeMs} ms`);
    assert.ok(stats.lost > 0, 'what could not be written is counted');
    assert.equal(stats.written + stats.lost, 20000);
    assert.ok(warnings.includes('TCPINFO_WRITE_FAILED:EAGAIN'), `warnings: ${warnings}`);
    // The pipe holds the header and whole lines only (each write at most PIPE_BUF: all or nothing).
    const lines = piped.split('\n');
    assert.equal(lines.pop(), '', 'the pipe ends with a whole line');
    assert.equal(lines.shift(), HEADER.trim());
    assert.deepEqual(lines.filter((l) => !LINE_RE.test(l)), [], 'no torn line');
    assert.equal(lines.length, stats.written - offset, 'every line counted written is in the pipe');
  });
}

test('a FIFO log with no reader, or a reader that stalls: the process exits promptly, by itself or by process.exit()', async (t) => {
  const dir = tempDir(t);
  const fifo = mkfifo(dir);
  const noReader = await runNode(t, `
    import { LogWriter } from ${WRITER_URL};
    ${LINE_FN}
    const w = ${newWriter(fifo, 1000)};
    for (let i = 0; i < 1000; i++) w.write(line(i));
    setTimeout(() => console.log('done'), 100);
  `);
  assert.equal(noReader.timedOut, false, `the child hung (killed after ${CHILD_TIMEOUT_MS} ms)`);
  assert.equal(noReader.code, 0, noReader.stderr);
  assert.equal(noReader.stdout, 'done\n');
  assert.ok(noReader.ms < 3000, `the child took ${noReader.ms} ms`);

  const stalled = await runNode(t, `
    import fs from 'node:fs';
    import { LogWriter } from ${WRITER_URL};
    ${LINE_FN}
    fs.openSync(${JSON.stringify(fifo)}, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const w = ${newWriter(fifo, 1000)};
    for (let i = 0; i < 20000; i++) w.write(line(i));
    setTimeout(() => { console.log('exiting'); process.exit(0); }, 200);
  `);
  assert.equal(stalled.timedOut, false, `the child hung (killed after ${CHILD_TIMEOUT_MS} ms)`);
  assert.equal(stalled.code, 0, stalled.stderr);
  assert.equal(stalled.stdout, 'exiting\n');
  assert.ok(stalled.ms < 3000, `the child took ${stalled.ms} ms`);
});

/** A 64 KiB tmpfs on a fresh directory, filled to the last byte; null (test skipped) where none can be mounted. */
function fullDisk(t) {
  const dir = path.join(tempDir(t), 'logs');
  fs.mkdirSync(dir);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    t.skip(`a tmpfs cannot be mounted here (root only): ${String(err.stderr ?? err.message).split('\n')[0]}`);
    return null;
  }
  t.after(() => execFileSync('umount', ['-l', dir]));
  const filler = path.join(dir, 'filler');
  const fd = fs.openSync(filler, 'w');
  try {
    for (let i = 0; i < 1000; i++) fs.writeSync(fd, Buffer.alloc(4096));
  } catch (err) {
    if (err.code !== 'ENOSPC') throw err;
  } finally {
    fs.closeSync(fd);
  }
  return { dir, filler };
}

test('a full disk at start-up: attach() returns, requests are answered, and the log appears once there is space', async (t) => {
  const disk = fullDisk(t);
  if (disk === null) return;
  const file = path.join(disk.dir, 'tcpinfo.log');
  const server = http.createServer(helloHandler);
  const handle = attach(server, { hooks: 'txn_close', logFile: file });
  t.after(() => handle.close());
  const warnings = [];
  handle.on('warning', (err) => warnings.push(`${err.code}:${err.cause?.code}`));
  const port = await listen(t, server);
  const results = await keepAliveRequests(port, 20);
  assert.deepEqual(results.map((r) => r.status), Array(20).fill(200));
  await waitFor(() => handle.stats().logged.txn_close === 20, 1000, 'the lines queued');
  assert.equal(handle.stats().written, 0);
  assert.deepEqual(warnings, ['TCPINFO_WRITE_FAILED:ENOSPC']);
  fs.unlinkSync(disk.filler);
  // The writer tries again every second.
  await waitFor(() => handle.stats().written === 20, 3000, 'the lines, once space is back');
  const text = fs.readFileSync(file, 'utf8');
  assert.ok(text.startsWith(HEADER));
  assert.equal(text.split('\n').length, 1 + 20 + 1);
});

test('a full disk at start-up: the preload starts the app, which serves, and warns', async (t) => {
  const disk = fullDisk(t);
  if (disk === null) return;
  const run = await runNode(t, SELF_ENDING_APP, { args: ['--import', REGISTER], env: { TCPINFO_OPTIONS: `--log-file=${path.join(disk.dir, 'tcpinfo.log')}`, TCPINFO_QUIET: '1' } });
  assert.equal(run.timedOut, false, `the child hung (killed after ${CHILD_TIMEOUT_MS} ms)`);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'served\n');
  assert.match(run.stderr, /\[TCPINFO_WRITE_FAILED\] Warning: tcpinfo: writing .*tcpinfo\.log failed \(ENOSPC\)/);
});

test('close() giving up while a write step waits on its stat: the step stops there, no false fault is reported', async (t) => {
  const dir = tempDir(t);
  // The stat before each write takes 1.5 s: close() gives up (after ~1 s) while the pump waits on it.
  const run = await runNode(t, `
    import fs from 'node:fs';
    import { syncBuiltinESMExports } from 'node:module';
    const lstat = fs.lstat;
    fs.lstat = (...args) => setTimeout(() => lstat(...args), 1500);
    syncBuiltinESMExports();
    const { LogWriter } = await import(${WRITER_URL});
    const writer = new LogWriter({ file: ${JSON.stringify(path.join(dir, 'tcpinfo.log'))}, header: 'h\\n', queueLines: 100,
      rollingEnabled: 0, rollingOffsetHr: 0, rollingIntervalSec: 86400, rollingSize: 1e9 });
    const warnings = [];
    writer.on('warning', (w) => warnings.push(w.message));
    writer.write('a line\\n');
    await new Promise((r) => setTimeout(r, 50));
    await writer.close();
    await new Promise((r) => setTimeout(r, 1000));
    console.log(JSON.stringify({ stats: writer.stats, warnings }));
  `);
  assert.equal(run.code, 0, run.stderr);
  const { stats, warnings } = lastJson(run.stdout);
  assert.deepEqual(warnings, []);
  assert.equal(stats.writeErrors, 0);
  assert.equal(stats.lost, 1);
});
