/**
 * What --explain keeps per transaction from txn_start to its verdict: start and header times, the baseline reading,
 * what the hand-off adds. Only for transactions chosen at txn_start, in a WeakMap per logger keyed by the request (a
 * property would change every request's shape: tcpinfo/endpoints.ts).
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { Http2Exchange, type Transaction } from '../events.js';
import type { PendingDelivery } from './delivery.js';
import { routeOf } from './route.js';
import { appEndUs, backlogUs, nowUs, timeTransaction } from './timeline.js';
import { readingFromStruct, transactionTiming, type TransactionTiming, type TxnReading } from './transaction-timing.js';
import type { Verdict } from './verdict.js';

/** A transaction with its verdict: its columns, as its log line has them. */
export interface ExplainedTransaction {
  readonly timing: TransactionTiming;
  readonly verdict: Verdict;
  /** The framework's route template (route.ts), for JSON lines with --log-url; undefined where there is none. */
  readonly route?: string;
}

export interface TransactionState {
  readonly startUs: number;
  headerUs: number;
  /** The TCP_INFO reading at txn_start; null when the read failed (or the transaction was under way at attach). */
  readonly base: TxnReading | null;
  /** Whether the transaction's verdict goes to the log (decided at txn_start); else it is judged for the metrics only. */
  readonly logged: boolean;
  /** --slow-ms of the logger that explains it. */
  readonly slowMs: number;
  /** The connection's bytesWritten at txn_start: what Node wrote for the response is the growth at the hand-off. */
  readonly startBytesWritten: number;
  readonly hasBody: boolean;
  /** The framework's route template, taken with the headers (route.ts). */
  route: string | undefined;
  /** Set at the hand-off; NaN before. */
  handoffUs: number;
  respBytes: number;
  /** Set at the verdict: what the log line and the metrics got, for requestTcpInfo after it. */
  closed: ExplainedTransaction | null;
  /** The transaction, for requestTcpInfo's columns so far (the state lives no longer than its request). */
  readonly txn: Transaction;
}

/** The readings of a transaction whose hand-off could not be read: nothing known. */
const NOT_READ: TxnReading = readingFromStruct(Buffer.alloc(0), 0);

/** Whether the request has a body (an upload to time). */
function hasBody(txn: Transaction): boolean {
  if (txn instanceof Http2Exchange) return txn.method === 'POST' || txn.method === 'PUT' || txn.method === 'PATCH';
  const headers = (txn.req as IncomingMessage | undefined)?.headers;
  if (headers === undefined) return false;
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function bytesWritten(socket: Socket): number {
  const n = socket.bytesWritten;
  return typeof n === 'number' ? n : NaN;
}

/** The verdict of a transaction whose follow-up `p` ended (or, for requestTcpInfo, so far: `p` null, `now` the reading now). */
export function explain(state: TransactionState, txn: Transaction, p: PendingDelivery | null, now?: TxnReading): ExplainedTransaction {
  const us = nowUs();
  const handoff = p?.handoff ?? now ?? NOT_READ;
  const timing = transactionTiming(
    {
      base: state.base,
      handoff,
      last: p?.last ?? handoff,
      startUs: state.startUs,
      headerUs: state.headerUs,
      endUs: appEndUs(txn),
      handoffUs: p?.handoffUs ?? us,
      lastUs: p?.lastUs ?? us,
      deliveredUs: p?.deliveredUs ?? NaN,
      ended: p?.ended ?? 'gave_up',
      hasBody: state.hasBody,
      backlogUs: backlogUs(txn),
      sampledUs: p?.sampledUs ?? 0,
      wndLimitedUs: p?.wndLimitedUs ?? 0,
      respBytes: state.respBytes,
      shared: txn instanceof Http2Exchange && txn.shared,
      http2: txn instanceof Http2Exchange,
    },
    state.slowMs,
  );
  return { timing, verdict: timing.verdict, route: state.route ?? routeOf(txn.req) };
}

/** For requestTcpInfo: the transaction's columns so far, from the struct just read (`length` bytes). */
export function explainSoFar(state: TransactionState, txn: Transaction, bytes: Buffer, length: number): ExplainedTransaction {
  return explain(state, txn, null, readingFromStruct(bytes, Math.max(0, length)));
}

/** Every TransactionStates in use (one per logger with --explain), for requestTcpInfo to look a request up in. */
const explainers = new Set<TransactionStates>();

/** For requestTcpInfo: a request's transaction as some logger explains it (a logged one over one for the metrics only). */
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
  begin(txn: Transaction, socket: Socket, bytes: Buffer, length: number, logged: boolean): void {
    timeTransaction(txn);
    const base = length < 0 ? null : readingFromStruct(bytes, length);
    this.add(txn, logged, nowUs(), base, bytesWritten(socket), hasBody(txn));
  }

  /** A transaction already under way when the logger was attached: judged `unknown` (no start, no baseline). */
  beginLate(txn: Transaction, logged: boolean): void {
    this.add(txn, logged, NaN, null, NaN, false);
  }

  private add(txn: Transaction, logged: boolean, startUs: number, base: TxnReading | null, startBytesWritten: number, body: boolean): void {
    const state: TransactionState = {
      startUs, headerUs: NaN, base, logged, slowMs: this.slowMs, startBytesWritten, hasBody: body, route: undefined,
      handoffUs: NaN, respBytes: NaN, closed: null, txn,
    };
    this.states.set(txn.req, state);
  }

  /** The response's headers were written: its state, when this logger explains it. */
  headers(req: object): TransactionState | undefined {
    const state = this.states.get(req);
    if (state !== undefined && Number.isNaN(state.headerUs)) {
      state.headerUs = nowUs();
      state.route = routeOf(req);
    }
    return state;
  }

  get(req: object): TransactionState | undefined {
    return this.states.get(req);
  }

  /** The hand-off (txn_close): what Node wrote for the response. */
  handoff(state: TransactionState, socket: Socket): void {
    state.handoffUs = nowUs();
    state.respBytes = bytesWritten(socket) - state.startBytesWritten;
  }
}
