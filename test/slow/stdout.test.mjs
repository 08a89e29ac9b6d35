// --log-file=stdout and stderr (and /dev/stdout, /proc/self/fd/1, ...): the log on the process's own output,
// as containers want it. Real child processes, their stdout a pipe the test reads (slowly, to make it
// fill), a file (`> file`), or gone (EPIPE); every line checked whole.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../support/harness.mjs';

const APP = fileURLToPath(new URL('../support/stdio-app.mjs', import.meta.url));
const PROCESS_TIMEOUT_MS = 15_000;
const HEADER = 'timestamp event client server rtt';
const LINE = /^\d{8}\.\d{2}h\d{2}m\d{2}s ssn_start 127\.0\.0\.1 127\.0\.0\.1 \d+$/;

/**
 * Runs the stand-in app; resolves with { code, signal, out: { stdout, stderr }, stats }. `stdout` is
 * 'pipe' (read by the test, after `pauseMs` without reading), or an fd (a file). `readBytes`: the reader
 * goes away after that many bytes of stdout.
 */
function runApp(t, cfg, { stdout = 'pipe', pauseMs = 0, readBytes = Infinity, cwd } = {}) {
  const dir = tempDir(t, 'tcpinfo-stdio-');
  const statsFile = path.join(dir, 'stats.json');
  const child = spawn(process.execPath, [APP, JSON.stringify({ ...cfg, statsFile })], {
    cwd: cwd ?? dir,
    stdio: ['ignore', stdout, 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stderr.setEncoding('utf8').on('data', (c) => (out.stderr += c));
  if (child.stdout !== null) {
    child.stdout.setEncoding('utf8');
    if (pauseMs > 0) {
      // Infinity: nobody reads until the app has exited.
      child.stdout.pause();
      if (pauseMs === Infinity) child.on('exit', () => child.stdout.resume());
      else setTimeout(() => child.stdout.resume(), pauseMs);
    }
    child.stdout.on('data', (c) => {
      out.stdout += c;
      if (out.stdout.length >= readBytes) child.stdout.destroy();
    });
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), PROCESS_TIMEOUT_MS);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stats = fs.existsSync(statsFile) ? JSON.parse(fs.readFileSync(statsFile, 'utf8')) : null;
      resolve({ code, signal, out, stats });
    });
  });
}

/** Every line of `text` classified; fails on any line that is not whole. */
function classify(text, appLineBytes) {
  assert.ok(text.endsWith('\n'), 'the output ends with a newline');
  const appLine = new RegExp(`^app \\d{8} x{${appLineBytes}}$`);
  const counts = { header: 0, log: 0, app: 0, firstIsHeader: false };
  const lines = text.slice(0, -1).split('\n');
  lines.forEach((line, i) => {
    if (line === HEADER) counts.header++;
    else if (LINE.test(line)) counts.log++;
    else if (appLine.test(line)) counts.app++;
    else assert.fail(`line ${i + 1} is not whole: ${JSON.stringify(line.slice(0, 120))}`);
  });
  counts.firstIsHeader = lines[0] === HEADER;
  return counts;
}

test('stdout a pipe the reader empties late: every line whole among the app\'s own console.log lines, header once, nothing dropped', async (t) => {
  // 20000 log lines and 400 app lines of 3000 bytes, while the reader holds off for 300 ms: the pipe fills.
  const cfg = { options: '--log-file=stdout', lines: 20_000, appEvery: 50, appLineBytes: 3000 };
  const { code, out, stats } = await runApp(t, cfg, { pauseMs: 300 });
  assert.equal(code, 0, out.stderr);
  const counts = classify(out.stdout, cfg.appLineBytes);
  assert.equal(counts.header, 1);
  assert.ok(counts.firstIsHeader);
  assert.equal(counts.app, 400);
  assert.equal(counts.log, 20_000);
  assert.equal(stats.stats.written, 20_000);
  assert.equal(stats.stats.dropped + stats.stats.lost + stats.stats.writeErrors, 0);
  assert.deepEqual(stats.warnings, []);
});

