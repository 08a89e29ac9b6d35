/**
 * What --explain keeps per transaction from txn_start to txn_close: start and header times and the baseline reading. Only
 * for transactions chosen at txn_start (all with --metrics --explain), in a WeakMap per logger keyed by the request (a
 * property would change every request's shape: tcpinfo/endpoints.ts).
 */
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { readingFromStruct, transactionTiming, type TransactionTiming, type TxnReading } from './transaction-timing.js';
import { verdictOf, type Verdict } from './verdict.js';

/** A transaction at its txn_close: its columns and verdict, as its log line has them. */
export interface ExplainedTransaction {
  readonly timing: TransactionTiming;
  readonly verdict: Verdict;
}

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
  closed: ExplainedTransaction | null;
}

/** Microseconds on the monotonic clock the timings are taken on. */
export function nowUs(): number {
  return performance.now() * 1000;
}

/** The transaction's timings from its start to now, with the struct just read (`length` bytes; -1: the read failed), and its verdict. */
export function timingNow(state: TransactionState, bytes: Buffer, length: number): ExplainedTransaction {
  const close = readingFromStruct(bytes, length < 0 ? 0 : length);
  const timing = transactionTiming(length < 0 ? null : state.base, close, state.startUs, state.headerUs, nowUs());
  return { timing, verdict: verdictOf(timing, state.slowMs) };
}

/** Every TransactionStates in use (one per logger with --explain), for requestTcpInfo to look a request up in. */
const explainers = new Set<TransactionStates>();

/** For requestTcpInfo: a request's transaction as some logger explains it (a logged one over one read for the metrics only). */
export function publishedTransaction(req: IncomingMessage): TransactionState | undefined {
  let found: TransactionState | undefined;
  for (const explainer of explainers) {
    const state = explainer.get(req);
    if (state !== undefined && (found === undefined || (state.logged && !found.logged))) found = state;
  }
  return found;
}

/** One logger's transactions under way (each logger decides for itself). */
export class TransactionStates {
  /** By request: an http IncomingMessage, or an HTTP/2 stream's exchange (its own request side). */
  private readonly states = new WeakMap<object, TransactionState>();

  constructor(private readonly slowMs: number) {
    explainers.add(this);
  }

  /** Its logger is closed: requestTcpInfo no longer looks here. */
  dispose(): void {
    explainers.delete(this);
  }

  /** A transaction starts, with the struct just read into `bytes` (`length` bytes, -1 when the read failed). */
  begin(req: object, bytes: Buffer, length: number, logged: boolean): void {
    const state: TransactionState = {
      startUs: nowUs(),
      headerUs: NaN,
      base: length < 0 ? null : readingFromStruct(bytes, length),
      logged,
      slowMs: this.slowMs,
      closed: null,
    };
    this.states.set(req, state);
  }

  /** The response's headers were written. */
  headers(req: object): void {
    const state = this.states.get(req);
    if (state !== undefined && Number.isNaN(state.headerUs)) state.headerUs = nowUs();
  }

  get(req: object): TransactionState | undefined {
    return this.states.get(req);
  }

  /** The txn_close of a transaction under way before this logger was attached: no start time, no baseline (unknown). */
  closeUnstarted(bytes: Buffer, length: number): ExplainedTransaction {
    return timingNow({ startUs: NaN, headerUs: NaN, base: null, logged: true, slowMs: this.slowMs, closed: null }, bytes, length);
  }

  /** The transaction closes (txn_close), with the struct just read: its timings and verdict, kept for requestTcpInfo. */
  close(state: TransactionState, bytes: Buffer, length: number): ExplainedTransaction {
    return (state.closed ??= timingNow(state, bytes, length));
  }
}
