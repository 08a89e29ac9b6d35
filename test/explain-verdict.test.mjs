// The verdict rule table and the transaction timings on their own (pure functions, no sockets): every
// rule, its threshold on both sides, and the deltas from two readings.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DEFAULT_SLOW_MS,
  MIN_TRANSFER_US,
  verdictOf,
  verdictRule,
} from '../dist/explain/verdict.js';
import { emptyReading, readingFromStruct, transactionTiming } from '../dist/explain/transaction-timing.js';

/** A slow transaction (500 ms: 10 ms ttfb, 490 ms transfer) with nothing dominating; override what a case needs. */
function txn(over = {}) {
  return {
    baseline: true,
    ttfb_us: 10_000,
    duration_us: 500_000,
    txn_retrans: 0,
    txn_busy_us: 200_000,
    txn_rwnd_limited_us: 50_000,
    txn_sndbuf_limited_us: 0,
    txn_app_limited_us: 100_000,
    rtt_us: 300,
    min_rtt_us: 50,
    ...over,
  };
}
const TRANSFER = 490_000;

test('the default transaction judged by nothing dominant is mixed', () => {
  assert.equal(verdictRule(txn()), 'mixed');
  assert.equal(verdictOf(txn()), 'mixed');
});

test('unknown: no baseline, or no chronographs (kernel before 4.10); both before every other rule', () => {
  assert.equal(verdictRule(txn({ baseline: false, duration_us: 10 })), 'no-baseline');
  assert.equal(verdictRule(txn({ txn_busy_us: NaN, duration_us: 10 })), 'no-chronographs');
  assert.equal(verdictOf(txn({ baseline: false })), 'unknown');
  assert.equal(verdictOf(txn({ txn_busy_us: NaN })), 'unknown');
});

test('ok: duration below --slow-ms (default 100), strictly', () => {
  assert.equal(DEFAULT_SLOW_MS, 100);
  assert.equal(verdictOf(txn({ duration_us: 99_999, ttfb_us: 90_000 })), 'ok');
  assert.equal(verdictOf(txn({ duration_us: 100_000, ttfb_us: 90_000 })), 'server');
  assert.equal(verdictOf(txn({ duration_us: 40_000, ttfb_us: 30_000 }), 50), 'ok');
  assert.equal(verdictOf(txn({ duration_us: 40_000, ttfb_us: 30_000 }), 30), 'server');
  assert.equal(verdictOf(txn({ duration_us: 0, ttfb_us: 0 }), 0), 'server');
});

test('server by ttfb: at least half of the duration, before the client and network rules', () => {
  assert.equal(verdictRule(txn({ ttfb_us: 250_000, txn_rwnd_limited_us: 250_000 })), 'ttfb');
  assert.equal(verdictRule(txn({ ttfb_us: 249_999, duration_us: 500_000, txn_rwnd_limited_us: 250_001 })), 'rwnd');
});

test('below MIN_TRANSFER_US of transfer: judged from ttfb and retransmissions alone', () => {
  assert.equal(MIN_TRANSFER_US, 20_000);
  const short = { duration_us: 35_000, ttfb_us: 16_000, txn_rwnd_limited_us: 19_000, txn_busy_us: 19_000 };
  assert.equal(verdictRule(txn(short), 30), 'short');
  assert.equal(verdictOf(txn(short), 30), 'mixed');
  assert.equal(verdictRule(txn({ ...short, txn_retrans: 1 }), 30), 'short-retrans');
  assert.equal(verdictOf(txn({ ...short, txn_retrans: 1 }), 30), 'network');
  // Exactly MIN_TRANSFER_US of transfer is judged by the chronographs.
  assert.equal(verdictRule(txn({ duration_us: 36_000, ttfb_us: 16_000, txn_rwnd_limited_us: 10_000 }), 30), 'rwnd');
});

test('client: receive window limited at least half of the transfer', () => {
  assert.equal(verdictOf(txn({ txn_rwnd_limited_us: TRANSFER / 2, txn_busy_us: 400_000 })), 'client');
  assert.equal(verdictRule(txn({ txn_rwnd_limited_us: TRANSFER / 2 - 1, txn_busy_us: TRANSFER / 2 - 1 })), 'mixed');
});

test('network: network-limited (busy - rwnd - sndbuf) at least half of the transfer', () => {
  assert.equal(verdictRule(txn({ txn_busy_us: 50_000 + TRANSFER / 2, txn_rwnd_limited_us: 50_000 })), 'network-limited');
  assert.equal(verdictRule(txn({ txn_busy_us: 50_000 + TRANSFER / 2 - 1, txn_rwnd_limited_us: 50_000 })), 'mixed');
  // sndbuf-limited time is not the network's.
  assert.equal(
    verdictRule(txn({ txn_busy_us: 300_000, txn_rwnd_limited_us: 0, txn_sndbuf_limited_us: 100_000, txn_app_limited_us: 0 })),
    'mixed',
  );
});