test('stdout a pipe: lines queued at process.exit() go out with it', async (t) => {
  const { code, out } = await runApp(t, { options: '--log-file=stdout --format=ats', lines: 500, appEvery: 0, appLineBytes: 0, end: 'exit' });
  assert.equal(code, 0, out.stderr);
  assert.deepEqual(classify(out.stdout, 0), { header: 1, log: 500, app: 0, firstIsHeader: true });
});

test('stdout a regular file (`> app.log`): written as a file, never rolled, rolling options named as ignored', async (t) => {
  const dir = tempDir(t, 'tcpinfo-stdio-file-');
  const file = path.join(dir, 'app.log');
  const fd = fs.openSync(file, 'w');
  let result;
  try {
    result = await runApp(t, { options: '--log-file=stdout --rolling-enabled=2 --rolling-size=10M', lines: 3000, appEvery: 10, appLineBytes: 200 }, { stdout: fd, cwd: dir });
  } finally {
    fs.closeSync(fd);
  }
  const { code, out, stats } = result;
  assert.equal(code, 0, out.stderr);
  assert.deepEqual(classify(fs.readFileSync(file, 'utf8'), 200), { header: 1, log: 3000, app: 300, firstIsHeader: true });
  assert.equal(stats.stats.rolls, 0);
  assert.deepEqual(fs.readdirSync(dir), ['app.log']);
  assert.match(out.stderr, /TCPINFO_NOTICE.*--log-file=stdout is never rolled: --rolling-enabled, --rolling-size ignored/);
});

test('/dev/stdout and /proc/self/fd/1 are stdout: no file is created anywhere (as root, /dev gets no stdout.log)', async (t) => {
  const before = fs.existsSync('/dev/stdout.log');
  for (const name of ['/dev/stdout', '/proc/self/fd/1', 'stdout']) {
    const cwd = tempDir(t, 'tcpinfo-stdio-cwd-');
    const { code, out } = await runApp(t, { options: `--log-file=${name}`, lines: 100, appEvery: 0, appLineBytes: 0 }, { cwd });
    assert.equal(code, 0, out.stderr);
    assert.deepEqual(classify(out.stdout, 0), { header: 1, log: 100, app: 0, firstIsHeader: true }, name);
    assert.deepEqual(fs.readdirSync(cwd).filter((f) => f !== 'stats.json'), [], `${name}: nothing in the working directory`);
  }
  if (!before) assert.equal(fs.existsSync('/dev/stdout.log'), false, '/dev/stdout.log was created');
  assert.equal(fs.existsSync('/proc/self/fd/1.log'), false);
});

test('--log-file=stderr: the lines on stderr, stdout left to the app', async (t) => {
  const { code, out, stats } = await runApp(t, { options: '--log-file=stderr', lines: 2000, appEvery: 100, appLineBytes: 10 });
  assert.equal(code, 0);
  assert.deepEqual(classify(out.stderr, 10), { header: 1, log: 2000, app: 0, firstIsHeader: true });
  assert.deepEqual(classify(out.stdout, 10), { header: 0, log: 0, app: 20, firstIsHeader: false });
  assert.equal(stats.stats.written, 2000);
});

test('the reader of stdout goes away (EPIPE): the app lives on, the fault is reported once, close() resolves', async (t) => {
  const { code, signal, out, stats } = await runApp(t, { options: '--log-file=stdout', lines: 20_000, appEvery: 0, appLineBytes: 0 }, { readBytes: 1 });
  assert.equal(signal, null);
  assert.equal(code, 0, out.stderr);
  assert.ok(stats !== null, 'the app ran to its end');
  assert.deepEqual(stats.warnings.filter((w) => w === 'TCPINFO_WRITE_FAILED'), ['TCPINFO_WRITE_FAILED']);
  assert.match(out.stderr, /writing stdout failed \(EPIPE\)/);
  assert.equal(stats.stats.writeErrors, 1);
  assert.equal(stats.stats.written + stats.stats.lost + stats.stats.dropped, 20_000);
  assert.ok(stats.stats.lost > 0);
  assert.ok(stats.closeMs < 3000, `close took ${stats.closeMs} ms`);
});

