// The writer's fault reports on their own: each kind reported once until it clears, delivered outside
// the caller's stack, with its warning code and a message naming the file and the setting that bears on it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  FAULT_OPEN, FAULT_RETENTION, FAULT_ROLL, FAULT_WRITE, FaultReports, LINES_LOST, QUEUE_FULL, WARNING_CODES, warningOf,
} from '../dist/logger/fault-reports.js';

const CONTEXT = { file: '/var/log/t.log', queueLines: 5000, queueBytes: 1234, rollingMaxCount: 7, retryMs: 250 };
const KINDS = [FAULT_OPEN, FAULT_WRITE, FAULT_ROLL, QUEUE_FULL, FAULT_RETENTION, LINES_LOST];
const LOST = { lines: 4213, signal: 'SIGTERM', waitedMs: 1003 };

function reports() {
  const delivered = [];
  return { faults: new FaultReports(CONTEXT, (w) => delivered.push(w)), delivered };
}

const tick = () => new Promise((resolve) => process.nextTick(resolve));

test('reported once until cleared, each kind on its own', async () => {
  const { faults, delivered } = reports();
  const enospc = Object.assign(new Error('no space'), { code: 'ENOSPC' });
  assert.equal(faults.raise(FAULT_WRITE, enospc), true);
  for (let i = 0; i < 5; i++) assert.equal(faults.raise(FAULT_WRITE, enospc), false, 'persisting: not again');
  assert.equal(faults.isReported(FAULT_WRITE), true);
  assert.equal(faults.raise(FAULT_ROLL, enospc), true, 'another kind is reported');
  faults.clear(FAULT_ROLL);
  assert.equal(faults.isReported(FAULT_WRITE), true, 'clearing one kind leaves the others');
  faults.clear(FAULT_WRITE);
  assert.equal(faults.raise(FAULT_WRITE, enospc), true, 'cleared: the next one is reported');
  await tick();
  assert.deepEqual(delivered.map((w) => w.code), ['TCPINFO_WRITE_FAILED', 'TCPINFO_ROLL_FAILED', 'TCPINFO_WRITE_RECOVERED', 'TCPINFO_WRITE_FAILED']);
});

test('an outage (open, write, queue full: from the first report until none is) ends with one report: how long, lines lost', async () => {
  let lost = 100;
  const delivered = [];
  const faults = new FaultReports(CONTEXT, (w) => delivered.push(w), () => lost);
  const enospc = Object.assign(new Error('no space'), { code: 'ENOSPC' });
  faults.clear(FAULT_WRITE);
  faults.raise(FAULT_WRITE, enospc);
  lost += 7;
  faults.raise(QUEUE_FULL, undefined);
  lost += 5;
  await new Promise((resolve) => setTimeout(resolve, 30));
  faults.clear(FAULT_WRITE);
  faults.clear(FAULT_WRITE);
  faults.raise(FAULT_ROLL, enospc);
  faults.clear(FAULT_ROLL);
  await tick();
  assert.deepEqual(delivered.map((w) => w.code), ['TCPINFO_WRITE_FAILED', 'TCPINFO_QUEUE_FULL', 'TCPINFO_ROLL_FAILED'], 'not over while the queue is full; a roll is no outage');
  faults.clear(QUEUE_FULL);
  assert.equal(delivered.length, 3, 'delivered on the next tick');
  await tick();
  const recovered = delivered[3];
  assert.equal(recovered.code, 'TCPINFO_WRITE_RECOVERED');
  assert.equal(recovered.cause, enospc);
  assert.match(recovered.message, /^tcpinfo: \/var\/log\/t\.log is written again, after 0\.\d s held up \(ENOSPC\); 12 lines were lost meanwhile/);

  // An outage that is only a full queue: the line that started it counts (dropped before the report).
  faults.raise(QUEUE_FULL, undefined);
  faults.clear(QUEUE_FULL);
  await tick();
  assert.match(delivered[5].message, /held up \(the queue was full\); 1 line was lost meanwhile/);
  faults.raise(FAULT_OPEN, enospc);
  faults.clear(FAULT_OPEN);
  await tick();
  assert.deepEqual(delivered.slice(6).map((w) => w.code), ['TCPINFO_LOG_OPEN_FAILED', 'TCPINFO_WRITE_RECOVERED']);
  assert.match(delivered[7].message, /; no line was lost$/);
});

test('raiseNow: delivered before it returns (the process dies before the next tick), and once', () => {
  const { faults, delivered } = reports();
  faults.raiseNow(LINES_LOST, undefined, LOST);
  faults.raiseNow(LINES_LOST, undefined, LOST);
  assert.deepEqual(delivered.map((w) => w.code), ['TCPINFO_LINES_LOST']);
  assert.match(delivered[0].message, /^tcpinfo: 4213 lines /);
});

test('a report is delivered on the next tick, never in the caller\'s stack', async () => {
  const { faults, delivered } = reports();
  faults.raise(QUEUE_FULL, undefined);
  assert.equal(delivered.length, 0);
  await tick();
  assert.equal(delivered.length, 1);
});

test('every kind has its code; the message names the file, the cause and what bears on it', () => {
  const eacces = Object.assign(new Error('denied'), { code: 'EACCES' });
  assert.deepEqual(KINDS.map((k) => warningOf(k, eacces, CONTEXT, LOST).code), [
    'TCPINFO_LOG_OPEN_FAILED', 'TCPINFO_WRITE_FAILED', 'TCPINFO_ROLL_FAILED', 'TCPINFO_QUEUE_FULL', 'TCPINFO_RETENTION_FAILED',
    'TCPINFO_LINES_LOST',
  ]);
  assert.equal(new Set(Object.values(WARNING_CODES)).size, KINDS.length);
  for (const kind of KINDS) {
    const w = warningOf(kind, eacces, CONTEXT, LOST);
    assert.match(w.message, /^tcpinfo: .*\/var\/log\/t\.log/);
    assert.equal(w.cause, eacces);
    if (kind !== QUEUE_FULL) assert.match(w.message, /\(EACCES\)/);
  }
  assert.match(warningOf(FAULT_OPEN, eacces, CONTEXT).message, /opening .* 5000 lines wait .* every 250 ms/);
  assert.match(warningOf(FAULT_WRITE, eacces, CONTEXT).message, /writing .* 5000 lines wait/);
  assert.match(warningOf(FAULT_ROLL, eacces, CONTEXT).message, /lines still go to it, .* every 250 ms/);
  assert.match(warningOf(QUEUE_FULL, undefined, CONTEXT).message, /is full \(5000 lines or 1234 bytes\)/);
  assert.match(warningOf(FAULT_RETENTION, eacces, CONTEXT).message, /--rolling-max-count=7/);
  assert.equal(warningOf(LINES_LOST, undefined, CONTEXT, LOST).message,
    'tcpinfo: 4213 lines queued for /var/log/t.log are lost: SIGTERM ends the process, and they were not written within 1003 ms');
  assert.match(warningOf(FAULT_WRITE, new Error('the write took no bytes'), CONTEXT).message, /\(the write took no bytes\)/,
    'no code: the message');
});
