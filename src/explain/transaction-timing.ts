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

const spec = (name: keyof TxnReading): FieldSpec => fieldSpec(name)!;
const TOTAL_RETRANS = spec('total_retrans');
const BUSY_TIME = spec('busy_time');
const RWND_LIMITED = spec('rwnd_limited');
const SNDBUF_LIMITED = spec('sndbuf_limited');
const BYTES_SENT = spec('bytes_sent');
const BYTES_RETRANS = spec('bytes_retrans');
const NOTSENT_BYTES = spec('notsent_bytes');
const UNACKED = spec('unacked');
const RTT = spec('rtt');
const MIN_RTT = spec('min_rtt');

/** A field of the struct, NaN when the kernel did not return it. */
function field(s: FieldSpec, bytes: Buffer, length: number): number {
  return decodeField(s, bytes, length) ?? NaN;
}

/** An empty reading: every field NaN (not known). */
export function emptyReading(): TxnReading {
  return {
    total_retrans: NaN, busy_time: NaN, rwnd_limited: NaN, sndbuf_limited: NaN, bytes_sent: NaN,
    bytes_retrans: NaN, notsent_bytes: NaN, unacked: NaN, rtt: NaN, min_rtt: NaN,
  };
}

/** The reading's fields from a raw struct of `length` bytes, as one object literal (one shape: no keyed stores per field). */
export function readingFromStruct(bytes: Buffer, length: number): TxnReading {
  return {
    total_retrans: field(TOTAL_RETRANS, bytes, length),
    busy_time: field(BUSY_TIME, bytes, length),
    rwnd_limited: field(RWND_LIMITED, bytes, length),
    sndbuf_limited: field(SNDBUF_LIMITED, bytes, length),
    bytes_sent: field(BYTES_SENT, bytes, length),
    bytes_retrans: field(BYTES_RETRANS, bytes, length),
    notsent_bytes: field(NOTSENT_BYTES, bytes, length),
    unacked: field(UNACKED, bytes, length),
    rtt: field(RTT, bytes, length),
    min_rtt: field(MIN_RTT, bytes, length),
  };
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

/** A delta between two readings of a counter that only grows; NaN when either is unknown. */
function delta(after: number, before: number): number {
  return after >= before ? after - before : NaN;
}

/**
 * The columns from the baseline (read at txn_start; null when not read) and the txn_close reading; whole microseconds.
 * Times are on one monotonic clock, in microseconds; `headerUs` NaN when the headers never were written (then ttfb is
 * the whole duration).
 */
export function transactionTiming(base: TxnReading | null, close: TxnReading, startUs: number, headerUs: number, closeUs: number): TransactionTiming {
  const duration = Math.max(0, Math.round(closeUs - startUs));
  const ttfb = Number.isNaN(headerUs) ? duration : Math.min(duration, Math.max(0, Math.round(headerUs - startUs)));
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