test('stdout a pipe nobody reads: lines past the queue dropped and counted, the stall reported once, the loop free, close() within ~1 s', async (t) => {
  const cfg = { options: '--log-file=stdout --queue-lines=1000', lines: 20_000, appEvery: 0, appLineBytes: 0, exitAfterClose: true };
  const { code, out, stats } = await runApp(t, cfg, { pauseMs: Infinity });
  assert.equal(code, 0, out.stderr);
  const s = stats.stats;
  assert.ok(s.dropped > 10_000, `dropped ${s.dropped}`);
  assert.equal(s.written + s.lost + s.dropped, 20_000);
  // The queue empties into the pipe's 64 KiB at first (each time a new report), then the stall is reported once.
  assert.ok(stats.warnings.includes('TCPINFO_QUEUE_FULL'));
  // The stall is reported once it has lasted a second, or when close() gives up on lines behind it; never twice.
  const reported = stats.warnings.filter((w) => w === 'TCPINFO_WRITE_FAILED');
  assert.ok(reported.length <= 1, JSON.stringify(stats));
  if (s.lost > 0) assert.equal(reported.length, 1, `lines lost behind the stall, and no report: ${JSON.stringify(stats)}`);
  if (reported.length > 0) assert.match(out.stderr, /writing stdout failed \(EAGAIN\)/);
  assert.ok(stats.timerLateMs < 200, `a 10 ms timer fired ${stats.timerLateMs} ms late`);
  assert.ok(stats.closeMs < 2000, `close took ${stats.closeMs} ms`);
  // What did reach the pipe is whole lines.
  const counts = classify(out.stdout, 0);
  assert.ok(counts.log > 0 && counts.log <= s.written, `${counts.log} lines read, ${s.written} written`);
});

test('two processes on one stdout pipe (`a & b` in a shell): every line whole, a header from each', async (t) => {
  const dir = tempDir(t, 'tcpinfo-stdio-two-');
  const cfg = (n) => JSON.stringify({ options: '--log-file=stdout', lines: 20_000, appEvery: 0, appLineBytes: 0, statsFile: path.join(dir, `stats${n}.json`) });
  const q = (s) => `'${s.replace(/'/g, "'\\''")}'`;
  const script = `${q(process.execPath)} ${q(APP)} ${q(cfg(1))} & ${q(process.execPath)} ${q(APP)} ${q(cfg(2))} & wait`;
  const child = spawn('sh', ['-c', script], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), PROCESS_TIMEOUT_MS);
  let text = '';
  child.stdout.setEncoding('utf8').on('data', (c) => (text += c));
  // Held off a moment, so both processes meet a full pipe.
  child.stdout.pause();
  setTimeout(() => child.stdout.resume(), 300);
  const [code] = await once(child, 'close');
  clearTimeout(timer);
  assert.equal(code, 0);
  assert.deepEqual(classify(text, 0), { header: 2, log: 40_000, app: 0, firstIsHeader: true });
  for (const n of [1, 2]) assert.equal(JSON.parse(fs.readFileSync(path.join(dir, `stats${n}.json`), 'utf8')).stats.written, 20_000);
});

