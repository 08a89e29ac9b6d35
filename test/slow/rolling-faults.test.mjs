// Faults while a real server answers real requests: the log directory gone, the disk full, a rename refused.
// Every request is answered; the fault is reported once; lines are counted; logging resumes by itself.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { LEVEL1_HEADER, escapeRegExp, keepAliveRequests, rolledNameRe, serve, tempDir, waitFor } from '../support/harness.mjs';

const MiB = 1024 * 1024;
const RECORD_RE = /^\d{8}\.\d{2}h\d{2}m\d{2}s txn_close 127\.0\.0\.1 127\.0\.0\.1 \d+$/;

/** A server logging txn_close to `options.logFile`, with the warnings its handle emits. */
async function serveWarning(t, options) {
  const { handle, port } = await serve(t, { hooks: 'txn_close', ...options });
  const warnings = [];
  handle.on('warning', (err) => warnings.push(err));
  return { handle, port, warnings };
}

/** `process.emitWarning` calls with one of the writer's fault codes. */
function processWarnings(t) {
  const seen = [];
  const onWarning = (warning) => {
    if (/^TCPINFO_(LOG_OPEN|WRITE|ROLL)_FAILED$|^TCPINFO_QUEUE_FULL$|^TCPINFO_WRITE_RECOVERED$/.test(warning.code)) seen.push(warning.code);
  };
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  return seen;
}

/** `n` requests over four keep-alive connections; every one must be answered 200. */
async function traffic(port, n) {
  const per = Math.ceil(n / 4);
  const results = (await Promise.all([0, 1, 2, 3].map((c) => keepAliveRequests(port, Math.max(0, Math.min(per, n - c * per)))))).flat();
  assert.equal(results.length, n);
  assert.deepEqual(results.filter((r) => r.status !== 200), [], 'every request answered 200');
}

function logLines(file) {
  return fs.readFileSync(file, 'utf8').split('\n');
}

/** The header once, at the top; every other line a whole record. Returns the records. */
function checkWhole(file) {
  const lines = logLines(file);
  assert.equal(lines.pop(), '', `${file} ends with a whole line`);
  assert.equal(lines[0], LEVEL1_HEADER);
  const records = lines.slice(1);
  assert.deepEqual(records.filter((l) => !RECORD_RE.test(l)), [], 'no torn or stray line');
  return records;
}

function firstLine(text) {
  return String(text ?? '').split('\n')[0];
}

for (const how of ['removed', 'replaced by a file']) {
  test(`the log directory ${how} while serving: lines wait (up to the queue), are dropped past it, and go to a new file once it is back`, async (t) => {
    const dir = path.join(tempDir(t), 'logs');
    fs.mkdirSync(dir);
    const file = path.join(dir, 'tcpinfo.log');
    const reported = processWarnings(t);
    const { handle, port, warnings } = await serveWarning(t, { logFile: file, queueLines: 1000 });

    await traffic(port, 100);
    await waitFor(() => handle.stats().written === 100, 2000, 'the first 100 lines written');

    fs.rmSync(dir, { recursive: true });
    if (how === 'replaced by a file') fs.writeFileSync(dir, 'a file where the log directory was\n');
    await traffic(port, 1500);
    await waitFor(() => warnings.length > 0, 3000, 'the warning');
    let s = handle.stats();
    assert.equal(s.written, 100, 'nothing written to a file no one can reach');
    assert.equal(s.logged.txn_close, 1100, 'the queue holds 1000 lines');
    assert.equal(s.dropped, 500, 'the rest dropped, counted');

    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir);
    await waitFor(() => handle.stats().written === 1100, 3000, 'the waiting lines written once the directory is back');
    await traffic(port, 100);
    await waitFor(() => handle.stats().written === 1200, 2000, 'new lines written');

    s = handle.stats();
    assert.deepEqual([s.lost, s.dropped, s.writeErrors], [0, 500, 1]);
    assert.equal(checkWhole(file).length, 1100, 'the new file: the header, the 1000 lines that waited, 100 more');
    assert.equal(fs.statSync(file).mode & 0o777, 0o640 & ~process.umask());
    const codes = ['TCPINFO_LOG_OPEN_FAILED', 'TCPINFO_QUEUE_FULL', 'TCPINFO_WRITE_RECOVERED'];
    assert.deepEqual(warnings.map((w) => w.code), codes, 'each reported once, and the end of it');
    assert.match(warnings[0].message, new RegExp(escapeRegExp(file)));
    assert.match(warnings[2].message, /is written again, after \d+\.\d s held up \((ENOENT|ENOTDIR)\); 500 lines were lost meanwhile$/);
    assert.deepEqual(reported, codes, 'and once each with process.emitWarning');
  });
}

