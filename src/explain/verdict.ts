/**
 * The verdict of a transaction, judged at delivery: its time split into the server's, the client's and the
 * network's shares (summing to the judged time), then the largest share, or `mixed` when a second cause is
 * large too. Pure: the transaction's times and the kernel's accounting come in, the shares go out. The model,
 * side by side with M-Lab NDT's triage, and every threshold as this file has it: docs/explain.md.
 *
 *   txn_start --(upload)--(server: think, produce)--> end() --(transfer)--> hand-off --(drain)--> delivered
 *
 * server   the app's time before end() with no backlog in Node (a slow producer stays the server's), and the
 *          time the send buffer limited the sender
 * client   the upload (the request body's arrival), the receive window (the chronograph, or the window samples
 *          where BBR's pacing hides it), data HTTP/2 flow control held in Node
 * network  the rest of the transfer: round trips, loss recovery, congestion-limited time
 */

/** What a transaction's verdict can be. */
export type Verdict = 'unknown' | 'ok' | 'server' | 'client' | 'network' | 'mixed';

/** Every verdict. */
export const VERDICTS: readonly Verdict[] = ['unknown', 'ok', 'server', 'client', 'network', 'mixed'];

/** How the follow-up of a transaction after its hand-off ended. */
export type DeliveryEnd = 'acked' | 'closed' | 'gave_up';
export const DELIVERY_ENDS: readonly DeliveryEnd[] = ['acked', 'closed', 'gave_up'];

/** `--slow-ms`'s default: a transaction judged shorter than this is `ok`. */
export const DEFAULT_SLOW_MS = 100;
/** `mixed` when the second-largest share is at least this part of the judged time. */
export const SECOND_CAUSE_SHARE = 1 / 3;
/** The longest client delayed ACK allowed for (Linux's is 40 ms, others' up to 200 ms). */
export const ACK_DELAY_MAX_US = 200_000;
/** A cause takes part in the evidence from this share of the judged time on. */
export const EVIDENCE_SHARE = 0.1;

/** What the judgement looks at. Times in microseconds from txn_start; NaN when not known. */
export interface JudgeInput {
  /** TCP_INFO was read at txn_start: without it there are no deltas. */
  readonly baseline: boolean;
  /** The end of the judged time: the last byte acknowledged (delivered), or the last reading when delivery was not seen. */
  readonly until_us: number;
  /** The client's delayed ACK taken off until_us. */
  readonly ack_delay_us: number;
  /** When the app ended the response (NaN: not seen, then the hand-off). */
  readonly end_us: number;
  /** The hand-off: Node gave the response's last byte to the kernel (txn_close). */
  readonly handoff_us: number;
  /** The request body's arrival, from txn_start; 0 without a body. */
  readonly upload_us: number;
  /** Time before end() the app waited for Node's backlog to drain. */
  readonly backlog_us: number;
  /** HTTP/2: time Node held the ended stream's data while the connection had nothing in flight (flow control). */
  readonly flow_held_us: number;
  /** Chronograph deltas over the transaction (NaN without chronographs, Linux < 4.10). */
  readonly busy_us: number;
  readonly rwnd_limited_us: number;
  readonly sndbuf_limited_us: number;
  /** Time the samples found the client's window full with data waiting (snd_wnd below the congestion window). */
  readonly wnd_limited_us: number;
}

export interface Judgement {
  /** until_us less the delayed ACK: about the client's time from sending the request to receiving the last byte. */
  readonly judged_us: number;
  readonly server_us: number;
  readonly client_us: number;
  readonly network_us: number;
  readonly verdict: Verdict;
}

const UNKNOWN: Judgement = { judged_us: NaN, server_us: NaN, client_us: NaN, network_us: NaN, verdict: 'unknown' };

function clamp(n: number, low: number, high: number): number {
  return Number.isNaN(n) ? low : Math.min(high, Math.max(low, n));
}

/** The judged time split into its three shares, and the verdict. */
export function judge(t: JudgeInput, slowMs: number = DEFAULT_SLOW_MS): Judgement {
  if (!t.baseline || Number.isNaN(t.until_us)) return UNKNOWN;
  const judged = Math.max(0, Math.round(t.until_us - clamp(t.ack_delay_us, 0, ACK_DELAY_MAX_US)));
  const end = clamp(Number.isNaN(t.end_us) ? t.handoff_us : t.end_us, 0, judged);
  const upload = clamp(t.upload_us, 0, end);
  const backlog = clamp(t.backlog_us, 0, end - upload);
  const think = end - upload - backlog;
  const transfer = judged - think - upload;
  const flow = clamp(t.flow_held_us, 0, transfer);
  const rest = transfer - flow;
  let clientShare = 0;
  let sndbufShare = 0;
  const busy = t.busy_us;
  if (busy > 0) {
    clientShare = clamp(t.rwnd_limited_us / busy, 0, 1);
    sndbufShare = clamp(t.sndbuf_limited_us / busy, 0, 1 - clientShare);
  }
  // BBR paces below the receive window, so its chronograph under-counts it: the samples stand in.
  if (t.wnd_limited_us > 0 && rest > 0) clientShare = Math.max(clientShare, clamp(t.wnd_limited_us / rest, 0, 1 - sndbufShare));
  const client = Math.round(upload + flow + rest * clientShare);
  const server = Math.round(think + rest * sndbufShare);
  const network = Math.max(0, judged - client - server);
  let verdict: Verdict;
  if (Number.isNaN(busy)) verdict = 'unknown';
  else if (judged < slowMs * 1000) verdict = 'ok';
  else verdict = largestShare(server, client, network, judged);
  return { judged_us: judged, server_us: server, client_us: client, network_us: network, verdict };
}

/** The largest of the three shares, or `mixed` when the second is at least SECOND_CAUSE_SHARE of the whole. */
export function largestShare(server: number, client: number, network: number, judged: number): Verdict {
  const sorted = [server, client, network].sort((a, b) => b - a);
  if (sorted[1] >= SECOND_CAUSE_SHARE * judged) return 'mixed';
  if (sorted[0] === server) return 'server';
  return sorted[0] === client ? 'client' : 'network';
}