test("docs/deploying.md's stdout snippet runs as written: the preload's JSON lines and the app's own on one stdout", async (t) => {
  const ROOT = fileURLToPath(new URL('../..', import.meta.url));
  const doc = fs.readFileSync(path.join(ROOT, 'docs', 'deploying.md'), 'utf8');
  const m = /<!-- snippet: stdout[^\n]*-->\n```sh\n([^\n]+)\n```/.exec(doc);
  assert.ok(m, 'the snippet is in docs/deploying.md');
  const dir = tempDir(t, 'tcpinfo-stdio-doc-');
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'tcpinfo'), 'dir');
  fs.writeFileSync(
    path.join(dir, 'server.js'),
    `const http = require('node:http');
const server = http.createServer((req, res) => { console.log(JSON.stringify({ app: 'served', url: req.url })); res.end('hello'); });
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ app: 'listening', port: server.address().port })));
`,
  );
  const child = spawn('sh', ['-c', `exec env ${m[1]}`], {
    cwd: dir,
    env: { PATH: `${path.dirname(process.execPath)}:${process.env.PATH}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), PROCESS_TIMEOUT_MS);
  let text = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c) => (stderr += c));
  child.stdout.setEncoding('utf8').on('data', (c) => (text += c));
  const deadline = Date.now() + PROCESS_TIMEOUT_MS;
  while (!text.includes('"listening"') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
  const listening = text.split('\n').find((l) => l.includes('"listening"'));
  assert.ok(listening, `the app did not start: ${stderr}`);
  const { port } = JSON.parse(listening);
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`http://127.0.0.1:${port}/${i}`, { headers: { connection: 'close' } });
    assert.equal(await res.text(), 'hello');
  }
  child.kill('SIGTERM');
  await once(child, 'close');
  clearTimeout(timer);
  assert.ok(fs.readdirSync(dir).every((f) => f === 'node_modules' || f === 'server.js'), 'no file written');
  const records = text.slice(0, -1).split('\n').map((line) => JSON.parse(line));
  assert.equal(records.filter((r) => r.app === 'served').length, 3, stderr);
  const events = records.filter((r) => r.event !== undefined).map((r) => r.event);
  assert.equal(events.filter((e) => e === 'ssn_start').length, 3, stderr);
  assert.equal(events.filter((e) => e === 'txn_close').length, 3, stderr);
});

/**
 * Runs the stand-in app with its stdout a FIFO (a real pipe, as `app | reader` makes) and sends it SIGTERM
 * (kill -TERM) once it has queued its lines. The test reads the pipe `chunkBytes` every `everyMs`, from
 * `startMs` after the signal (or from the start, with startMs < 0), and to the end once the app is gone.
 * Resolves with { signal, exitMs (signal to exit), stdout (all that reached the pipe), stderr }.
 */
async function signalWithStalledStdout(t, cfg, { startMs, chunkBytes, everyMs }) {
  const dir = tempDir(t, 'tcpinfo-stdio-signal-');
  const fifo = path.join(dir, 'stdout.fifo');
  execFileSync('mkfifo', [fifo]);
  const readFd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const writeFd = fs.openSync(fifo, fs.constants.O_WRONLY);
  const child = spawn(process.execPath, [APP, JSON.stringify({ ...cfg, end: 'signal' })], { cwd: dir, stdio: ['ignore', writeFd, 'pipe'] });
  fs.closeSync(writeFd);
  const killer = setTimeout(() => child.kill('SIGKILL'), PROCESS_TIMEOUT_MS);
  const chunks = [];
  const buf = Buffer.alloc(64 * 1024);
  /** One read(2) of at most `bytes`; false at the end (the app gone, the pipe empty). */
  const readSome = (bytes) => {
    try {
      const n = fs.readSync(readFd, buf, 0, bytes, null);
      if (n > 0) chunks.push(Buffer.from(buf.subarray(0, n)));
      return n > 0;
    } catch (err) {
      if (err.code === 'EAGAIN') return true;
      throw err;
    }
  };
  let exitMs = null;
  const exited = once(child, 'exit');
  const slowReader = async () => {
    const until = performance.now() + PROCESS_TIMEOUT_MS;
    while (exitMs === null && performance.now() < until) {
      readSome(chunkBytes);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  };
  let reading = startMs < 0 ? slowReader() : null;
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c) => (stderr += c));
  try {
    const deadline = Date.now() + PROCESS_TIMEOUT_MS;
    while (!stderr.includes('ready\n') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 10));
    assert.ok(stderr.includes('ready\n'), `the app did not get ready: ${stderr}`);
    const signalled = performance.now();
    child.kill('SIGTERM');
    exited.then(() => (exitMs = performance.now() - signalled));
    if (reading === null) {
      await new Promise((r) => setTimeout(r, startMs));
      reading = slowReader();
    }
    await reading;
    const [, signal] = await exited;
    while (readSome(buf.length));
    await new Promise((r) => (child.stderr.closed ? r() : child.stderr.once('close', r)));
    return { signal, exitMs, stdout: Buffer.concat(chunks).toString('utf8'), stderr };
  } finally {
    clearTimeout(killer);
    fs.closeSync(readFd);
  }
}

