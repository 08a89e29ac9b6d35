// Rolling the log the Traffic Server way: boundaries in the local day, sizes, names, headers (tens of MB
// through size rolls, and a real tail -F across rolls: slow/rolling-volume.test.mjs).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parseOptions } from '../dist/index.js';
import { rolledName } from '../dist/format/rolled-name.js';
import { nextBoundary } from '../dist/logger/roll-schedule.js';
import { LogWriter } from '../dist/logger/writer.js';
import { logFiles, rolledNameRe, tempDir } from './support/harness.mjs';

const HEADER = 'timestamp event client server rtt\n';
const HOST = 'web1';
const MiB = 1024 * 1024;
const ROLLED_RE = rolledNameRe(HOST);

/** A record line that says which line it is and has a length that varies, so a torn or moved line shows. */
function line(i) {
  return `20261123.14h05m09s ssn_start 10.0.${(i >> 8) & 255}.${i & 255} 127.0.0.1 ${i} ${'x'.repeat(20 + (i % 37))}\n`;
}

function writer(file, options) {
  return new LogWriter({
    file, header: HEADER, queueLines: 100_000, rollingEnabled: 1, rollingOffsetHr: 0, rollingIntervalSec: 86_400,
    rollingSize: 1024 * MiB, hostname: HOST, ...options,
  });
}

describe('time boundaries', () => {
  function withTZ(t, tz) {
    const old = process.env.TZ;
    process.env.TZ = tz;
    t.after(() => {
      if (old === undefined) delete process.env.TZ;
      else process.env.TZ = old;
    });
  }
  const local = (...fields) => new Date(...fields).getTime();

  test('fall at offset_hr*3600 + k*interval seconds into the local day; the first is the next one', (t) => {
    withTZ(t, 'Europe/Rome');
    const at1050 = local(2026, 10, 23, 10, 50, 0);
    assert.equal(nextBoundary(at1050, 0, 86_400), local(2026, 10, 24, 0, 0, 0));
    assert.equal(nextBoundary(at1050, 3, 86_400), local(2026, 10, 24, 3, 0, 0));
    assert.equal(nextBoundary(at1050, 11, 86_400), local(2026, 10, 23, 11, 0, 0));
    assert.equal(nextBoundary(at1050, 0, 3600), local(2026, 10, 23, 11, 0, 0));
    // 5400 s from 01:00: 10:00, 11:30 (rotating-file-stream cannot express 90 minutes at all)
    assert.equal(nextBoundary(at1050, 1, 5400), local(2026, 10, 23, 11, 30, 0));
    assert.equal(nextBoundary(at1050, 1, 60), local(2026, 10, 23, 10, 51, 0));
    // on a boundary: the next one, not itself
    assert.equal(nextBoundary(local(2026, 10, 23, 11, 30, 0), 1, 5400), local(2026, 10, 23, 13, 0, 0));
    // the last boundary of the day leads to the first of the next day
    assert.equal(nextBoundary(local(2026, 10, 23, 23, 59, 59), 5, 21_600), local(2026, 10, 24, 5, 0, 0));
  });

  test('count from local midnight, also where the zone is not a whole number of hours from UTC', (t) => {
    withTZ(t, 'Asia/Kathmandu');
    // +05:45: rotating-file-stream's epoch-based 30-minute boundaries fall at :15 and :45 local time
    const next = new Date(nextBoundary(local(2026, 10, 23, 10, 50, 0), 0, 1800));
    assert.deepEqual([next.getHours(), next.getMinutes(), next.getSeconds()], [11, 0, 0]);
  });

  test('follow the wall clock across daylight-saving changes', (t) => {
    withTZ(t, 'Europe/Rome');
    // 2026-03-29 02:00 -> 03:00: the hour after 01:30 is 03:00, 30 minutes later
    const spring = nextBoundary(local(2026, 2, 29, 1, 30, 0), 0, 3600);
    assert.equal(new Date(spring).getHours(), 3);
    assert.equal(spring - local(2026, 2, 29, 1, 30, 0), 30 * 60_000);
    // a day of 23 hours: the next midnight is 23 hours after the last
    assert.equal(nextBoundary(local(2026, 2, 29, 0, 0, 0), 0, 86_400) - local(2026, 2, 29, 0, 0, 0), 23 * 3600_000);
    // 2026-10-25 03:00 -> 02:00: a day of 25 hours, and boundaries still advance
    const dayStart = local(2026, 9, 25, 0, 0, 0);
    assert.equal(nextBoundary(dayStart, 0, 86_400) - dayStart, 25 * 3600_000);
    let at = dayStart;
    for (let i = 0; i < 30; i++) {
      const next = nextBoundary(at, 0, 3600);
      assert.ok(next > at);
      at = next;
    }
    assert.equal(at, dayStart + 30 * 3600_000, 'hourly through the repeated hour');
  });
});

