/**
 * requestTcpInfo(req): for the app's own request logger (pino-http's customProps, a morgan token), the
 * connection's TCP_INFO fields of interest now (one getsockopt), and with --explain the transaction's
 * columns so far (or, once judged, the ones its verdict line has) and its verdict.
 */
import type { IncomingMessage } from 'node:http';
import { rawInfo, readRaw } from '../tcpinfo/read.js';
import { decodeField, fieldSpec, type FieldSpec } from '../tcpinfo/layout.js';
import { explainSoFar, publishedTransaction } from './transaction-state.js';
import { EXPLAIN_NUMBER_COLUMNS } from './transaction-timing.js';
import type { DeliveryEnd, Verdict } from './verdict.js';

/** The fields requestTcpInfo reads, by their kernel names (units as the kernel's: see docs/api.md). */
const FIELDS = [
  'rtt', 'rttvar', 'min_rtt', 'snd_cwnd', 'total_retrans', 'delivery_rate', 'busy_time', 'rwnd_limited',
  'sndbuf_limited', 'notsent_bytes', 'unacked', 'bytes_acked', 'bytes_received',
] as const;
const SPECS: readonly FieldSpec[] = FIELDS.map((name) => fieldSpec(name)!);

/** A transaction's --explain columns so far, and its verdict so far (final once `pending` is false). */
export type RequestTransaction = { [K in (typeof EXPLAIN_NUMBER_COLUMNS)[number]]: number | null } & {
  /**
   * True until the transaction is judged (its last byte acknowledged, or its follow-up ended): until then the columns
   * and the verdict are what is known now, as if it ended now. An app's request logger, which runs at the response's
   * end, before delivery, sees it pending.
   */
  readonly pending: boolean;
  /** How the follow-up ended (`gave_up` while pending). */
  readonly ended: DeliveryEnd;
  readonly shared: boolean;
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
 * not return one), and with --explain the transaction's columns; null when the connection is closed or
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
    const { timing, verdict } = state.closed ?? explainSoFar(state, state.txn, rawInfo, length);
    const columns: Record<string, unknown> = {};
    for (const name of EXPLAIN_NUMBER_COLUMNS) columns[name] = known(timing[name]);
    columns.pending = state.closed === null;
    columns.ended = timing.ended;
    columns.shared = timing.shared;
    columns.verdict = verdict;
    transaction = columns as RequestTransaction;
  }
  info.transaction = transaction;
  return info as RequestTcpInfo;
}