test('network: retransmissions with network-limited time at least a quarter of the transfer', () => {
  const quarter = { txn_busy_us: 50_000 + TRANSFER / 4, txn_rwnd_limited_us: 50_000 };
  assert.equal(verdictRule(txn({ ...quarter, txn_retrans: 3 })), 'retrans');
  assert.equal(verdictRule(txn(quarter)), 'mixed');
  assert.equal(verdictRule(txn({ txn_busy_us: 50_000 + TRANSFER / 4 - 1, txn_rwnd_limited_us: 50_000, txn_retrans: 3 })), 'mixed');
});

test('network: rtt above 4 x min_rtt + 10 ms (queueing); the floor keeps loopback RTTs out', () => {
  assert.equal(verdictRule(txn({ rtt_us: 4 * 50 + 10_001 })), 'queueing');
  assert.equal(verdictRule(txn({ rtt_us: 4 * 50 + 10_000 })), 'mixed');
  assert.equal(verdictRule(txn({ rtt_us: 48_000, min_rtt_us: 300 })), 'queueing');
  // 20x min_rtt on loopback is still microseconds: not queueing.
  assert.equal(verdictRule(txn({ rtt_us: 1_000, min_rtt_us: 50 })), 'mixed');
  // Unknown rtt is no evidence.
  assert.equal(verdictRule(txn({ rtt_us: NaN })), 'mixed');
});

test('server by app: app-limited plus sndbuf-limited at least half of the transfer', () => {
  const base = { txn_busy_us: 250_000, txn_rwnd_limited_us: 0, txn_sndbuf_limited_us: 100_000 };
  assert.equal(verdictRule(txn({ ...base, txn_app_limited_us: TRANSFER / 2 - 100_000 })), 'app');
  assert.equal(verdictOf(txn({ ...base, txn_app_limited_us: TRANSFER / 2 - 100_000 })), 'server');
  assert.equal(verdictRule(txn({ ...base, txn_app_limited_us: TRANSFER / 2 - 100_001 })), 'mixed');
});

test('first match wins: client before network, network before app', () => {
  // Both the receive window and the app account for half: the client rule comes first.
  assert.equal(verdictOf(txn({ txn_rwnd_limited_us: 300_000, txn_busy_us: 300_000, txn_app_limited_us: 300_000 })), 'client');
  assert.equal(verdictOf(txn({ txn_busy_us: 300_000, txn_rwnd_limited_us: 0, txn_app_limited_us: 300_000 })), 'network');
});

function reading(over = {}) {
  return { ...emptyReading(), ...over };
}

test('timings: ttfb, duration, and the deltas of the counters between the two readings', () => {
  const base = reading({
    total_retrans: 2, busy_time: 1_000, rwnd_limited: 100, sndbuf_limited: 10, bytes_sent: 5_000, bytes_retrans: 1_000,
    notsent_bytes: 0, unacked: 0, rtt: 40, min_rtt: 20,
  });
  const close = reading({
    total_retrans: 5, busy_time: 301_000, rwnd_limited: 200_100, sndbuf_limited: 10, bytes_sent: 1_005_000, bytes_retrans: 3_000,
    notsent_bytes: 20_000, unacked: 7, rtt: 900, min_rtt: 20,
  });
  const t = transactionTiming(base, close, 1_000.4, 11_000.2, 411_000.6);
  assert.deepEqual(t, {
    baseline: true,
    ttfb_us: 10_000,
    duration_us: 410_000,
    resp_bytes: 998_000 + 20_000,
    txn_retrans: 3,
    txn_busy_us: 300_000,
    txn_rwnd_limited_us: 200_000,
    txn_sndbuf_limited_us: 0,
    txn_app_limited_us: 100_000,
    unsent_bytes: 20_000,
    unacked_segs: 7,
    rtt_us: 900,
    min_rtt_us: 20,
  });
  assert.equal(verdictOf(t), 'client');
});

test('timings: no baseline leaves the deltas unknown (verdict unknown); no header makes ttfb the duration', () => {
  const close = reading({ busy_time: 5, total_retrans: 0, notsent_bytes: 3, unacked: 1, rtt: 10, min_rtt: 5 });
  const t = transactionTiming(null, close, 0, NaN, 200_000);
  assert.equal(t.baseline, false);
  assert.equal(t.ttfb_us, 200_000);
  assert.ok(Number.isNaN(t.txn_busy_us) && Number.isNaN(t.txn_retrans) && Number.isNaN(t.resp_bytes) && Number.isNaN(t.txn_app_limited_us));
  assert.equal(t.unsent_bytes, 3);
  assert.equal(verdictOf(t), 'unknown');
});

test('timings: a kernel without chronographs (struct shorter than busy_time) gives unknown', () => {
  const short = Buffer.alloc(280);
  short.writeUInt32LE(9, 100); // total_retrans
  const r = readingFromStruct(short, 168); // 4.9's length: up to delivery_rate
  assert.equal(r.total_retrans, 9);
  assert.ok(Number.isNaN(r.busy_time) && Number.isNaN(r.bytes_sent));
  const t = transactionTiming(r, r, 0, 1_000, 300_000);
  assert.equal(verdictRule(t), 'no-chronographs');
});

test('timings: a counter that went backwards (another connection read) is unknown, not negative', () => {
  const t = transactionTiming(reading({ busy_time: 10 }), reading({ busy_time: 5 }), 0, 0, 1);
  assert.ok(Number.isNaN(t.txn_busy_us));
});