test('rolled names: <logfile>_<host>.<start>-<end>.old, .<n> before .old on a clash', () => {
  const start = new Date(2014, 3, 14, 0, 0, 0).getTime();
  const end = new Date(2014, 3, 15, 0, 0, 0).getTime();
  assert.equal(rolledName('/var/log/tcpinfo.log', 'web1', start, end, 0), '/var/log/tcpinfo.log_web1.20140414.00h00m00s-20140415.00h00m00s.old');
  assert.equal(rolledName('/var/log/tcpinfo.log', 'web1', start, end, 2), '/var/log/tcpinfo.log_web1.20140414.00h00m00s-20140415.00h00m00s.2.old');
});

test('time rolls with an injected clock: the next boundary first, offset and interval as parsed, named start-end', async (t) => {
  // 5000 does not divide 86400: the options raise it to 5400 (90 minutes) with a notice, and the writer rolls at
  // 01:00 + k*90 min. Started at 10:50, the first roll is at 11:30, not 12:20.
  const options = parseOptions('--rolling-enabled=1 --rolling-offset-hr=1 --rolling-interval-sec=5000');
  assert.equal(options.rollingIntervalSec, 5400);
  assert.match(options.notices.join('\n'), /5000.*5400/);
  const startAt = new Date(2026, 10, 23, 10, 50, 0).getTime();
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: startAt });
  const dir = tempDir(t);
  const file = path.join(dir, 'tcpinfo.log');
  const w = writer(file, {
    rollingEnabled: options.rollingEnabled, rollingOffsetHr: options.rollingOffsetHr,
    rollingIntervalSec: options.rollingIntervalSec, rollingSize: options.rollingSize,
  });
  t.after(() => w.close());
  const MIN = 60_000;
  const names = () => fs.readdirSync(dir).filter((n) => n !== 'tcpinfo.log').sort();
  const tick = async (ms) => {
    t.mock.timers.tick(ms);
    await w.flush();
  };

  for (let i = 0; i < 10; i++) w.write(line(i));
  await w.flush();
  await tick(40 * MIN - 1000);
  assert.deepEqual(names(), [], 'nothing rolled before the boundary');
  await tick(1000);
  assert.deepEqual(names(), ['tcpinfo.log_web1.20261123.10h50m00s-20261123.11h30m00s.old']);
  assert.equal(fs.readFileSync(path.join(dir, names()[0]), 'utf8'), HEADER + Array.from({ length: 10 }, (_, i) => line(i)).join(''));
  assert.equal(fs.readFileSync(file, 'utf8'), HEADER, 'the new live file starts with the header');

  for (let i = 10; i < 20; i++) w.write(line(i));
  await tick(90 * MIN);
  assert.equal(names().at(-1), 'tcpinfo.log_web1.20261123.11h30m00s-20261123.13h00m00s.old');

  // A period without lines leaves no empty rolled file; the live file's period starts again at the boundary.
  await tick(90 * MIN);
  assert.equal(names().length, 2);
  w.write(line(20));
  await tick(90 * MIN);
  assert.equal(names().at(-1), 'tcpinfo.log_web1.20261123.14h30m00s-20261123.16h00m00s.old');

  // A jump of hours (a machine asleep, a clock step) is one roll check, at the latest boundary passed: 23:30.
  // The next one is 01:00, across midnight.
  await tick((23 * 60 + 30 - 16 * 60) * MIN);
  w.write(line(21));
  await tick(90 * MIN);
  assert.equal(names().at(-1), 'tcpinfo.log_web1.20261123.23h30m00s-20261124.01h00m00s.old');
  assert.equal(w.stats.rolls, 4);
  assert.equal(w.stats.written, 22);
});

test('time or size (3): a size roll inside a period, then the boundary; one file ends where the next begins', async (t) => {
  const startAt = new Date(2026, 10, 23, 23, 10, 0).getTime();
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: startAt });
  const dir = tempDir(t);
  const w = writer(path.join(dir, 'tcpinfo.log'), { rollingEnabled: 3, rollingOffsetHr: 0, rollingIntervalSec: 3600, rollingSize: 4096 });
  t.after(() => w.close());
  for (let i = 0; i < 100; i++) w.write(line(i)); // about 10 KB: past 4096 twice
  await w.flush();
  t.mock.timers.tick(5 * 60_000);
  w.write(line(100));
  await w.flush();
  t.mock.timers.tick(45 * 60_000);
  await w.flush();
  const files = logFiles(dir, ROLLED_RE);
  const text = files.map((f) => fs.readFileSync(f.file, 'utf8')).join('');
  assert.equal(text.split(HEADER).slice(1).join(''), Array.from({ length: 101 }, (_, i) => line(i)).join(''), 'every line once, in order');
  assert.ok(files.every((f) => fs.readFileSync(f.file, 'utf8').startsWith(HEADER)));
  assert.deepEqual(files.map((f) => f.name), [
    'tcpinfo.log_web1.20261123.23h10m00s-20261123.23h10m00s.old', // past the size
    'tcpinfo.log_web1.20261123.23h10m00s-20261123.23h10m00s.1.old', // past it again in the same second: .1
    'tcpinfo.log_web1.20261123.23h10m00s-20261124.00h00m00s.old', // the rest of the hour, at the boundary
    'tcpinfo.log',
  ]);
});
