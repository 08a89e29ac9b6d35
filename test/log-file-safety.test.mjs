// What sits at the log path, or what the disk does, never harms the app or what it may write:
// a full disk at start-up, a symlink, a hard link or another user's file at the log path, the log directory
// swapped after start-up, a file ending in a torn line, the file's mode.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { attach, parseOptions, TcpinfoConfigError } from '../dist/index.js';
import { LogWriter } from '../dist/logger/writer.js';
import { helloHandler, ROOT, tempDir, waitFor } from './support/harness.mjs';

const HEADER = 'timestamp event client server rtt\n';
const REGISTER = path.join(ROOT, 'dist', 'register.js');

function line(i) {
  return `20261123.14h05m09s txn_close 192.0.2.${i % 256} 127.0.0.1 ${i}\n`;
}

function writer(t, file, options) {
  const w = new LogWriter({
    file, header: HEADER, queueLines: 65_536, rollingEnabled: 0, rollingOffsetHr: 0, rollingIntervalSec: 86_400,
    rollingSize: 1 << 30, hostname: 'web1', retryMs: 50, ...options,
  });
  t.after(() => w.close());
  const warnings = [];
  w.on('warning', (err) => warnings.push(`${err.code}:${err.cause?.code}`));
  return { w, warnings };
}

function firstLine(text) {
  return String(text ?? '').split('\n')[0];
}

/** A tmpfs of `options` mounted on a fresh directory, unmounted after the test; null (test skipped) where it cannot be. */
function tmpfs(t, options) {
  const dir = path.join(tempDir(t), 'logs');
  fs.mkdirSync(dir);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    t.skip(`a tmpfs cannot be mounted here (root only): ${firstLine(err.stderr) || err.message}`);
    return null;
  }
  t.after(() => execFileSync('umount', ['-l', dir]));
  return dir;
}

/** Fill the file system `dir` is on, to the last byte; returns the filler's path. */
function fill(dir) {
  const filler = path.join(dir, 'filler');
  const fd = fs.openSync(filler, 'w');
  try {
    for (let i = 0; i < 10_000; i++) fs.writeSync(fd, Buffer.alloc(4096));
    assert.fail('the file system never filled up');
  } catch (err) {
    if (err.code !== 'ENOSPC') throw err;
  } finally {
    fs.closeSync(fd);
  }
  return filler;
}

/** Take every inode left on the file system `dir` is on; returns the files made. */
function fillInodes(dir) {
  const made = [];
  try {
    for (let i = 0; i < 100; i++) {
      fs.writeFileSync(path.join(dir, `filler${i}`), '');
      made.push(path.join(dir, `filler${i}`));
    }
    assert.fail('the inodes never ran out');
  } catch (err) {
    if (err.code !== 'ENOSPC') throw err;
  }
  return made;
}

// ---------------------------------------------------------------------------------------------
// A full disk at start-up

for (const [what, mountOptions, existing, code] of [
  ['no space for the header of a new file', 'size=64k', false, 'TCPINFO_WRITE_FAILED:ENOSPC'],
  ['no space for the header of an empty file there', 'size=64k', true, 'TCPINFO_WRITE_FAILED:ENOSPC'],
  // The root directory takes one inode; on tmpfs the link of the new file to its name takes another.
  ['no inode left for a new file', 'size=1m,nr_inodes=3', false, 'TCPINFO_LOG_OPEN_FAILED:ENOSPC'],
]) {
  test(`a full disk at start-up (${what}) is a fault, not an error: the writer starts, lines wait, header and lines land once space is back`, async (t) => {
    const dir = tmpfs(t, mountOptions);
    if (dir === null) return;
    const file = path.join(dir, 'tcpinfo.log');
    if (existing) fs.writeFileSync(file, '');
    const fillers = mountOptions.includes('nr_inodes') ? fillInodes(dir) : [fill(dir)];
    const { w, warnings } = writer(t, file);
    for (let i = 0; i < 50; i++) w.write(line(i));
    await new Promise((r) => setTimeout(r, 150));
    assert.deepEqual(warnings, [code], 'reported once, with the code that fits');
    assert.equal(w.stats.written, 0);
    assert.equal(w.stats.writeErrors, 1);

    for (const filler of fillers) fs.unlinkSync(filler);
    await waitFor(() => w.stats.written === 50, 2000, 'the lines, once space is back');
    w.write(line(50));
    await w.flush();
    assert.equal(fs.readFileSync(file, 'utf8'), HEADER + Array.from({ length: 51 }, (_, i) => line(i)).join(''));
    assert.deepEqual([w.stats.lost, w.stats.dropped], [0, 0]);
    assert.deepEqual(warnings, [code, 'TCPINFO_WRITE_RECOVERED:ENOSPC'], 'and its end, once');
  });
}

