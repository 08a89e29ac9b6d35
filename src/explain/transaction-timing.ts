/**
 * A transaction's timings and the kernel's accounting for it, from two TCP_INFO readings: the baseline
 * at txn_start and the reading at txn_close. Pure: the readings and times come in, the columns go out.
 *
 *   txn_start ---- ttfb_us ----> send_resp_hdr ---- transfer ----> txn_close
 *   |<------------------------- duration_us ------------------------>|
 *
 * txn_close is when Node handed the response's last byte to the kernel: what the kernel still holds
 * then shows in unsent_bytes (not yet sent) and unacked_segs (sent, not yet acknowledged).
 */
import { decodeField, fieldSpec, type FieldSpec } from '../tcpinfo/layout.js';
import { transferUs, type VerdictInput } from './verdict.js';

/** The fields of one TCP_INFO reading that the timings need, by their kernel names; NaN when the kernel did not return one. */
export interface TxnReading {
  total_retrans: number;
  busy_time: number;
  rwnd_limited: number;
  sndbuf_limited: number;
  bytes_sent: number;
  bytes_retrans: number;
  notsent_bytes: number;
  unacked: number;
  rtt: number;
  min_rtt: number;
}

const READING_FIELDS = [
  'total_retrans', 'busy_time', 'rwnd_limited', 'sndbuf_limited', 'bytes_sent', 'bytes_retrans',
  'notsent_bytes', 'unacked', 'rtt', 'min_rtt',
] as const satisfies readonly (keyof TxnReading)[];
const READING_SPECS: readonly FieldSpec[] = READING_FIELDS.map((name) => fieldSpec(name)!);

/** An empty reading: every field NaN (not known). */
export function emptyReading(): TxnReading {
  return {
    total_retrans: NaN, busy_time: NaN, rwnd_limited: NaN, sndbuf_limited: NaN, bytes_sent: NaN,
    bytes_retrans: NaN, notsent_bytes: NaN, unacked: NaN, rtt: NaN, min_rtt: NaN,
  };
}

/** The reading's fields from a raw struct of `length` bytes, into `out` (a fresh one when not given). */
export function readingFromStruct(bytes: Buffer, length: number, out: TxnReading = emptyReading()): TxnReading {
  for (let i = 0; i < READING_SPECS.length; i++) {
    out[READING_FIELDS[i]] = decodeField(READING_SPECS[i], bytes, length) ?? NaN;
  }
  return out;
}

/** The columns `--explain` adds to a txn_close line (see docs/explain.md), with what the verdict needs. */
export interface TransactionTiming extends VerdictInput {
  /** Bytes the kernel took for this response: new bytes sent plus the growth of the not-yet-sent queue. */
  readonly resp_bytes: number;
  /** Bytes still queued in the kernel, not yet sent, at txn_close. */
  readonly unsent_bytes: number;
  /** Segments sent and not yet acknowledged at txn_close. */
  readonly unacked_segs: number;
}

/** Times of a transaction's events on one monotonic clock, in microseconds. */
export interface TransactionTimes {
  readonly startUs: number;
  /** When the response's headers were written; NaN when they never were (then ttfb is the whole duration). */
  readonly headerUs: number;
  readonly closeUs: number;
}

/** A delta between two readings of a counter that only grows; NaN when either is unknown. */
function delta(after: number, before: number): number {
  return after >= before ? after - before : NaN;
}

/** The columns from the baseline (read at txn_start; null when not read) and the txn_close reading; whole microseconds. */
export function transactionTiming(base: TxnReading | null, close: TxnReading, times: TransactionTimes): TransactionTiming {
  const duration = Math.max(0, Math.round(times.closeUs - times.startUs));
  const ttfb = Number.isNaN(times.headerUs) ? duration : Math.min(duration, Math.max(0, Math.round(times.headerUs - times.startUs)));
  const transfer = transferUs({ duration_us: duration, ttfb_us: ttfb });
  let busy = NaN;
  let rwnd = NaN;
  let sndbuf = NaN;
  let retrans = NaN;
  let bytes = NaN;
  if (base !== null) {
    busy = delta(close.busy_time, base.busy_time);
    rwnd = delta(close.rwnd_limited, base.rwnd_limited);
    sndbuf = delta(close.sndbuf_limited, base.sndbuf_limited);
    retrans = delta(close.total_retrans, base.total_retrans);
    const sentNew = delta(close.bytes_sent - close.bytes_retrans, base.bytes_sent - base.bytes_retrans);
    bytes = sentNew + close.notsent_bytes - base.notsent_bytes;
  }
  return {
    baseline: base !== null,
    ttfb_us: ttfb,
    duration_us: duration,
    resp_bytes: bytes,
    txn_retrans: retrans,
    txn_busy_us: busy,
    txn_rwnd_limited_us: rwnd,
    txn_sndbuf_limited_us: sndbuf,
    // Transfer time the sender had nothing in flight or queued: the app was not feeding the socket.
    txn_app_limited_us: Number.isNaN(busy) ? NaN : Math.max(0, transfer - busy),
    unsent_bytes: close.notsent_bytes,
    unacked_segs: close.unacked,
    rtt_us: close.rtt,
    min_rtt_us: close.min_rtt,
  };
}
