// The rule table of the logs written before verdicts were judged at delivery (txn_close lines with a verdict),
// which `tcpinfo explain` still reads: every rule, its threshold on both sides (pure functions, no sockets).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DEFAULT_SLOW_MS,
  MIN_TRANSFER_US,
  verdictOf,
  verdictRule,
} from '../dist/explain/legacy-verdict.js';

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