test('a disk that fills up while running, then has space again: the fault, the full queue, then one report that it is over, with how long and the lines lost', async (t) => {
  const dir = tmpfs(t, 'size=64k');
  if (dir === null) return;
  const file = path.join(dir, 'tcpinfo.log');
  const { w, warnings } = writer(t, file, { queueLines: 10 });
  const reports = [];
  w.on('warning', (err) => reports.push(err));
  const processWarnings = [];
  const onProcessWarning = (warning) => processWarnings.push(warning.code);
  process.on('warning', onProcessWarning);
  t.after(() => process.off('warning', onProcessWarning));
  const long = (i) => `${line(i).slice(0, -1)} ${'x'.repeat(1000)}\n`;
  const accepted = [];
  if (w.write(long(0))) accepted.push(0);
  await w.flush();

  const filler = fill(dir);
  // Lines past the room left in the file's last page: the write is cut short, then fails (ENOSPC); the queue fills up.
  for (let i = 1; i <= 10; i++) if (w.write(long(i))) accepted.push(i);
  await waitFor(() => warnings.length === 1, 2000, 'the fault reported');
  for (let i = 11; i <= 40; i++) if (w.write(long(i))) accepted.push(i);
  await waitFor(() => warnings.length === 2, 2000, 'the full queue reported');
  assert.deepEqual(warnings, ['TCPINFO_WRITE_FAILED:ENOSPC', 'TCPINFO_QUEUE_FULL:undefined']);
  const heldUp = Date.now();
  await new Promise((r) => setTimeout(r, 300));
  const dropped = w.stats.dropped;
  assert.ok(dropped > 0 && dropped === 41 - accepted.length, `dropped ${dropped}, accepted ${accepted.length}`);

  fs.unlinkSync(filler);
  await waitFor(() => warnings.length === 3, 3000, 'the report that it is over');
  const heldMs = Date.now() - heldUp;
  assert.equal(warnings[2], 'TCPINFO_WRITE_RECOVERED:ENOSPC');
  const held = Number(/is written again, after (\d+\.\d) s held up \(ENOSPC\); (\d+) lines were lost meanwhile/.exec(reports[2].message)?.[1]);
  assert.ok(held >= 0.3 && held <= heldMs / 1000 + 1, `${reports[2].message} (held up for at least ${heldMs} ms)`);
  assert.match(reports[2].message, new RegExp(`; ${dropped} lines were lost meanwhile`));
  assert.deepEqual([w.stats.written, w.stats.dropped, w.stats.lost, w.stats.writeErrors], [accepted.length, dropped, 0, 1],
    'every accepted line written; the recovery is no fault');
  assert.equal(fs.readFileSync(file, 'utf8'), HEADER + accepted.map(long).join(''), 'whole lines, in order');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(processWarnings, ['TCPINFO_WRITE_FAILED', 'TCPINFO_QUEUE_FULL', 'TCPINFO_WRITE_RECOVERED'], 'through process.emitWarning too');
});

