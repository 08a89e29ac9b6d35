/**
 * A transaction's --explain columns from its TCP_INFO readings (at txn_start, at the hand-off, at delivery) and
 * its times. Pure: readings and times come in, the columns go out (their meaning: docs/explain.md).
 *
 *   txn_start -- ttfb_us --> headers -- ... --> end_us (the app's end()) --> duration_us (hand-off, txn_close)
 *   ... follow-up reads ... --> delivered_us (the client acknowledged the response's last byte)
 */
import { decodeField, fieldSpec, type FieldSpec } from '../tcpinfo/layout.js';
import { ACK_DELAY_MAX_US, judge, type DeliveryEnd, type Verdict } from './verdict.js';

/** The fields of one TCP_INFO reading that the columns need, by their kernel names; NaN when the kernel did not return one. */
export interface TxnReading {
  total_retrans: number;
  busy_time: number;
  rwnd_limited: number;
  sndbuf_limited: number;
  bytes_sent: number;
  bytes_retrans: number;
  bytes_acked: number;
  notsent_bytes: number;
  rtt: number;
  min_rtt: number;
  dsack_dups: number;
  last_data_sent: number;
  last_data_recv: number;
  last_ack_recv: number;
  snd_wnd: number;
  snd_cwnd: number;
  snd_mss: number;
  unacked: number;
  sacked: number;
}

const spec = (name: keyof TxnReading): FieldSpec => fieldSpec(name)!;
const S = {
  total_retrans: spec('total_retrans'), busy_time: spec('busy_time'), rwnd_limited: spec('rwnd_limited'),
  sndbuf_limited: spec('sndbuf_limited'), bytes_sent: spec('bytes_sent'), bytes_retrans: spec('bytes_retrans'),
  bytes_acked: spec('bytes_acked'), notsent_bytes: spec('notsent_bytes'), rtt: spec('rtt'), min_rtt: spec('min_rtt'),
  dsack_dups: spec('dsack_dups'), last_data_sent: spec('last_data_sent'), last_data_recv: spec('last_data_recv'),
  last_ack_recv: spec('last_ack_recv'), snd_wnd: spec('snd_wnd'), snd_cwnd: spec('snd_cwnd'), snd_mss: spec('snd_mss'),
  unacked: spec('unacked'), sacked: spec('sacked'),
};

/** A field of the struct, NaN when the kernel did not return it. */
function field(s: FieldSpec, bytes: Buffer, length: number): number {
  return decodeField(s, bytes, length) ?? NaN;
}

/** The reading's fields from a raw struct of `length` bytes, as one object literal (one shape). */
export function readingFromStruct(bytes: Buffer, length: number): TxnReading {
  return {
    total_retrans: field(S.total_retrans, bytes, length),
    busy_time: field(S.busy_time, bytes, length),
    rwnd_limited: field(S.rwnd_limited, bytes, length),
    sndbuf_limited: field(S.sndbuf_limited, bytes, length),
    bytes_sent: field(S.bytes_sent, bytes, length),
    bytes_retrans: field(S.bytes_retrans, bytes, length),
    bytes_acked: field(S.bytes_acked, bytes, length),
    notsent_bytes: field(S.notsent_bytes, bytes, length),
    rtt: field(S.rtt, bytes, length),
    min_rtt: field(S.min_rtt, bytes, length),
    dsack_dups: field(S.dsack_dups, bytes, length),
    last_data_sent: field(S.last_data_sent, bytes, length),
    last_data_recv: field(S.last_data_recv, bytes, length),
    last_ack_recv: field(S.last_ack_recv, bytes, length),
    snd_wnd: field(S.snd_wnd, bytes, length),
    snd_cwnd: field(S.snd_cwnd, bytes, length),
    snd_mss: field(S.snd_mss, bytes, length),
    unacked: field(S.unacked, bytes, length),
    sacked: field(S.sacked, bytes, length),
  };
}

/** The byte offset, in the connection's outgoing stream, just past everything handed to the kernel so far. */
export function streamEnd(r: TxnReading): number {
  return r.bytes_sent - r.bytes_retrans + r.notsent_bytes;
}

