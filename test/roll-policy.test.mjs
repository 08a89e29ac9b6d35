// The writer's roll policy on its own (no disk, a clock of the test's): when a roll is due by time or
// size, and the waits after a refused rename and after another process's claim.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BIRTH_MARGIN_MS, CLAIM_WAIT_MS, MAX_TIMER_MS, RollPolicy, SWEEP_EVERY_MS } from '../dist/logger/roll-policy.js';

// Boundaries are on the local wall clock: one without DST, for exact figures (Node reads TZ when it changes).
process.env.TZ = 'UTC';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5, 10, 20, 0); // 10:20 UTC

function policy(options = {}) {
  const clock = { now: T0 };
  const p = new RollPolicy({
    rollingEnabled: 3,
    rollingOffsetHr: 0,
    rollingIntervalSec: 3600,
    rollingSize: 1000,
    retryMs: 1000,
    clock: () => clock.now,
    ...options,
  });
  return { p, clock };
}

const small = { size: 10, hasRecords: true };

test('rolling by time and by size follow the rolling-enabled bits', () => {
  assert.deepEqual([0, 1, 2, 3].map((e) => [policy({ rollingEnabled: e }).p.byTime, policy({ rollingEnabled: e }).p.bySize]), [
    [false, false], [true, false], [false, true], [true, true],
  ]);
});

test('past the size: only above it, only with lines in the file, only rolling by size', () => {
  const { p } = policy();
  assert.equal(p.isDue({ size: 1000, hasRecords: true }), false, 'at the size: not past it');
  assert.equal(p.isDue({ size: 1001, hasRecords: true }), true);
  assert.equal(p.isDue({ size: 5000, hasRecords: false }), false, 'a header alone never rolls');
  assert.equal(policy({ rollingEnabled: 1 }).p.isDue({ size: 5000, hasRecords: true }), false);
});

test('room before the size: what a write may take (none past it; no limit when not rolling by size)', () => {
  const { p } = policy();
  assert.equal(p.roomBeforeSize(400), 600);
  assert.equal(p.roomBeforeSize(1500), 0);
  assert.equal(policy({ rollingEnabled: 1 }).p.roomBeforeSize(1500), Infinity);
});

test('the boundary timer: aimed at the next boundary; early on the wall clock it waits on; then that boundary is due', () => {
  const { p, clock } = policy();
  assert.equal(p.armBoundary(), 40 * 60_000, '10:20 -> 11:00');
  assert.equal(p.isDue(small), false);
  clock.now = T0 + 40 * 60_000 - 5; // the monotonic timer fired, the wall clock (stepped back) is not there
  assert.equal(p.boundaryTimerFired(), false);
  assert.equal(p.msToBoundary(), 5);
  assert.equal(p.dueBoundary, 0);
  clock.now = T0 + 40 * 60_000 + 3;
  assert.equal(p.boundaryTimerFired(), true);
  assert.equal(p.dueBoundary, Date.UTC(2026, 0, 5, 11));
  assert.equal(p.isDue(small), true);
  assert.equal(p.armBoundary(), HOUR - 3, 'on to 12:00');
});

test('after a sleep across several boundaries, the latest one passed is due (one roll, not one per boundary)', () => {
  const { p, clock } = policy();
  p.armBoundary();
  clock.now = Date.UTC(2026, 0, 5, 15, 7);
  assert.equal(p.boundaryTimerFired(), true);
  assert.equal(p.dueBoundary, Date.UTC(2026, 0, 5, 15));
});

test('the timer delay is capped at what setTimeout takes', () => {
  const { p } = policy({ rollingIntervalSec: 86400, rollingOffsetHr: 10 });
  assert.ok(p.armBoundary() <= MAX_TIMER_MS);
  // A boundary further than setTimeout's longest delay (a clock stepped back by a month).
  const { p: q, clock } = policy();
  q.armBoundary();
  clock.now = T0 - 30 * 24 * HOUR;
  assert.equal(q.boundaryTimerFired(), false);
  assert.equal(q.msToBoundary(), MAX_TIMER_MS);
});

