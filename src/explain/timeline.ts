/**
 * The app's side of a transaction's timeline, for --explain: when the app ended the response (`end()`), and how
 * long before that it waited for Node's backlog to drain (a write that returned false, until 'drain'). Time
 * before end() with no backlog is the server's (thinking, producing); time waiting on a drain is the transfer's.
 *
 * HTTP/1: ServerResponse.prototype's end and write, wrapped once by the first explaining logger, pass through a
 * response nobody times (one WeakMap look-up at end(), none at a write that returned true). HTTP/2: the stream's
 * end and write are wrapped where its other events come from (hooks), which keep the times on the exchange.
 */
import { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Http2Exchange, type Transaction } from '../events.js';
import { sampleUntilHandoff } from './delivery.js';

/** Microseconds on the monotonic clock every explain time is taken on. */
export function nowUs(): number {
  return performance.now() * 1000;
}

/** An HTTP/1 response's times, while some logger times it. */
interface ResponseTimes {
  endUs: number;
  backlogUs: number;
  /** When the current backlog began; NaN when there is none. */
  backlogSince: number;
}

const timed = new WeakMap<ServerResponse, ResponseTimes>();

type Write = (this: ServerResponse, ...args: unknown[]) => boolean;
type End = (this: ServerResponse, ...args: unknown[]) => ServerResponse;
let originalWrite: Write | null = null;
let originalEnd: End | null = null;

function installWrappers(): void {
  if (originalWrite !== null) return;
  const proto = ServerResponse.prototype as unknown as { write: Write; end: End };
  originalWrite = proto.write;
  originalEnd = proto.end;
  proto.write = function writeTimed(this: ServerResponse): boolean {
    // eslint-disable-next-line prefer-rest-params -- passes on exactly the arguments it came with
    const ok = Reflect.apply(originalWrite!, this, arguments) as boolean;
    if (!ok) backlogBegins(this);
    return ok;
  };
  proto.end = function endTimed(this: ServerResponse): ServerResponse {
    const times = timed.get(this);
    if (times !== undefined && Number.isNaN(times.endUs)) {
      times.endUs = nowUs();
      if (!Number.isNaN(times.backlogSince)) drained.call(this);
    }
    // eslint-disable-next-line prefer-rest-params -- passes on exactly the arguments it came with
    const result = Reflect.apply(originalEnd!, this, arguments) as ServerResponse;
    // Node still holds part of the response: its transfer until the hand-off is sampled (delivery.ts).
    if (times !== undefined && (this.writableLength > 0 || (this.socket?.writableLength ?? 0) > 0)) sampleUntilHandoff(this.socket, this, false);
    return result;
  };
}

function backlogBegins(res: ServerResponse): void {
  const times = timed.get(res);
  if (times === undefined || !Number.isNaN(times.backlogSince) || !Number.isNaN(times.endUs)) return;
  times.backlogSince = nowUs();
  res.once('drain', drained);
}

function drained(this: ServerResponse): void {
  const times = timed.get(this);
  if (times === undefined || Number.isNaN(times.backlogSince)) return;
  times.backlogUs += nowUs() - times.backlogSince;
  times.backlogSince = NaN;
}

/** Start timing the app's side of `txn` (at its txn_start). */
export function timeTransaction(txn: Transaction): void {
  if (txn instanceof Http2Exchange) {
    // Its end() is seen by the tap, not here: sampled from now, counted from then.
    sampleUntilHandoff(txn.socket, txn, true);
    return;
  }
  installWrappers();
  if (!timed.has(txn)) timed.set(txn, { endUs: NaN, backlogUs: 0, backlogSince: NaN });
}

/** When the app ended `txn`'s response (NaN when not seen: Node answered it, or it was cut short). */
export function appEndUs(txn: Transaction): number {
  if (txn instanceof Http2Exchange) return txn.appEndUs;
  return timed.get(txn)?.endUs ?? NaN;
}

/** Time the app waited on a drain before ending `txn` (one still under way counts to now). */
export function backlogUs(txn: Transaction): number {
  if (txn instanceof Http2Exchange) return txn.backlogUs + (Number.isNaN(txn.backlogSince) ? 0 : nowUs() - txn.backlogSince);
  const times = timed.get(txn);
  if (times === undefined) return 0;
  return times.backlogUs + (Number.isNaN(times.backlogSince) ? 0 : nowUs() - times.backlogSince);
}