/**
 * Whether the client's window held the sender: data waiting, and the window below the congestion window, so
 * it, not the congestion control, caps what a round trip carries. Not whether it is full at this instant: BBR
 * paces out each round trip's flight (at a rate it measured through that window), so a read finds it part full.
 */
export function windowLimited(r: TxnReading): boolean {
  // With segments SACKed (the client holds data past a hole, waiting for its retransmission) the window is taken by
  // the loss's out-of-order data: the network's, not the reader's.
  return r.notsent_bytes > 0 && r.snd_wnd < r.snd_cwnd * r.snd_mss && !(r.sacked > 0);
}

/** The numeric --explain columns, in their order on a line (format/columns.ts: EXPLAIN_COLUMNS). */
export const EXPLAIN_NUMBER_COLUMNS = [
  'ttfb_us', 'end_us', 'duration_us', 'delivered_us', 'judged_us', 'server_us', 'client_us', 'network_us', 'upload_us',
  'ack_delay_us', 'resp_bytes', 'txn_retrans', 'txn_busy_us', 'txn_rwnd_limited_us', 'txn_sndbuf_limited_us',
  'wnd_limited_us', 'flow_held_us', 'unsent_bytes', 'min_rtt_us',
] as const;

/** The --explain columns of a transaction's verdict line (docs/explain.md), with what the verdict needs. */
export interface TransactionTiming {
  /** TCP_INFO was read at txn_start. */
  readonly baseline: boolean;
  readonly ttfb_us: number;
  /** The app ended the response (NaN: not seen). */
  readonly end_us: number;
  /** The hand-off: txn_close. */
  readonly duration_us: number;
  /** The client acknowledged the last byte (NaN: not seen, see ended). */
  readonly delivered_us: number;
  readonly judged_us: number;
  readonly server_us: number;
  readonly client_us: number;
  readonly network_us: number;
  readonly upload_us: number;
  readonly ack_delay_us: number;
  /** Bytes Node wrote for the response (headers and framing included). */
  readonly resp_bytes: number;
  /** Retransmissions during the transaction, less those the client's DSACKs showed spurious. */
  readonly txn_retrans: number;
  readonly txn_busy_us: number;
  readonly txn_rwnd_limited_us: number;
  readonly txn_sndbuf_limited_us: number;
  readonly wnd_limited_us: number;
  readonly flow_held_us: number;
  /** Bytes in the kernel not yet sent at the hand-off. */
  readonly unsent_bytes: number;
  readonly rtt_us: number;
  readonly min_rtt_us: number;
  readonly ended: DeliveryEnd;
  /** HTTP/2: other streams shared the connection (its counters are theirs too). */
  readonly shared: boolean;
  readonly verdict: Verdict;
}

/** What a transaction brought together by its verdict: times on explain's clock (absolute, microseconds). */
export interface TransactionFacts {
  readonly base: TxnReading | null;
  readonly handoff: TxnReading;
  /** The last reading (at delivery, or the follow-up's end); the hand-off's when none followed. */
  readonly last: TxnReading;
  readonly startUs: number;
  readonly headerUs: number;
  readonly endUs: number;
  readonly handoffUs: number;
  /** When the last reading was taken. */
  readonly lastUs: number;
  /** When the last byte was acknowledged; NaN when not seen. */
  readonly deliveredUs: number;
  readonly ended: DeliveryEnd;
  readonly hasBody: boolean;
  readonly backlogUs: number;
  /** Sampled time after the hand-off, and the part of it the client's window held the sender. */
  readonly sampledUs: number;
  readonly wndLimitedUs: number;
  readonly respBytes: number;
  readonly shared: boolean;
  readonly http2: boolean;
}

/** A delta between two readings of a counter that only grows; NaN when either is unknown. */
function delta(after: number, before: number): number {
  return after >= before ? after - before : NaN;
}

function rel(us: number, startUs: number): number {
  return Number.isNaN(us) ? NaN : Math.max(0, Math.round(us - startUs));
}

