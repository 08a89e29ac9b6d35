// --rolling-max-count: which files are a log's rolled files, which of them go, and several processes pruning at once.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { LogDir } from '../dist/logger/log-dir.js';
import { compareRolled, pruneRolled, rolledNameMatcher } from '../dist/logger/retention.js';
import { LogWriter } from '../dist/logger/writer.js';
import { tempDir, waitFor } from './support/harness.mjs';

/** A rolled name of tcpinfo.log on `day` (1..28) of Jan 2026, ending at `hour`. */
function rolled(host, day, hour = 0, version = 0) {
  const d = String(day).padStart(2, '0');
  const h = String(hour).padStart(2, '0');
  return `tcpinfo.log_${host}.202601${d}.00h00m00s-202601${d}.${h}h30m00s${version === 0 ? '' : `.${version}`}.old`;
}

function touch(dir, names) {
  for (const name of names) fs.writeFileSync(path.join(dir, name), 'x\n');
}

test('rolled names of this log, whatever the host; nothing else', () => {
  const match = rolledNameMatcher('tcpinfo.log', 'web_1');
  assert.deepEqual(match(rolled('web1', 3, 5)), {
    name: rolled('web1', 3, 5), host: 'web1', start: '20260103.00h00m00s', end: '20260103.05h30m00s', version: 0, mtimeMs: 0,
  });
  assert.equal(match(rolled('pod-7f9c.example.com', 3, 5, 2)).host, 'pod-7f9c.example.com');
  assert.equal(match(rolled('pod-7f9c.example.com', 3, 5, 2)).version, 2);
  assert.equal(match(rolled('web_1', 3)).host, 'web_1', 'this host, though it has an underscore');
  for (const name of [
    'tcpinfo.log',
    'tcpinfo.log.1',
    `${rolled('web1', 3)}.gz`,
    rolled('web1', 3).replace('tcpinfo.log', 'other.log'),
    rolled('web1', 3).replace('tcpinfo.log_', 'tcpinfo.logx_'),
    // Another log's rolled file (that log is named tcpinfo.log_b.log): host names have no "_".
    `tcpinfo.log_b.log_web1.20260103.00h00m00s-20260103.05h30m00s.old`,
    'tcpinfo.log_web1.2026013.00h00m00s-20260103.05h30m00s.old',
    'tcpinfo.log_web1.20260103.00h00m00s-20260103.05h30m00s.x.old',
    '.tcpinfo.log.roll-1-2',
  ]) {
    assert.equal(match(name), undefined, name);
  }
});

test('the oldest beyond N by the end time in the name go, whatever the host, the start or the mtime', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'tcpinfo.log');
  const names = [rolled('old-pod', 1, 1), rolled('web1', 2, 3), rolled('web1', 2, 3, 1), rolled('new-pod', 4, 2), rolled('web1', 3, 9)];
  touch(dir, [...names, 'tcpinfo.log', 'other.log', rolled('web1', 1).replace('tcpinfo.log', 'other.log')]);
  // mtimes the other way round: they do not count.
  names.forEach((name, i) => fs.utimesSync(path.join(dir, name), 1000 + (10 - i) * 1000, 1000 + (10 - i) * 1000));
  fs.mkdirSync(path.join(dir, rolled('dir', 1)));
  const removed = await pruneRolled(file, 'web1', 2, null);
  assert.deepEqual(removed.map((p) => path.basename(p)).sort(), [rolled('old-pod', 1, 1), rolled('web1', 2, 3), rolled('web1', 2, 3, 1)].sort());
  assert.deepEqual(fs.readdirSync(dir).sort(), [rolled('dir', 1), rolled('new-pod', 4, 2), rolled('web1', 3, 9), 'other.log', rolled('web1', 1).replace('tcpinfo.log', 'other.log'), 'tcpinfo.log'].sort());
  assert.deepEqual(await pruneRolled(file, 'web1', 2, null), [], 'nothing more to do');
  assert.deepEqual(await pruneRolled(file, 'web1', 0, null), [], '0 keeps all');
});

test('the file just rolled is never removed, even where a clock set back named it oldest; it counts among the N', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'tcpinfo.log');
  touch(dir, [rolled('web1', 5), rolled('web1', 6), rolled('web1', 7), rolled('web1', 1)]);
  await pruneRolled(file, 'web1', 2, path.join(dir, rolled('web1', 1)));
  assert.deepEqual(fs.readdirSync(dir).sort(), [rolled('web1', 1), rolled('web1', 7)]);
});

