/**
 * The verdict of a slow transaction: was the time spent in the server, the network or the client?
 * One rule table, first match wins, from the transaction's own timings and the kernel's chronographs
 * (see docs/explain.md, which states these thresholds as the code has them).
 *
 * The chronographs (Linux 4.10+): `busy_time` is the time with data in flight or queued and includes
 * `rwnd_limited` (the peer's receive window stopped the sender) and `sndbuf_limited` (the send buffer
 * was too small to keep the pipe full). What is left, busy - rwnd_limited - sndbuf_limited, is the time
 * the network itself limited the sender (congestion window, loss recovery). Transfer time when the
 * sender was not busy at all is the app's: it did not feed the socket.
 */

import { DEFAULT_SLOW_MS, type Verdict } from './verdict.js';

// The verdicts and --slow-ms's default are the model's (verdict.ts); the old rule table gives the same six.
export { DEFAULT_SLOW_MS, VERDICTS, type Verdict } from './verdict.js';

/**
 * Which rule of the table decided: the verdict and why, so the CLI can say the evidence in words.
 *   no-chronographs  the kernel returned no busy_time (older than 4.10)     -> unknown
 *   no-baseline      TCP_INFO was not read at txn_start                      -> unknown
 *   fast             duration below --slow-ms                                -> ok
 *   ttfb             ttfb at least half of the duration                      -> server
 *   short-retrans    transfer under MIN_TRANSFER_US, with retransmissions    -> network
 *   short            transfer under MIN_TRANSFER_US, no retransmissions      -> mixed
 *   rwnd             receive window limited at least half of the transfer    -> client
 *   network-limited  network-limited at least half of the transfer           -> network
 *   retrans          retransmissions, network-limited at least a quarter     -> network
 *   queueing         rtt above 4 x min_rtt + 10 ms                           -> network
 *   app              app-limited + sndbuf-limited at least half the transfer -> server
 *   mixed            none of the above dominates                             -> mixed
 */
export type VerdictRule =
  | 'no-chronographs'
  | 'no-baseline'
  | 'fast'
  | 'ttfb'
  | 'short-retrans'
  | 'short'
  | 'rwnd'
  | 'network-limited'
  | 'retrans'
  | 'queueing'
  | 'app'
  | 'mixed';

const VERDICT_OF_RULE: Readonly<Record<VerdictRule, Verdict>> = {
  'no-chronographs': 'unknown',
  'no-baseline': 'unknown',
  fast: 'ok',
  ttfb: 'server',
  'short-retrans': 'network',
  short: 'mixed',
  rwnd: 'client',
  'network-limited': 'network',
  retrans: 'network',
  queueing: 'network',
  app: 'server',
  mixed: 'mixed',
};

export function verdictOfRule(rule: VerdictRule): Verdict {
  return VERDICT_OF_RULE[rule];
}

/**
 * Chronographs advance in kernel ticks (4 ms at HZ=250, 1 ms at HZ=1000): below about five ticks their deltas are mostly
 * rounding, so a shorter transfer is judged from ttfb and retransmissions alone.
 */
export const MIN_TRANSFER_US = 20_000;

/** Share of the transfer that makes a limit dominant (rules client, network, app): one half. */
export const DOMINANT_SHARE = 0.5;
/** With retransmissions, the network-limited share that is enough for `network`: one quarter. */
export const RETRANS_SHARE = 0.25;
/** Queueing: rtt above QUEUE_FACTOR x min_rtt + QUEUE_FLOOR_US (the floor keeps loopback's us RTTs out). */
export const QUEUE_FACTOR = 4;
export const QUEUE_FLOOR_US = 10_000;

/** What the rule table looks at. Times in microseconds; NaN when not known (not returned, or no txn_start baseline). */
export interface VerdictInput {
  /** Whether TCP_INFO was read at txn_start: without it there are no deltas. */
  readonly baseline: boolean;
  readonly ttfb_us: number;
  readonly duration_us: number;
  /** Retransmitted segments during the transaction (delta of total_retrans). */
  readonly txn_retrans: number;
  readonly txn_busy_us: number;
  readonly txn_rwnd_limited_us: number;
  readonly txn_sndbuf_limited_us: number;
  /** Transfer time the sender was not busy (the app did not feed the socket). */
  readonly txn_app_limited_us: number;
  /** Smoothed rtt and the connection's minimum rtt at txn_close. */
  readonly rtt_us: number;
  readonly min_rtt_us: number;
}

/** The transfer: from the response's headers to txn_close. */
export function transferUs(t: Pick<VerdictInput, 'duration_us' | 'ttfb_us'>): number {
  return Math.max(0, t.duration_us - t.ttfb_us);
}

/** Network-limited time: busy minus the receive-window- and send-buffer-limited parts (never below 0). */
export function networkLimitedUs(t: Pick<VerdictInput, 'txn_busy_us' | 'txn_rwnd_limited_us' | 'txn_sndbuf_limited_us'>): number {
  return Math.max(0, t.txn_busy_us - t.txn_rwnd_limited_us - t.txn_sndbuf_limited_us);
}

export function rttShowsQueueing(rttUs: number, minRttUs: number): boolean {
  return rttUs > QUEUE_FACTOR * minRttUs + QUEUE_FLOOR_US;
}

/** The rule of the table that decides this transaction (first match wins). */
export function verdictRule(t: VerdictInput, slowMs: number = DEFAULT_SLOW_MS): VerdictRule {
  if (!t.baseline) return 'no-baseline';
  if (Number.isNaN(t.txn_busy_us)) return 'no-chronographs';
  const duration = t.duration_us;
  if (duration < slowMs * 1000) return 'fast';
  if (t.ttfb_us >= DOMINANT_SHARE * duration) return 'ttfb';
  const transfer = transferUs(t);
  const retrans = t.txn_retrans > 0;
  if (transfer < MIN_TRANSFER_US) return retrans ? 'short-retrans' : 'short';
  if (t.txn_rwnd_limited_us >= DOMINANT_SHARE * transfer) return 'rwnd';
  const network = networkLimitedUs(t);
  if (network >= DOMINANT_SHARE * transfer) return 'network-limited';
  if (retrans && network >= RETRANS_SHARE * transfer) return 'retrans';
  if (rttShowsQueueing(t.rtt_us, t.min_rtt_us)) return 'queueing';
  if (t.txn_app_limited_us + t.txn_sndbuf_limited_us >= DOMINANT_SHARE * transfer) return 'app';
  return 'mixed';
}

export function verdictOf(t: VerdictInput, slowMs: number = DEFAULT_SLOW_MS): Verdict {
  return VERDICT_OF_RULE[verdictRule(t, slowMs)];
}
