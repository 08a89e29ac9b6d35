/**
 * Delivery by position, for --explain: after a response's hand-off (txn_close) its last byte sits at a known offset
 * of the connection's outgoing stream (bytes sent, less retransmitted, plus not yet sent); it is delivered when the
 * kernel's bytes_acked passes that offset. A later keep-alive response, a pipelined one or sibling HTTP/2 streams
 * sent behind it do not hide it. Follow-up reads decide: the first about one srtt after the hand-off, then further
 * apart, capped in count and time; the acknowledgement's time is refined with last_ack_recv. Each read also samples
 * whether the client's window held the sender (transaction-timing.ts's windowLimited).
 *
 * One timer and one heap for every follow-up of the process, bounded globally: past MAX_PENDING a transaction is
 * judged at once, as `gave_up`. Nothing is held past the connection's close (its ssn_close ends the follow-ups there).
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { beginEvent, closeOwnedFd, duplicateFd, readForEvent, readOwnedFd, type Reading } from '../tcpinfo/read.js';
import type { Http2Exchange, Transaction } from '../events.js';
import { unwatchProcessEnd, watchProcessEnd } from '../lifecycle/process-end.js';
import { nowUs } from './timeline.js';
import { readingFromStruct, streamEnd, windowLimited, type TxnReading } from './transaction-timing.js';
import type { DeliveryEnd } from './verdict.js';

/** Follow-ups under way in the process at most; more are judged at their hand-off (`gave_up`). */
export const MAX_PENDING = 8192;
/** A follow-up gives up after this long (a client that stopped reading) ... */
export const MAX_FOLLOW_US = 30_000_000;
/** ... or this many reads. */
export const MAX_FOLLOW_READS = 200;
/** The first read comes one srtt after the hand-off, at least this long; each next one 1.5 times further, at most
 * MAX_STEP_US apart (so a long transfer is sampled through). */
export const MIN_STEP_US = 1000;
export const MAX_STEP_US = 100_000;
const STEP_GROWTH = 1.5;

/** Who followed a transaction: told once when its delivery is decided, with the reading taken then (null: none). */
export interface DeliveryOwner {
  delivered(p: PendingDelivery, reading: Reading | null): void;
}

export class PendingDelivery {
  /** The response's last byte's offset in the connection's outgoing stream, plus one. */
  readonly target: number;
  readonly handoffUs: number;
  reads = 0;
  stepUs: number;
  dueUs: number;
  heapIndex = -1;
  /** The connection's other follow-ups (keep-alive, pipelined, HTTP/2 streams), for its close. */
  nextOnSocket: PendingDelivery | null = null;
  last: TxnReading;
  lastUs: number;
  deliveredUs = NaN;
  ended: DeliveryEnd | null = null;
  sampledUs = 0;
  wndLimitedUs = 0;
  /** After the app closed the connection while the kernel still delivered: a duplicate of its fd, read instead. */
  fd = -1;

  constructor(
    readonly owner: DeliveryOwner,
    readonly socket: Socket,
    readonly txn: Transaction,
    /** The owner's own state for the transaction. */
    readonly state: unknown,
    readonly handoff: TxnReading,
    handoffUs: number,
  ) {
    this.handoffUs = handoffUs;
    this.lastUs = handoffUs;
    this.last = handoff;
    this.target = streamEnd(handoff);
    this.stepUs = Math.max(MIN_STEP_US, Number.isNaN(handoff.rtt) ? 0 : handoff.rtt);
    this.dueUs = handoffUs + this.stepUs;
  }
}

/** Connections followed past their close through a duplicated fd, at most (each holds the kernel's socket open). */
export const MAX_HELD_FDS = 1024;
let heldFds = 0;

/**
 * Whether `r` shows the bytes up to `target` acknowledged; or nothing at all left unacknowledged or unsent, which says
 * the same whatever the target: a retransmission the sender's own qdisc dropped counts in bytes_sent and not in
 * bytes_retrans, so the target can lie past the stream's real end.
 */
function acked(r: TxnReading, target: number): boolean {
  return r.bytes_acked >= target || (r.unacked === 0 && r.notsent_bytes === 0);
}

/** Process-wide counts, for the bench and tests: transactions followed past their hand-off, their reads, the most at once. */
const counts = { followed: 0, reads: 0, mostPending: 0 };