test('the log directory swapped for a symlink to another after start-up: nothing removed there, the pruning rejected', async (t) => {
  const root = tempDir(t);
  const logs = path.join(root, 'logs');
  const other = path.join(root, 'other');
  fs.mkdirSync(logs);
  fs.mkdirSync(other);
  const file = path.join(logs, 'tcpinfo.log');
  const names = [rolled('web1', 1), rolled('web1', 2), rolled('web1', 3), rolled('web1', 4)];
  touch(other, names);
  touch(logs, names);
  const dir = new LogDir(logs);
  dir.holdSync();
  t.after(() => dir.close());
  fs.renameSync(logs, path.join(root, 'logs.away'));
  fs.symlinkSync(other, logs);
  await assert.rejects(pruneRolled(file, 'web1', 1, null, dir), /the directory .*logs is no longer the one/);
  assert.deepEqual(fs.readdirSync(other).sort(), names);
  assert.deepEqual(fs.readdirSync(path.join(root, 'logs.away')).sort(), names, 'nor in the directory held');
  // Back in place: pruned as usual, the paths named as the log's directory.
  fs.unlinkSync(logs);
  fs.renameSync(path.join(root, 'logs.away'), logs);
  assert.deepEqual(await pruneRolled(file, 'web1', 1, null, dir), names.slice(0, 3).map((n) => path.join(logs, n)));
  assert.deepEqual(fs.readdirSync(other).sort(), names);
});

test('several processes pruning at once: each file removed once, none beyond the oldest, no error', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'tcpinfo.log');
  const names = Array.from({ length: 20 }, (_, i) => rolled(`pod${i % 3}`, i + 1));
  touch(dir, names);
  const results = await Promise.all(Array.from({ length: 4 }, () => pruneRolled(file, 'web1', 5, null)));
  const all = results.flat().map((p) => path.basename(p));
  assert.equal(new Set(all).size, all.length, 'no file counted as removed by two processes');
  assert.deepEqual(all.sort(), names.slice(0, 15).sort());
  assert.deepEqual(fs.readdirSync(dir).sort(), names.slice(15).sort());
});

test('compareRolled: end, then start, then the last change (a version is the first free one), then version', () => {
  const m = rolledNameMatcher('tcpinfo.log', 'h');
  const a = m('tcpinfo.log_h.20260101.00h00m00s-20260102.00h00m00s.old');
  const b = m('tcpinfo.log_h.20260101.12h00m00s-20260102.00h00m00s.old');
  const c = m('tcpinfo.log_h.20260101.12h00m00s-20260102.00h00m00s.1.old');
  const d = m('tcpinfo.log_g.20251231.00h00m00s-20260102.00h00m01s.old');
  assert.deepEqual([d, c, b, a].sort(compareRolled), [a, b, c, d]);
  const e = { ...m('tcpinfo.log_h.20260101.12h00m00s-20260102.00h00m00s.2.old'), mtimeMs: 1 };
  const f = { ...m('tcpinfo.log_h.20260101.12h00m00s-20260102.00h00m00s.old'), mtimeMs: 2 };
  assert.deepEqual([f, e].sort(compareRolled), [e, f]);
});

test('a writer with rollingMaxCount keeps that many rolled files after each roll; 0 keeps all', async (t) => {
  const HEADER = 'timestamp event client server rtt\n';
  for (const maxCount of [2, 0]) {
    const dir = tempDir(t);
    const file = path.join(dir, 'tcpinfo.log');
    // A file another pod of the same app left (another host name): it counts, and it is the oldest.
    touch(dir, [rolled('old-pod', 1), 'notes.txt']);
    const w = new LogWriter({
      file, header: HEADER, queueLines: 65_536, rollingEnabled: 2, rollingOffsetHr: 0, rollingIntervalSec: 86_400,
      rollingSize: 4096, rollingMaxCount: maxCount, hostname: 'web1',
    });
    t.after(() => w.close());
    const warnings = [];
    w.on('warning', (err) => warnings.push(err));
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 100; i++) w.write(`20261123.14h05m09s txn_close 192.0.2.1 127.0.0.1 ${round}\n`);
      await w.flush();
      // Rolls by size ms apart get names alike but for the version: their files' times tell them apart.
      await new Promise((r) => setTimeout(r, 15));
    }
    const rolledNow = () => fs.readdirSync(dir).filter((n) => n.endsWith('.old'));
    if (maxCount === 0) {
      assert.equal(rolledNow().length, w.stats.rolls + 1);
      continue;
    }
    assert.ok(w.stats.rolls >= 5, `${w.stats.rolls} rolls`);
    await waitFor(() => rolledNow().length === maxCount, 2000, `${maxCount} rolled files`);
    // The newest are kept: the last rounds' lines are in them.
    const match = rolledNameMatcher('tcpinfo.log', 'web1');
    const kept = rolledNow().map(match).sort(compareRolled).map((r) => fs.readFileSync(path.join(dir, r.name), 'utf8'));
    assert.ok(kept.every((text) => text.startsWith(HEADER)));
    assert.ok(kept.at(-1).includes(' 4\n') || kept.at(-1).includes(' 5\n'), 'the newest rolled file is among the kept');
    assert.ok(fs.existsSync(file) && fs.existsSync(path.join(dir, 'notes.txt')));
    assert.deepEqual(warnings, []);
  }
});