test('start-up errors the user must fix still throw: a read-only file system (EROFS)', (t) => {
  const dir = tmpfs(t, 'ro,size=64k');
  if (dir === null) return;
  assert.throws(() => new LogWriter({
    file: path.join(dir, 'tcpinfo.log'), header: HEADER, queueLines: 1000, rollingEnabled: 0, rollingOffsetHr: 0,
    rollingIntervalSec: 86_400, rollingSize: 1 << 30,
  }), /--log-file=.*tcpinfo\.log: cannot open for appending \(EROFS\)/);
});

/** What an unwritable directory's start-up error says to do instead (attach's message, and the preload's). */
const REMEDIES_RE = /\n {2}instead, log to standard output: --log-file=stdout --format=json .*\n {2}or into a directory this process can write: --log-dir=<dir>/;

/** The preload with the defaults (./tcpinfo.log) in `cwd`, as `uid` (root when undefined): how it ended. */
/** The preload in `cwd`; `withoutCapabilities`: as root stripped of every capability (no CAP_DAC_OVERRIDE), so that file
 * permissions apply to it as to any user, while it still reads this checkout wherever that lies (a 0700 temp dir). */
function preloadIn(cwd, withoutCapabilities = false) {
  const argv = [process.execPath, '--import', REGISTER, '-e', "console.log('the app ran')"];
  const [command, ...args] = withoutCapabilities
    ? ['setpriv', '--reuid=0', '--regid=0', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', ...argv]
    : argv;
  const env = { PATH: process.env.PATH };
  return spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 10_000 });
}

test('an unwritable log directory at start-up: the error says why and names the remedies (attach and the preload)', async (t) => {
  const readOnly = tmpfs(t, 'ro,size=64k');
  if (readOnly === null) return;
  const err = (() => {
    try {
      attach(http.createServer(), { logDir: readOnly });
    } catch (e) {
      return e;
    }
    assert.fail('attach() did not throw');
  })();
  assert.equal(err.code, 'ERR_TCPINFO_LOG_OPEN');
  assert.match(err.message, new RegExp(`cannot open for appending \\(EROFS\\)\n {2}${escapeRe(readOnly)} is on a read-only file system`));
  assert.match(err.message, REMEDIES_RE);

  // The preload's default, ./tcpinfo.log, in a read-only working directory: the app does not start, and the
  // message also says where the preload takes its options.
  const run = preloadIn(readOnly);
  assert.equal(run.status, 1, run.stderr);
  assert.equal(run.stdout, '', 'the app never ran');
  assert.match(run.stderr, /is on a read-only file system/);
  assert.match(run.stderr, REMEDIES_RE);
  assert.match(run.stderr, /tcpinfo\/register: the app was not started \(configuration from the defaults\)\n {2}the preload takes its options from TCPINFO_OPTIONS: TCPINFO_OPTIONS='--log-file=stdout --format=json' node --import tcpinfo\/register app\.js\n$/);

  // No permission (EACCES: a working directory another user owns, the app run without the capability to override
  // file permissions), and a directory that does not exist (ENOENT).
  const othersOnly = tempDir(t);
  fs.chmodSync(othersOnly, 0o755);
  if (process.getuid?.() === 0) fs.chownSync(othersOnly, 65534, 65534);
  const denied = preloadIn(othersOnly, true);
  if (process.getuid?.() === 0 && denied.error === undefined && !/setpriv: /.test(denied.stderr)) {
    assert.equal(denied.status, 1, denied.stderr);
    assert.match(denied.stderr, /\(EACCES\)\n {2}this process \(uid 0\) may not write the file or create it in /);
    assert.match(denied.stderr, REMEDIES_RE);
  } else {
    t.diagnostic(`EACCES not checked: needs root and setpriv to drop its capabilities (${denied.error?.message ?? denied.stderr.trim()})`);
  }
  const missing = path.join(tempDir(t), 'missing');
  assert.throws(() => attach(http.createServer(), { logDir: missing }), (e) =>
    e.message.includes(`(ENOENT)\n  the directory ${missing} does not exist`) && REMEDIES_RE.test(e.message));
});

