/**
 * What --explain keeps for a transaction between its txn_start and its txn_close: when it started, when
 * its headers were written, and the baseline TCP_INFO reading. Only for the transactions chosen at their
 * txn_start (all of them with --metrics --explain), in a WeakMap keyed by the request (see endpoints.ts:
 * a property would change the request's shape for every request), so it goes with the request.
 */
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { readingFromStruct, transactionTiming, type TransactionTiming, type TxnReading } from './transaction-timing.js';
import { verdictOf, type Verdict } from './verdict.js';

export interface TransactionState {
  readonly startUs: number;
  headerUs: number;
  /** The TCP_INFO reading at txn_start; null when the read failed. */
  readonly base: TxnReading | null;
  /** Whether the transaction's txn_close goes to the log (decided at txn_start); else it is read for the metrics only. */
  readonly logged: boolean;
  /** --slow-ms of the logger that explains it. */
  readonly slowMs: number;
  /** Set at txn_close: what the log line and the metrics got, for requestTcpInfo after it. */
  closed: { timing: TransactionTiming; verdict: Verdict } | null;
}

const states = new WeakMap<IncomingMessage, TransactionState>();

/** Microseconds on the monotonic clock the timings are taken on. */
export function nowUs(): number {
  return performance.now() * 1000;
}

/**
 * A transaction starts, with the struct just read into `bytes` (`length` bytes, -1 when the read failed).
 * The first logger that explains it keeps it: one decision per transaction.
 */
export function beginTransaction(req: IncomingMessage, bytes: Buffer, length: number, logged: boolean, slowMs: number): void {
  const existing = states.get(req);
  if (existing !== undefined && (existing.logged || !logged)) return;
  states.set(req, { startUs: nowUs(), headerUs: NaN, base: length < 0 ? null : readingFromStruct(bytes, length), logged, slowMs, closed: null });
}

/** The response's headers were written. */
export function markHeaders(req: IncomingMessage): void {
  const state = states.get(req);
  if (state !== undefined && Number.isNaN(state.headerUs)) state.headerUs = nowUs();
}

export function transactionState(req: IncomingMessage): TransactionState | undefined {
  return states.get(req);
}

/** The transaction's timings from its start to now, with the struct just read (`length` bytes, -1: none), and its verdict. */
export function timingNow(
  state: TransactionState,
  bytes: Buffer,
  length: number,
): { timing: TransactionTiming; verdict: Verdict } {
  const close = readingFromStruct(bytes, length < 0 ? 0 : length);
  const timing = transactionTiming(length < 0 ? null : state.base, close, { startUs: state.startUs, headerUs: state.headerUs, closeUs: nowUs() });
  return { timing, verdict: verdictOf(timing, state.slowMs) };
}

/** The transaction closes (txn_close), with the struct just read: its timings and verdict, kept for requestTcpInfo. */
export function closeTransaction(state: TransactionState, bytes: Buffer, length: number): { timing: TransactionTiming; verdict: Verdict } {
  return (state.closed ??= timingNow(state, bytes, length));
}
