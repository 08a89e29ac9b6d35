/**
 * The events a line can carry, by Traffic Server name and by number, and what wants them: the leaf that
 * the hooks (hooks/), its consumers (attach.ts, metrics/) and the option parser (config/) share.
 */
import type { Server, ServerResponse } from 'node:http';
import type { Http2SecureServer, Http2Server } from 'node:http2';
import type { Socket } from 'node:net';

/** The points of an HTTP transaction at which TCP_INFO can be read, by their Traffic Server names. */
export const HOOK_NAMES = ['ssn_start', 'txn_start', 'send_resp_hdr', 'txn_close', 'ssn_close'] as const;
export type HookName = (typeof HOOK_NAMES)[number];
/** Every event a line can carry: the hooks, `periodic` (on when `updatePeriod` > 0) and, with `--explain`, the
 * transaction's `txn_delivered` (its last byte acknowledged by the client, or the follow-up's end: docs/explain.md). */
export const EVENT_NAMES = [...HOOK_NAMES, 'periodic', 'txn_delivered'] as const;
export type EventName = (typeof EVENT_NAMES)[number];

// The events by number: indices into EVENT_NAMES.
export const SSN_START = 0;
export const TXN_START = 1;
export const SEND_RESP_HDR = 2;
export const TXN_CLOSE = 3;
export const SSN_CLOSE = 4;
export const PERIODIC = 5;
export const TXN_DELIVERED = 6;

/** The bit of an event in an EventConsumer's eventMask. */
export function eventBit(name: EventName): number {
  return 1 << EVENT_NAMES.indexOf(name);
}

/** Something that wants the events of a server: the logger (attach.ts), the metrics. */
export interface EventConsumer {
  /** Bit `1 << event` set for each event wanted. */
  readonly eventMask: number;
  /** True when it needs the set of open connections and their close (ssn_close, periodic reads). */
  readonly tracksSessions: boolean;
  /** Called synchronously at the event; must not throw. `res` is set for transaction events: the ServerResponse (HTTP/1)
   * or the stream's Http2Exchange (HTTP/2). */
  onEvent(event: number, socket: Socket, res: Transaction | null): void;
}

/** The servers the tap takes: http and https, and HTTP/2's (h2c and TLS, with or without allowHTTP1). */
export type AnyServer = Server | Http2Server | Http2SecureServer;

/** A transaction as consumers see it: an HTTP/1 response, or an HTTP/2 stream's exchange. */
export type Transaction = ServerResponse | Http2Exchange;

/**
 * `res` for an HTTP/2 stream (one per stream, made by hooks/http2.ts): what consumers read of a ServerResponse
 * (`statusCode`, `req.method`, `req.url`) and the stream's id. `statusCode` is null until the headers are out (a stream
 * reset before any response has none). Tell the kinds apart with `res instanceof Http2Exchange`.
 */
export class Http2Exchange {
  statusCode: number | null = null;
  /** Its txn_close has been dispatched (or was not wanted). */
  closed = false;
  /** For --explain: when the app ended the stream (end(), or respond() with endStream), on explain's clock; NaN before. */
  appEndUs = NaN;
  /** For --explain: time the app waited on the stream's drain before ending it, and when the current wait began. */
  backlogUs = 0;
  backlogSince = NaN;
  /** Another stream of its connection was open during it: the connection's counters are shared. */
  shared = false;
  constructor(
    /** The session's TCP socket. */
    readonly socket: Socket,
    readonly streamId: number,
    readonly method: string | undefined,
    readonly url: string | undefined,
  ) {}

  /** The request side, as ServerResponse has it: the same object (method and url are here). */
  get req(): this {
    return this;
  }
}