// ---------------------------------------------------------------------------------------------
// Symbolic links

test('a symlink at the log path at start-up is a configuration error naming the option and the path; its target is untouched', (t) => {
  const dir = tempDir(t);
  const victim = path.join(dir, 'victim');
  fs.writeFileSync(victim, 'secret\n');
  const file = path.join(dir, 'tcpinfo.log');
  fs.symlinkSync(victim, file);
  const dangling = path.join(dir, 'dangling.log');
  fs.symlinkSync(path.join(dir, 'created-through-the-link'), dangling);
  const server = http.createServer(helloHandler);
  for (const logFile of [file, dangling]) {
    let caught;
    assert.throws(() => attach(server, { logFile }), (err) => ((caught = err), true));
    assert.ok(caught instanceof TcpinfoConfigError, `${caught}`);
    assert.equal(caught.problems[0].option, '--log-file');
    assert.equal(caught.problems[0].value, logFile);
    assert.match(caught.message, new RegExp(`--log-file=${logFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: is a symbolic link`));
  }
  assert.equal(fs.readFileSync(victim, 'utf8'), 'secret\n');
  assert.equal(fs.existsSync(path.join(dir, 'created-through-the-link')), false);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['dangling.log', 'tcpinfo.log', 'victim']);
});

test('a symlinked log directory is fine: only the file name itself is never a link', async (t) => {
  const dir = tempDir(t);
  fs.mkdirSync(path.join(dir, 'real'));
  fs.symlinkSync(path.join(dir, 'real'), path.join(dir, 'logs'));
  const { w, warnings } = writer(t, path.join(dir, 'logs', 'tcpinfo.log'));
  w.write(line(0));
  await w.flush();
  assert.equal(fs.readFileSync(path.join(dir, 'real', 'tcpinfo.log'), 'utf8'), HEADER + line(0));
  assert.deepEqual(warnings, []);
});

test('a symlink put at the log path while running is never followed: a fault reported once, lines wait for the name to be a file', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'tcpinfo.log');
  const victim = path.join(dir, 'victim');
  fs.writeFileSync(victim, 'secret\n');
  const { w, warnings } = writer(t, file);
  w.write(line(0));
  await w.flush();
  fs.renameSync(file, path.join(dir, 'rolled-by-another-tool.log'));
  fs.symlinkSync(victim, file);
  for (let i = 1; i <= 3; i++) {
    w.write(line(i));
    await w.flush();
  }
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(fs.readFileSync(victim, 'utf8'), 'secret\n', 'nothing written through the link');
  assert.deepEqual(warnings, ['TCPINFO_LOG_OPEN_FAILED:ELOOP']);
  assert.equal(w.stats.written, 1);

  fs.unlinkSync(file);
  await waitFor(() => w.stats.written === 4, 2000, 'the lines, once the link is gone');
  assert.equal(fs.readFileSync(file, 'utf8'), HEADER + line(1) + line(2) + line(3));
  assert.equal(fs.lstatSync(file).isFile(), true);
  assert.equal(fs.readFileSync(victim, 'utf8'), 'secret\n');
});

// ---------------------------------------------------------------------------------------------
// A hard link, or another user's file, at the log path