/** The columns and verdict of a transaction. */
export function transactionTiming(f: TransactionFacts, slowMs: number): TransactionTiming {
  const { base, handoff, last, startUs } = f;
  const duration = rel(f.handoffUs, startUs);
  const ttfb = Number.isNaN(f.headerUs) ? duration : Math.min(duration, rel(f.headerUs, startUs));
  const end = Number.isNaN(f.endUs) ? NaN : Math.min(duration, rel(f.endUs, startUs));
  // last_ack_recv counts in jiffies (4 ms at HZ=250): an ACK seen at the hand-off's own read can be placed before the
  // app even ended the response, which its last byte cannot have been.
  const delivered = Math.max(rel(f.deliveredUs, startUs), Number.isNaN(end) ? ttfb : end);
  let busy = NaN;
  let rwnd = NaN;
  let sndbuf = NaN;
  let retrans = NaN;
  let upload = 0;
  if (base !== null) {
    busy = delta(last.busy_time, base.busy_time);
    rwnd = delta(last.rwnd_limited, base.rwnd_limited);
    sndbuf = delta(last.sndbuf_limited, base.sndbuf_limited);
    const dsack = delta(last.dsack_dups, base.dsack_dups);
    retrans = Math.max(0, delta(last.total_retrans, base.total_retrans) - (Number.isNaN(dsack) ? 0 : dsack));
    // The request body's last bytes reached the kernel last_data_recv ms before the hand-off's reading.
    if (f.hasBody && !Number.isNaN(handoff.last_data_recv)) upload = Math.max(0, Math.round(f.handoffUs - handoff.last_data_recv * 1000 - startUs));
  }
  const untilUs = f.ended === 'acked' ? delivered : rel(f.lastUs, startUs);
  // The last ACK came later than one round trip after the last data: the client delayed it (capped in judge()).
  let ackDelay = 0;
  if (f.ended === 'acked' && !Number.isNaN(last.last_data_sent)) {
    // last_data_sent counts in jiffies (4 ms at HZ=250) and can put the last data before the hand-off, taking
    // a round trip of the path for a delayed ACK; the response's last byte cannot leave before Node gave it.
    const lastDataUs = Math.max(f.handoffUs, f.lastUs - last.last_data_sent * 1000);
    const expected = Math.max(handoff.rtt, handoff.min_rtt, 0);
    ackDelay = Math.max(0, Math.round(f.deliveredUs - lastDataUs - expected));
  }
  const transferSpan = Math.max(0, untilUs - (Number.isNaN(end) ? duration : end));
  const wndLimited = f.sampledUs > 0 ? Math.round((f.wndLimitedUs / f.sampledUs) * transferSpan) : 0;
  // HTTP/2: after end(), time the connection had nothing in flight while the stream was still open: flow control.
  const flowHeld = f.http2 && !Number.isNaN(end) && !Number.isNaN(busy) ? Math.max(0, duration - end - busy) : 0;
  const j = judge(
    {
      baseline: base !== null, until_us: untilUs, ack_delay_us: ackDelay, end_us: end, handoff_us: duration,
      upload_us: upload, backlog_us: f.backlogUs, flow_held_us: flowHeld, busy_us: busy, rwnd_limited_us: rwnd,
      sndbuf_limited_us: sndbuf, wnd_limited_us: wndLimited,
    },
    slowMs,
  );
  return {
    baseline: base !== null,
    ttfb_us: ttfb,
    end_us: end,
    duration_us: duration,
    delivered_us: delivered,
    judged_us: j.judged_us,
    server_us: j.server_us,
    client_us: j.client_us,
    network_us: j.network_us,
    upload_us: base === null ? NaN : upload,
    ack_delay_us: f.ended === 'acked' ? Math.min(ackDelay, ACK_DELAY_MAX_US, j.judged_us) : NaN,
    resp_bytes: f.respBytes,
    txn_retrans: retrans,
    txn_busy_us: busy,
    txn_rwnd_limited_us: rwnd,
    txn_sndbuf_limited_us: sndbuf,
    wnd_limited_us: base === null ? NaN : wndLimited,
    flow_held_us: base === null ? NaN : flowHeld,
    unsent_bytes: handoff.notsent_bytes,
    rtt_us: last.rtt,
    min_rtt_us: last.min_rtt,
    ended: f.ended,
    shared: f.shared,
    verdict: j.verdict,
  };
}