/** The count in each TCPINFO_LINES_LOST warning on `stderr`. */
function lostReports(stderr) {
  return [...stderr.matchAll(/\[TCPINFO_LINES_LOST\] Warning: tcpinfo: (\d+) lines /g)].map((m) => Number(m[1]));
}

test('SIGTERM while stdout is backed up, its reader back 400 ms later: the process waits, and every line arrives', async (t) => {
  // ~230 KB of lines: the 64 KiB pipe fills, the rest waits in the queue behind a writer backing off (EAGAIN).
  const cfg = { options: '--log-file=stdout', lines: 4500, appEvery: 0, appLineBytes: 0 };
  const { signal, exitMs, stdout, stderr } = await signalWithStalledStdout(t, cfg, { startMs: 400, chunkBytes: 64 * 1024, everyMs: 1 });
  t.diagnostic(`exited ${Math.round(exitMs)} ms after the signal`);
  assert.equal(signal, 'SIGTERM', stderr);
  assert.deepEqual(classify(stdout, 0), { header: 1, log: 4500, app: 0, firstIsHeader: true }, `exited ${exitMs} ms after the signal; ${stderr}`);
  assert.ok(exitMs >= 400, `exited ${exitMs} ms after the signal, before the reader was back`);
  assert.deepEqual(lostReports(stderr), [], stderr);
});

test('SIGTERM with stdout read as fast as it comes: the process ends at once, every line out', async (t) => {
  const cfg = { options: '--log-file=stdout', lines: 4500, appEvery: 0, appLineBytes: 0 };
  const { signal, exitMs, stdout, stderr } = await signalWithStalledStdout(t, cfg, { startMs: -1, chunkBytes: 64 * 1024, everyMs: 1 });
  t.diagnostic(`exited ${Math.round(exitMs)} ms after the signal`);
  assert.equal(signal, 'SIGTERM', stderr);
  assert.deepEqual(classify(stdout, 0), { header: 1, log: 4500, app: 0, firstIsHeader: true });
  assert.ok(exitMs < 300, `exited ${exitMs} ms after the signal`);
  assert.deepEqual(lostReports(stderr), [], stderr);
});

for (const [when, startMs] of [['from the signal on', 0], ['all along', -1]]) {
  test(`SIGTERM while stdout is read too slowly to take the queue in ~1 s (${when}): the process ends after ~1 s, and the lines lost are reported once, counted`, async (t) => {
    const cfg = { options: '--log-file=stdout', lines: 12_000, appEvery: 0, appLineBytes: 0 };
    // 4 KiB every 20 ms: about 200 KB a second, for ~620 KB of lines.
    const { signal, exitMs, stdout, stderr } = await signalWithStalledStdout(t, cfg, { startMs, chunkBytes: 4096, everyMs: 20 });
    const counts = classify(stdout, 0);
    t.diagnostic(`exited ${Math.round(exitMs)} ms after the signal; ${counts.log} of 12000 lines arrived; reported lost: ${lostReports(stderr)}`);
    assert.equal(signal, 'SIGTERM', stderr);
    assert.ok(exitMs >= 950 && exitMs < 3000, `exited ${exitMs} ms after the signal`);
    assert.equal(counts.header, 1);
    assert.ok(counts.log < 12_000, `${counts.log} lines arrived: the reader was not slow enough`);
    assert.deepEqual(lostReports(stderr), [12_000 - counts.log], stderr);
  });
}