function escapeRe(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** attach()'s start-up error for `logFile`: a TcpinfoConfigError naming the option and the path. */
function startupRefusal(logFile) {
  let caught;
  assert.throws(() => attach(http.createServer(helloHandler), { logFile }), (err) => ((caught = err), true));
  assert.ok(caught instanceof TcpinfoConfigError, `${caught}`);
  assert.deepEqual([caught.problems[0].option, caught.problems[0].value], ['--log-file', logFile]);
  return caught.message;
}

test('a hard link at the log path at start-up is a configuration error naming the path and why; the linked file is untouched', (t) => {
  const dir = tempDir(t);
  const victim = path.join(dir, 'victim');
  fs.writeFileSync(victim, 'secret\n');
  const file = path.join(dir, 'tcpinfo.log');
  fs.linkSync(victim, file);
  assert.match(startupRefusal(file), new RegExp(`--log-file=${escapeRe(file)}: has 2 hard links, and the log file is never written through one`));
  assert.equal(fs.readFileSync(victim, 'utf8'), 'secret\n');
  assert.deepEqual(fs.readdirSync(dir).sort(), ['tcpinfo.log', 'victim']);
});

test('a new file another process is linking into place (its temporary name not yet removed) is no hard link', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'tcpinfo.log');
  fs.writeFileSync(file, HEADER);
  fs.linkSync(file, path.join(dir, '.tcpinfo.log.4242.0a1b2c3d.tmp'));
  const { w, warnings } = writer(t, file);
  w.write(line(0));
  await w.flush();
  assert.equal(fs.readFileSync(file, 'utf8'), HEADER + line(0));
  assert.deepEqual(warnings, []);
  // Any other second name is refused.
  fs.linkSync(file, path.join(dir, 'elsewhere'));
  assert.match(startupRefusal(file), /has 3 hard links/);
});

test('a hard link put at the log path after a roll is never written: a fault reported once, lines wait for the name to be a file of its own', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'tcpinfo.log');
  const victim = path.join(dir, 'victim');
  fs.writeFileSync(victim, 'secret\n');
  const { w } = writer(t, file);
  const warnings = [];
  w.on('warning', (err) => warnings.push(err));
  w.write(line(0));
  await w.flush();
  // Another process rolls the file; a link to the victim takes the live name before this one reopens it.
  fs.renameSync(file, `${file}_web2.20260101.00h00m00s-20260101.01h00m00s.old`);
  fs.linkSync(victim, file);
  for (let i = 1; i <= 3; i++) {
    w.write(line(i));
    await w.flush();
  }
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(fs.readFileSync(victim, 'utf8'), 'secret\n', 'nothing written to the linked file');
  assert.deepEqual(warnings.map((e) => e.code), ['TCPINFO_LOG_OPEN_FAILED']);
  assert.match(warnings[0].message, new RegExp(`opening ${escapeRe(file)} failed \\(has 2 hard links`));
  assert.deepEqual([w.stats.written, w.stats.writeErrors], [1, 1]);

  fs.unlinkSync(file);
  await waitFor(() => w.stats.written === 4, 2000, 'the lines, once the link is gone');
  assert.equal(fs.readFileSync(file, 'utf8'), HEADER + line(1) + line(2) + line(3));
  assert.equal(fs.readFileSync(victim, 'utf8'), 'secret\n');
});

test('running as root, another user\'s file at the log path is refused at start-up, and never written when found at a reopen', async (t) => {
  if (process.geteuid?.() !== 0) {
    t.skip('needs root (chown to another user)');
    return;
  }
  const dir = tempDir(t);
  const theirs = path.join(dir, 'theirs.log');
  fs.writeFileSync(theirs, '', { mode: 0o666 });
  fs.chownSync(theirs, 65534, 65534);
  assert.match(startupRefusal(theirs), new RegExp(`--log-file=${escapeRe(theirs)}: belongs to uid 65534, and tcpinfo runs as root`));
  assert.equal(fs.readFileSync(theirs, 'utf8'), '');

  const file = path.join(dir, 'tcpinfo.log');
  const { w, warnings } = writer(t, file);
  w.write(line(0));
  await w.flush();
  fs.unlinkSync(file);
  fs.writeFileSync(file, '', { mode: 0o666 });
  fs.chownSync(file, 65534, 65534);
  w.write(line(1));
  await w.flush();
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(fs.readFileSync(file, 'utf8'), '', 'nothing written to their file');
  assert.deepEqual(warnings, ['TCPINFO_LOG_OPEN_FAILED:undefined']);
  fs.unlinkSync(file);
  await waitFor(() => w.stats.written === 2, 2000, 'the line, once their file is gone');
  assert.equal(fs.statSync(file).uid, 0);
});