/**
 * The transfer before the hand-off, sampled the same way from the app's end() (HTTP/1) or the stream's start
 * (HTTP/2, counted from its end()): until the hand-off Node holds part of the response, and what holds it is
 * either the kernel (full: its window samples tell whether the client's window held the sender, which BBR's
 * pacing hides from the chronograph) or, for HTTP/2, the peer's flow-control window (the kernel has nothing
 * waiting: windowLimited's meaning, one layer up). Without these a transfer handed off late was judged on its
 * tail's samples only.
 */
export class TransferSampler {
  dueUs: number;
  heapIndex = -1;
  stepUs = MIN_STEP_US;
  reads = 0;
  lastUs: number;
  sampledUs = 0;
  wndLimitedUs = 0;
  done = false;

  constructor(
    readonly socket: Socket,
    readonly txn: Transaction,
    readonly http2: boolean,
    us: number,
  ) {
    this.lastUs = us;
    this.dueUs = us + MIN_STEP_US;
  }
}

/** Reads of a transfer before its hand-off at most (then it is judged on what it had). */
export const MAX_SAMPLER_READS = 400;

// The follow-ups and samplers, as a binary min-heap on dueUs.
type Entry = PendingDelivery | TransferSampler;
const heap: Entry[] = [];
const samplers = new WeakMap<Transaction, TransferSampler>();
const bySocket = new WeakMap<Socket, PendingDelivery>();
let timer: NodeJS.Timeout | null = null;
let timerDueUs = Infinity;

function swap(i: number, j: number): void {
  const a = heap[i];
  heap[i] = heap[j];
  heap[j] = a;
  heap[i].heapIndex = i;
  heap[j].heapIndex = j;
}

function siftUp(i: number): void {
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heap[parent].dueUs <= heap[i].dueUs) return;
    swap(i, parent);
    i = parent;
  }
}

function siftDown(i: number): void {
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < heap.length && heap[l].dueUs < heap[m].dueUs) m = l;
    if (r < heap.length && heap[r].dueUs < heap[m].dueUs) m = r;
    if (m === i) return;
    swap(i, m);
    i = m;
  }
}

function removeFromHeap(p: Entry): void {
  const i = p.heapIndex;
  if (i < 0) return;
  p.heapIndex = -1;
  const lastEntry = heap.pop()!;
  if (i < heap.length) {
    heap[i] = lastEntry;
    lastEntry.heapIndex = i;
    siftDown(i);
    siftUp(i);
  }
}

function schedule(): void {
  if (heap.length === 0) {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    timerDueUs = Infinity;
    return;
  }
  const due = heap[0].dueUs;
  if (timer !== null && timerDueUs <= due) return;
  if (timer !== null) clearTimeout(timer);
  timerDueUs = due;
  timer = setTimeout(onTimer, Math.max(1, Math.ceil((due - nowUs()) / 1000))).unref();
}

function onTimer(): void {
  timer = null;
  timerDueUs = Infinity;
  const now = nowUs();
  // Bounded: each entry is read once per pass, and re-enters due at least MIN_STEP_US later.
  for (let n = heap.length; n > 0 && heap.length > 0 && heap[0].dueUs <= now + 500; n--) {
    const p = heap[0];
    removeFromHeap(p);
    if (p instanceof PendingDelivery) followUp(p);
    else sampleTransfer(p);
  }
  schedule();
}

function unlinkFromSocket(p: PendingDelivery): void {
  const head = bySocket.get(p.socket);
  if (head === p) {
    if (p.nextOnSocket === null) bySocket.delete(p.socket);
    else bySocket.set(p.socket, p.nextOnSocket);
  } else {
    for (let q: PendingDelivery | null = head ?? null; q !== null; q = q.nextOnSocket) {
      if (q.nextOnSocket === p) {
        q.nextOnSocket = p.nextOnSocket;
        break;
      }
    }
  }
  p.nextOnSocket = null;
}

function finish(p: PendingDelivery, ended: DeliveryEnd, reading: Reading | null): void {
  removeFromHeap(p);
  if (p.fd >= 0) releaseFd(p);
  else unlinkFromSocket(p);
  p.ended = ended;
  p.owner.delivered(p, reading);
}

/** When the last ACK came: last_ack_recv ms (the kernel's ticks) before the reading `r` taken at `us`. */
function lastAckUs(r: TxnReading, us: number): number {
  return Number.isNaN(r.last_ack_recv) ? us : us - r.last_ack_recv * 1000;
}