test('the disk full (ENOSPC) while serving: no line lost, torn or doubled; logging resumes when space is back', async (t) => {
  const dir = path.join(tempDir(t), 'logs');
  fs.mkdirSync(dir);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    t.skip(`a 64 KiB tmpfs to fill cannot be mounted here (root only): ${firstLine(err.stderr) || err.message}`);
    return;
  }
  let handle;
  try {
    const filler = path.join(dir, 'filler');
    fs.writeFileSync(filler, Buffer.alloc(40 * 1024));
    const file = path.join(dir, 'tcpinfo.log');
    const reported = processWarnings(t);
    const served = await serveWarning(t, { logFile: file });
    handle = served.handle;
    const { port, warnings } = served;

    // About 24 KiB are left: some 400 lines. Requests until a write fails, bounded.
    for (let round = 0; round < 40 && warnings.length === 0; round++) {
      await traffic(port, 50);
      await new Promise((r) => setTimeout(r, 30));
    }
    assert.deepEqual(warnings.map((w) => w.code), ['TCPINFO_WRITE_FAILED']);
    assert.equal(warnings[0].cause?.code, 'ENOSPC');
    await traffic(port, 200);
    const full = handle.stats();
    // The disk fills at a page boundary, most often inside a line: its rest is written once space is back.
    t.diagnostic(`while full, the file ends ${fs.readFileSync(file, 'utf8').endsWith('\n') ? 'after a whole line' : 'inside a line'}`);
    assert.ok(full.written < full.logged.txn_close, 'lines wait while the disk is full');

    fs.unlinkSync(filler);
    await waitFor(() => handle.stats().written === handle.stats().logged.txn_close, 3000, 'the waiting lines written once space is back');
    await traffic(port, 50);
    await waitFor(() => handle.stats().written === handle.stats().logged.txn_close, 2000, 'new lines written');

    const s = handle.stats();
    assert.deepEqual([s.lost, s.dropped, s.writeErrors], [0, 0, 1]);
    assert.equal(checkWhole(file).length, s.written, 'every line in the file once, whole');
    assert.equal(s.written, s.events.txn_close);
    assert.deepEqual(reported, ['TCPINFO_WRITE_FAILED', 'TCPINFO_WRITE_RECOVERED']);
    assert.match(warnings[1].message, /is written again, after \d+\.\d s held up \(ENOSPC\); no line was lost$/);
  } finally {
    await handle?.close();
    execFileSync('umount', [dir]);
  }
});

test('a rename that fails while serving: lines keep going to the live file, and the roll happens once it can', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'tcpinfo.log');
  // A live file already past 10 MiB (the smallest --rolling-size): the first new line makes it roll.
  const filler = '20000101.00h00m00s txn_close 127.0.0.1 127.0.0.1 1\n';
  const fillerLines = Math.ceil((10 * MiB) / filler.length) + 1;
  fs.writeFileSync(file, LEVEL1_HEADER + '\n' + filler.repeat(fillerLines), { mode: 0o640 });
  const reported = processWarnings(t);
  const { handle, port, warnings } = await serveWarning(t, { logFile: file, rollingEnabled: 2, rollingSize: 10 });
  // Root ignores permissions: a file with a bind mount on it cannot be renamed (EBUSY). Others: a read-only directory.
  let unblock;
  if (process.getuid() === 0) {
    try {
      execFileSync('mount', ['--bind', file, file], { stdio: 'pipe' });
    } catch (err) {
      t.skip(`a bind mount to refuse the rename cannot be made here: ${firstLine(err.stderr) || err.message}`);
      return;
    }
    unblock = () => execFileSync('umount', [file]);
  } else {
    fs.chmodSync(dir, 0o555);
    unblock = () => fs.chmodSync(dir, 0o755);
  }
  let blocked = true;
  try {
    await traffic(port, 100);
    await waitFor(() => warnings.length > 0 && handle.stats().written === 100, 3000, 'the warning, and 100 lines written');
    assert.deepEqual(warnings.map((w) => w.code), ['TCPINFO_ROLL_FAILED']);
    assert.ok(['EBUSY', 'EACCES'].includes(warnings[0].cause?.code), warnings[0].message);
    assert.deepEqual(fs.readdirSync(dir), ['tcpinfo.log']);
    await traffic(port, 100);

    unblock();
    blocked = false;
    const rolledName = () => fs.readdirSync(dir).find((n) => n.endsWith('.old'));
    await waitFor(() => rolledName() !== undefined && handle.stats().written === 200, 4000, 'the roll, once the rename works');
    await traffic(port, 50);
    await waitFor(() => handle.stats().written === 250, 2000, 'new lines written');

    const name = rolledName();
    assert.match(name, rolledNameRe());
    const rolled = checkWhole(path.join(dir, name));
    const live = checkWhole(file);
    assert.ok(live.length >= 50, 'the new live file has the lines since the roll');
    assert.equal(rolled.length - fillerLines + live.length, 250, 'every new line in one of the two files, once');
    const s = handle.stats();
    assert.deepEqual([s.lost, s.dropped, s.writeErrors], [0, 0, 1]);
    assert.deepEqual(reported, ['TCPINFO_ROLL_FAILED']);
  } finally {
    if (blocked) unblock();
  }
});