test('a roll done clears the boundary it began with, not one that came during it', () => {
  const { p, clock } = policy();
  p.armBoundary();
  clock.now = Date.UTC(2026, 0, 5, 11, 0, 1);
  p.boundaryTimerFired();
  const began = p.dueBoundary;
  p.armBoundary();
  clock.now = Date.UTC(2026, 0, 5, 12, 0, 1);
  p.boundaryTimerFired(); // the roll at 11:00 took an hour (a hung disk)
  p.rolled(began);
  assert.equal(p.dueBoundary, Date.UTC(2026, 0, 5, 12), 'the 12:00 roll is still due');
  p.rolled(p.dueBoundary);
  assert.equal(p.dueBoundary, 0);
  assert.equal(p.isDue(small), false);
});

test('a file with only its header at a boundary does not roll: its period starts again', () => {
  const { p, clock } = policy();
  p.armBoundary();
  clock.now = Date.UTC(2026, 0, 5, 11, 0, 1);
  p.boundaryTimerFired();
  p.restartPeriod();
  assert.equal(p.dueBoundary, 0);
  assert.equal(p.isDue(small), false);
});

test('a refused rename waits retryMs, then is due again, and the file is named after the time of the retry', () => {
  const { p, clock } = policy();
  p.armBoundary();
  clock.now = Date.UTC(2026, 0, 5, 11, 0, 1);
  p.boundaryTimerFired();
  const boundary = p.dueBoundary;
  assert.equal(p.rollEnd(boundary, clock.now), boundary, 'a time roll is named after its boundary');
  p.refused(clock.now);
  assert.equal(p.waiting, true);
  assert.equal(p.waitEnd, clock.now + 1000);
  clock.now += 999;
  assert.equal(p.isDue(small), false);
  clock.now += 1;
  assert.equal(p.isDue(small), true);
  assert.equal(p.rollEnd(boundary, clock.now), clock.now, 'retried: named after now');
  p.rolled(boundary);
  assert.equal(p.waiting, false);
  assert.equal(p.isDue(small), false);
});

test('a size roll is named after now', () => {
  const { p } = policy();
  assert.equal(p.rollEnd(0, T0 + 5), T0 + 5);
});

test('another process claimed the roll: look again CLAIM_WAIT_MS later, and the wait ends at that look', () => {
  const { p, clock } = policy();
  const big = { size: 5000, hasRecords: true };
  p.claimedElsewhere(clock.now);
  assert.equal(p.waiting, true);
  assert.equal(p.waitEnd, T0 + CLAIM_WAIT_MS);
  assert.equal(p.isDue(big), false);
  clock.now += CLAIM_WAIT_MS;
  assert.equal(p.isDue(big), true);
  assert.equal(p.waiting, false, 'the wait is over once looked at');
});

test('a file begun at the due boundary (less the birth margin) or after it was rolled by another process', () => {
  const { p } = policy();
  const boundary = Date.UTC(2026, 0, 5, 11);
  assert.equal(p.rolledElsewhere(boundary, boundary + 1), true);
  assert.equal(p.rolledElsewhere(boundary, boundary - BIRTH_MARGIN_MS + 1), true, 'the coarse file clock: a few ms early');
  assert.equal(p.rolledElsewhere(boundary, boundary - BIRTH_MARGIN_MS), false);
  assert.equal(p.rolledElsewhere(0, T0), false, 'no time roll due');
});

test('leftovers are swept after a roll at most every SWEEP_EVERY_MS', () => {
  const { p } = policy();
  assert.equal(p.sweepDue(T0), true);
  assert.equal(p.sweepDue(T0 + SWEEP_EVERY_MS - 1), false);
  assert.equal(p.sweepDue(T0 + SWEEP_EVERY_MS), true);
});

test('the clock defaults to Date.now', () => {
  const p = new RollPolicy({ rollingEnabled: 1, rollingOffsetHr: 0, rollingIntervalSec: 60, rollingSize: 1, retryMs: 1 });
  const delay = p.armBoundary();
  assert.ok(delay > 0 && delay <= 60_000, `${delay}`);
});