/** Take in a reading of the connection (the struct `reading`, taken at `us`): samples, and whether it shows delivery. */
function observe(p: PendingDelivery, reading: Reading, us: number): boolean {
  const r = readingFromStruct(reading.bytes, reading.length);
  const interval = us - p.lastUs;
  if (interval > 0) {
    p.sampledUs += interval;
    if (windowLimited(r)) p.wndLimitedUs += interval;
  }
  const previousUs = p.lastUs;
  p.last = r;
  p.lastUs = us;
  if (!acked(r, p.target)) return false;
  // The last ACK came after the read before this one.
  p.deliveredUs = Math.min(us, Math.max(lastAckUs(r, us), previousUs));
  return true;
}

function releaseFd(p: PendingDelivery): void {
  closeOwnedFd(p.fd);
  p.fd = -1;
  heldFds--;
}

/** A reading of the connection now: through the held fd after its close, else the socket's (null: closed, failed). */
function readNow(p: PendingDelivery): Reading | null {
  if (p.fd >= 0) return readOwnedFd(p.fd);
  if (p.socket.destroyed) return null;
  beginEvent();
  return readForEvent(p.socket);
}

function followUp(p: PendingDelivery): void {
  const reading = readNow(p);
  const now = nowUs();
  p.reads++;
  counts.reads++;
  if (reading === null) {
    finish(p, 'closed', null);
    return;
  }
  if (observe(p, reading, now)) {
    finish(p, 'acked', reading);
    return;
  }
  if (p.reads >= MAX_FOLLOW_READS || now - p.handoffUs >= MAX_FOLLOW_US) {
    finish(p, 'gave_up', reading);
    return;
  }
  p.stepUs = Math.min(MAX_STEP_US, p.stepUs * STEP_GROWTH);
  p.dueUs = now + p.stepUs;
  pushEntry(p);
}

function pushEntry(e: Entry): void {
  heap.push(e);
  e.heapIndex = heap.length - 1;
  siftUp(e.heapIndex);
}

/** Whether the app has ended the response (the sampler counts from then). */
function ended(t: TransferSampler): number {
  return t.http2 ? (t.txn as Http2Exchange).appEndUs : t.lastUs;
}

function handedOff(t: TransferSampler): boolean {
  return t.http2 ? (t.txn as Http2Exchange).closed : (t.txn as ServerResponse).writableFinished;
}

/**
 * HTTP/2, Node holding the ended stream's data: the kernel has none of it waiting, or holds less than a
 * congestion window in all (BBR paces a window's worth out over the round trip): the congestion control is not
 * what keeps the rest in Node, the peer's flow-control window is.
 */
function flowHeld(r: TxnReading): boolean {
  const queued = r.bytes_sent - r.bytes_retrans - r.bytes_acked + r.notsent_bytes;
  return r.notsent_bytes === 0 || queued < r.snd_cwnd * r.snd_mss;
}

function sampleTransfer(t: TransferSampler): void {
  if (t.done || t.socket.destroyed || handedOff(t) || t.reads >= MAX_SAMPLER_READS) {
    t.done = true;
    return;
  }
  beginEvent();
  const reading = readForEvent(t.socket);
  const now = nowUs();
  t.reads++;
  if (reading === null) {
    t.done = true;
    return;
  }
  const r = readingFromStruct(reading.bytes, reading.length);
  const endUs = ended(t);
  if (!Number.isNaN(endUs) && endUs <= t.lastUs) {
    const interval = now - t.lastUs;
    t.sampledUs += interval;
    if (windowLimited(r) || (t.http2 && flowHeld(r))) t.wndLimitedUs += interval;
    t.stepUs = Math.min(MAX_STEP_US, Math.max(MIN_STEP_US, Number.isNaN(r.rtt) ? 0 : r.rtt));
  } else {
    t.stepUs = Math.min(MAX_STEP_US, t.stepUs * STEP_GROWTH);
  }
  t.lastUs = now;
  t.dueUs = now + t.stepUs;
  pushEntry(t);
}

/**
 * Sample `txn`'s transfer until its hand-off: an HTTP/1 response from its end() (now), an HTTP/2 stream from its
 * start (its intervals counted once the app ended it). One sampler per transaction, whichever logger asks first.
 */
export function sampleUntilHandoff(socket: Socket | null, txn: Transaction, http2: boolean): void {
  if (socket === null || socket.destroyed || heap.length >= MAX_PENDING || samplers.has(txn)) return;
  const t = new TransferSampler(socket, txn, http2, nowUs());
  samplers.set(txn, t);
  pushEntry(t);
  schedule();
}