// ---------------------------------------------------------------------------------------------
// The log directory swapped after start-up

/** A rolled name of tcpinfo.log on `day` of Jan 2026. */
function rolledOn(day) {
  const d = String(day).padStart(2, '0');
  return `tcpinfo.log_web1.202601${d}.00h00m00s-202601${d}.01h00m00s.old`;
}

for (const how of ['renamed away', 'removed']) {
  test(`the log directory ${how} and a symlink to another put in its place: no line, roll or removal there; a fault until it is back`, async (t) => {
    const root = tempDir(t);
    const logs = path.join(root, 'logs');
    const other = path.join(root, 'other');
    fs.mkdirSync(logs);
    fs.mkdirSync(other);
    const theirs = [1, 2, 3, 4].map(rolledOn);
    for (const name of theirs) fs.writeFileSync(path.join(other, name), 'theirs\n');
    const file = path.join(logs, 'tcpinfo.log');
    const { w } = writer(t, file, { rollingEnabled: 2, rollingSize: 2048, rollingMaxCount: 1 });
    const warnings = [];
    w.on('warning', (err) => warnings.push(err));
    w.write(line(0));
    await w.flush();

    if (how === 'removed') fs.rmSync(logs, { recursive: true });
    else fs.renameSync(logs, path.join(root, 'logs.away'));
    fs.symlinkSync(other, logs);
    for (let i = 1; i <= 100; i++) {
      w.write(line(i));
      if (i % 20 === 0) await w.flush();
    }
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(fs.readdirSync(other).sort(), theirs, 'nothing written, rolled or removed in the other directory');
    for (const name of theirs) assert.equal(fs.readFileSync(path.join(other, name), 'utf8'), 'theirs\n');
    assert.deepEqual(warnings.map((e) => e.code), ['TCPINFO_LOG_OPEN_FAILED'], 'reported once');
    assert.match(warnings[0].message, new RegExp(`opening ${escapeRe(file)} failed \\(the directory ${escapeRe(logs)} is no longer`));
    assert.deepEqual([w.stats.written, w.stats.writeErrors], [1, 1]);

    // Back as it was (or made anew, where it was removed): the lines that waited go in, and logging goes on.
    fs.unlinkSync(logs);
    if (how === 'removed') fs.mkdirSync(logs);
    else fs.renameSync(path.join(root, 'logs.away'), logs);
    await waitFor(() => w.stats.written === 101, 3000, 'the lines, once the directory is back');
    assert.deepEqual(fs.readdirSync(other).sort(), theirs);
    await waitFor(() => warnings.length === 2, 1000, 'the report that it is written again');
    assert.equal(warnings[1].code, 'TCPINFO_WRITE_RECOVERED');
    assert.ok(fs.readdirSync(logs).includes('tcpinfo.log'));
  });
}

// ---------------------------------------------------------------------------------------------
// Torn lines

test('a file ending inside a line (a full disk, a SIGKILL mid-write): the next writer starts its first line on a new line', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'tcpinfo.log');
  const torn = line(1).slice(0, 23);
  fs.writeFileSync(file, HEADER + line(0) + torn);
  const { w } = writer(t, file);
  w.write(line(2));
  await w.flush();
  assert.equal(fs.readFileSync(file, 'utf8'), HEADER + line(0) + torn + '\n' + line(2));
  // A file ending with a whole line gets nothing added.
  await w.close();
  const { w: next } = writer(t, file);
  next.write(line(3));
  await next.flush();
  assert.equal(fs.readFileSync(file, 'utf8'), HEADER + line(0) + torn + '\n' + line(2) + line(3));
});

