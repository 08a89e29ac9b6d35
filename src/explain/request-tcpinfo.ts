/**
 * requestTcpInfo(req): for the app's own request logger (pino-http's customProps, a morgan token), the
 * connection's TCP_INFO fields of interest now (one getsockopt), and with --explain the transaction's
 * timings so far (or, after its txn_close, the ones its log line has) and its verdict.
 */
import type { IncomingMessage } from 'node:http';
import { rawInfo, readRaw } from '../tcpinfo/read.js';
import { decodeField, fieldSpec, type FieldSpec } from '../tcpinfo/layout.js';
import { publishedTransaction, timingNow } from './transaction-state.js';
import type { TransactionTiming } from './transaction-timing.js';
import type { Verdict } from './verdict.js';

/** The fields requestTcpInfo reads, by their kernel names (units as the kernel's: see docs/api.md). */
const FIELDS = [
  'rtt', 'rttvar', 'min_rtt', 'snd_cwnd', 'total_retrans', 'delivery_rate', 'busy_time', 'rwnd_limited',
  'sndbuf_limited', 'notsent_bytes', 'unacked', 'bytes_acked', 'bytes_received',
] as const;
const SPECS: readonly FieldSpec[] = FIELDS.map((name) => fieldSpec(name)!);

/** A transaction's --explain columns so far, and its verdict so far (final once txn_close has passed). */
export type RequestTransaction = { [K in Exclude<keyof TransactionTiming, 'baseline' | 'rtt_us' | 'min_rtt_us'>]: number | null } & {
  /** Whether txn_close has passed: then these are the values of the transaction's log line. */
  readonly closed: boolean;
  readonly verdict: Verdict;
};

export type RequestTcpInfo = { [field in (typeof FIELDS)[number]]: number | null } & {
  /** With --explain, for a transaction explained (sampled at its txn_start); otherwise null. */
  readonly transaction: RequestTransaction | null;
};

/** null for what is not known (NaN in the timings), as JSON would have it. */
function known(n: number): number | null {
  return Number.isNaN(n) ? null : n;
}

/**
 * The connection's TCP_INFO fields of interest for the request `req`, read now (null where the kernel does
 * not return one), and with --explain the transaction's timings; null when the connection is closed or
 * TCP_INFO cannot be read here. Never throws.
 */
export function requestTcpInfo(req: IncomingMessage): RequestTcpInfo | null {
  const socket = req?.socket;
  if (socket == null) return null;
  const length = readRaw(socket);
  if (length < 0) return null;
  const info: Record<string, number | null | RequestTransaction> = {};
  for (let i = 0; i < FIELDS.length; i++) info[FIELDS[i]] = decodeField(SPECS[i], rawInfo, length) ?? null;
  const state = publishedTransaction(req);
  let transaction: RequestTransaction | null = null;
  if (state !== undefined) {
    const { timing, verdict } = state.closed ?? timingNow(state, rawInfo, length);
    transaction = {
      ttfb_us: known(timing.ttfb_us),
      duration_us: known(timing.duration_us),
      resp_bytes: known(timing.resp_bytes),
      txn_retrans: known(timing.txn_retrans),
      txn_busy_us: known(timing.txn_busy_us),
      txn_rwnd_limited_us: known(timing.txn_rwnd_limited_us),
      txn_sndbuf_limited_us: known(timing.txn_sndbuf_limited_us),
      txn_app_limited_us: known(timing.txn_app_limited_us),
      unsent_bytes: known(timing.unsent_bytes),
      unacked_segs: known(timing.unacked_segs),
      closed: state.closed !== null,
      verdict,
    };
  }
  info.transaction = transaction;
  return info as RequestTcpInfo;
}