/** The hand-off: the transfer's samples so far join the follow-up's, and the sampling stops. */
function takeSamples(p: PendingDelivery): void {
  const t = samplers.get(p.txn);
  if (t === undefined) return;
  if (!t.done) {
    t.done = true;
    removeFromHeap(t);
  }
  p.sampledUs += t.sampledUs;
  p.wndLimitedUs += t.wndLimitedUs;
}

/**
 * A response was handed off (txn_close), with the connection's reading just taken (`reading`): follow it until its last
 * byte is acknowledged, or decide now (already acknowledged, the connection closing, too many follow-ups under way).
 */
export function followDelivery(owner: DeliveryOwner, socket: Socket, txn: Transaction, state: unknown, reading: Reading): void {
  const us = nowUs();
  const handoff = readingFromStruct(reading.bytes, reading.length);
  const p = new PendingDelivery(owner, socket, txn, state, handoff, us);
  takeSamples(p);
  if (acked(handoff, p.target)) {
    p.deliveredUs = Math.min(us, lastAckUs(handoff, us));
    p.ended = 'acked';
    owner.delivered(p, reading);
    return;
  }
  if (socket.destroyed || heap.length >= MAX_PENDING || Number.isNaN(handoff.bytes_acked)) {
    p.ended = socket.destroyed ? 'closed' : 'gave_up';
    owner.delivered(p, reading);
    return;
  }
  p.nextOnSocket = bySocket.get(socket) ?? null;
  bySocket.set(socket, p);
  pushEntry(p);
  counts.followed++;
  if (heap.length > counts.mostPending) counts.mostPending = heap.length;
  schedule();
}

/** The connection is closing, fd still open (its ssn_close, whose reading this shares): its follow-ups end now. */
export function connectionClosing(socket: Socket): void {
  let p: PendingDelivery | null = bySocket.get(socket) ?? null;
  if (p === null) return;
  bySocket.delete(socket);
  const reading = readForEvent(socket);
  const us = nowUs();
  // Closed after its write side was shut down (Connection: close, HTTP/1.0, a client's FIN): the kernel still delivers,
  // and its FIN follows the data. Followed on through a duplicate of the fd, which keeps the kernel's socket until then.
  const graceful = (socket as Socket & { writableFinished?: boolean }).writableFinished === true;
  while (p !== null) {
    const next: PendingDelivery | null = p.nextOnSocket;
    p.nextOnSocket = null;
    const delivered = reading !== null && observe(p, reading, us);
    if (!delivered && graceful && reading !== null && heldFds < MAX_HELD_FDS && p.heapIndex >= 0) {
      p.fd = duplicateFd(socket);
      if (p.fd >= 0) {
        heldFds++;
        p = next;
        continue;
      }
    }
    removeFromHeap(p);
    p.ended = delivered ? 'acked' : 'closed';
    p.owner.delivered(p, reading);
    p = next;
  }
  schedule();
}

/** End every follow-up of `owner` (its close, the process's end) as `gave_up`, with a reading taken now where one can be. */
export function giveUp(owner?: DeliveryOwner): void {
  for (const p of heap.filter((q): q is PendingDelivery => q instanceof PendingDelivery && (owner === undefined || q.owner === owner))) {
    const reading = readNow(p);
    if (reading !== null && observe(p, reading, nowUs())) finish(p, 'acked', reading);
    else finish(p, 'gave_up', reading);
  }
  schedule();
}

/** At the process's end, before the writers write out their queues: every follow-up's verdict line. */
const endTask = {
  first: true,
  flush(): Promise<void> {
    giveUp();
    return Promise.resolve();
  },
  flushUntil(): Promise<void> {
    giveUp();
    return Promise.resolve();
  },
  flushSync(): void {
    giveUp();
  },
  abandon(): void {},
};
let owners = 0;

/** A logger that follows deliveries is made: from the first, the process's end gives every follow-up its verdict. */
export function holdDeliveries(): void {
  if (owners++ === 0) watchProcessEnd(endTask);
}

/** Such a logger closed (after giveUp(itself)). */
export function releaseDeliveries(): void {
  if (--owners === 0) unwatchProcessEnd(endTask);
}

/** Transactions followed past their hand-off since the process started, their follow-up reads, the most at once. */
export function deliveryCounts(): { followed: number; reads: number; mostPending: number } {
  return { ...counts };
}

/** Follow-ups under way in the process (for stats and tests). */
export function pendingDeliveries(): number {
  let n = 0;
  for (const e of heap) if (e instanceof PendingDelivery) n++;
  return n;
}