test('a file followed to a new inode that ends inside a line gets its newline too', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'tcpinfo.log');
  const { w } = writer(t, file);
  w.write(line(0));
  await w.flush();
  // Another tool puts a file whose last line was cut in place of the live one.
  fs.writeFileSync(path.join(dir, 'next'), HEADER + line(1).slice(0, 10));
  fs.renameSync(path.join(dir, 'next'), file);
  w.write(line(2));
  await w.flush();
  assert.equal(fs.readFileSync(file, 'utf8'), HEADER + line(1).slice(0, 10) + '\n' + line(2));
});

// ---------------------------------------------------------------------------------------------
// --log-file-mode

test('--log-file-mode: 0640 by default and the mode given otherwise, whatever the umask; rolled files keep it', async (t) => {
  const dir = tempDir(t);
  const old = process.umask(0o077);
  t.after(() => process.umask(old));
  const plain = path.join(dir, 'default.log');
  writer(t, plain);
  assert.equal(fs.statSync(plain).mode & 0o777, 0o640);

  const file = path.join(dir, 'tcpinfo.log');
  const { w } = writer(t, file, { fileMode: parseOptions('--log-file-mode=0644').logFileMode, rollingEnabled: 2, rollingSize: 4096 });
  for (let i = 0; i < 200; i++) w.write(line(i));
  await w.flush();
  const names = fs.readdirSync(dir).filter((n) => n.startsWith('tcpinfo.log'));
  assert.ok(names.length >= 3, `rolled: ${names}`);
  for (const name of names) assert.equal(fs.statSync(path.join(dir, name)).mode & 0o777, 0o644, name);
});

test('--log-file-mode through attach() and the object form; an existing file keeps its own mode', async (t) => {
  const dir = tempDir(t);
  const old = process.umask(0o077);
  t.after(() => process.umask(old));
  const server = http.createServer(helloHandler);
  for (const [options, mode] of [['--log-file-mode=660', 0o660], [{ logFileMode: 0o600 }, 0o600], [{ logFileMode: '0o604' }, 0o604]]) {
    const logFile = path.join(dir, `${mode.toString(8)}.log`);
    const handle = attach(server, typeof options === 'string' ? `${options} --log-file=${logFile}` : { ...options, logFile });
    await handle.close();
    assert.equal(fs.statSync(logFile).mode & 0o777, mode, JSON.stringify(options));
  }
  const existing = path.join(dir, 'existing.log');
  fs.writeFileSync(existing, HEADER, { mode: 0o600 });
  await attach(server, { logFile: existing, logFileMode: '0644' }).close();
  assert.equal(fs.statSync(existing).mode & 0o777, 0o600);
});

test('--log-file-mode: a value that is not an octal mode with owner read and write is a configuration error', () => {
  for (const bad of ['0648', '999', '0400', '0200', '1777', '4755', 'rw-r--r--', '0x1a4', '64', '0o1640', '']) {
    let caught;
    assert.throws(() => parseOptions(`--log-file-mode=${bad}`), (err) => ((caught = err), err instanceof TcpinfoConfigError), bad);
    assert.equal(caught.problems[0].option, '--log-file-mode');
    assert.equal(caught.problems[0].value, bad);
    assert.match(caught.message, /must be an octal file mode from 0600 to 0777 that lets the owner read and write/);
  }
  // 640 (decimal) in code is 0o1200: refused, not taken as 0640.
  assert.throws(() => parseOptions({ logFileMode: 640 }), /--log-file-mode=01200: must be an octal file mode/);
  assert.equal(parseOptions({ logFileMode: 0o644 }).logFileMode, 0o644);
  assert.equal(parseOptions('--log-file-mode=0o755').logFileMode, 0o755);
});
