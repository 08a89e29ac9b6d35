/**
 * Where the four Traffic Server events come from on a Node http/https server.
 *
 *   ssn_start      'connection' (http) or 'secureConnection' (https: once the TLS session is up)
 *   txn_start      'request' (the request's headers are in), prepended so it comes before the app's handler
 *   send_resp_hdr  the response's writeHead, explicit or implicit (Node's implicit header calls writeHead)
 *   txn_close      the response's 'close': finished, or aborted
 *   ssn_close      the socket's _destroy, which every way of closing goes through (client FIN, destroy(),
 *                  keep-alive timeout, server.close()), before it closes the fd: the totals are final
 *   periodic       a timer per consumer over the server's open connections (attach.ts)
 *
 * One set of listeners per server, installed by the first consumer and removed with the last. The
 * listeners are module-level functions that find the server's tap through `this` or the socket, so no
 * closure or wrapper is created per connection or per request.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import type { EventName } from '../config/types.js';

export const SSN_START = 0;
export const TXN_START = 1;
export const SEND_RESP_HDR = 2;
export const TXN_CLOSE = 3;
export const SSN_CLOSE = 4;
export const PERIODIC = 5;
export const EVENT_NAMES: readonly EventName[] = ['ssn_start', 'txn_start', 'send_resp_hdr', 'txn_close', 'ssn_close', 'periodic'];

export function eventBit(name: EventName): number {
  return 1 << EVENT_NAMES.indexOf(name);
}

/** Something that wants the events of a server: the logger, later metrics. */
export interface EventConsumer {
  /** Bit `1 << event` set for each event wanted. */
  readonly eventMask: number;
  /** True when it needs the set of open connections and their close (ssn_close, periodic reads). */
  readonly tracksSessions: boolean;
  /** Called synchronously at the event; must not throw. `res` is set for transaction events. */
  onEvent(event: number, socket: Socket, res: ServerResponse | null): void;
}

const kTap = Symbol('tcpinfo.serverTap');

interface ServerTap {
  consumers: EventConsumer[];
  mask: number;
  sessionEvent: 'connection' | 'secureConnection';
  /** Open connections seen since a consumer that tracks sessions arrived; null while none does. */
  sessions: Set<Socket> | null;
}

type TappedServer = Server & { [kTap]?: ServerTap };
type ServerSocket = Socket & { server?: TappedServer };

function dispatch(tap: ServerTap, event: number, socket: Socket, res: ServerResponse | null): void {
  const consumers = tap.consumers;
  for (let i = 0; i < consumers.length; i++) {
    const consumer = consumers[i];
    if ((consumer.eventMask & (1 << event)) !== 0) consumer.onEvent(event, socket, res);
  }
}

function onSession(this: TappedServer, socket: Socket): void {
  const tap = this[kTap];
  if (tap !== undefined) startSession(tap, socket);
}

/** A connection begins (or is first seen): track it where a consumer needs that, then ssn_start. */
function startSession(tap: ServerTap, socket: Socket): void {
  if (tap.sessions !== null) {
    tap.sessions.add(socket);
    // Same idea as writeHead below: an own property pointing at one shared function.
    (socket as SessionSocket)._destroy = destroyWithEvent;
  }
  if ((tap.mask & (1 << SSN_START)) !== 0) dispatch(tap, SSN_START, socket, null);
}

type SessionSocket = ServerSocket & { _destroy(err: Error | null, cb: (err: Error | null) => void): void };

function destroyWithEvent(this: SessionSocket, err: Error | null, cb: (err: Error | null) => void): void {
  const tap = this.server?.[kTap];
  if (tap !== undefined && tap.sessions !== null) {
    tap.sessions.delete(this);
    // The fd is still open here: the prototype's _destroy is what closes it.
    if ((tap.mask & (1 << SSN_CLOSE)) !== 0) dispatch(tap, SSN_CLOSE, this, null);
  }
  Object.getPrototypeOf(this)._destroy.call(this, err, cb);
}

function onRequest(this: TappedServer, req: IncomingMessage, res: ServerResponse): void {
  const tap = this[kTap];
  if (tap === undefined) return;
  const mask = tap.mask;
  if ((mask & (1 << TXN_START)) !== 0) dispatch(tap, TXN_START, req.socket, res);
  // An own property pointing at one shared function: no per-request closure. Node's implicit header
  // (write/end without writeHead) goes through this.writeHead too, so both paths are seen.
  if ((mask & (1 << SEND_RESP_HDR)) !== 0) res.writeHead = writeHeadWithEvent as ServerResponse['writeHead'];
  if ((mask & (1 << TXN_CLOSE)) !== 0) res.on('close', onResponseClose);
}

function tapOf(res: ServerResponse): ServerTap | undefined {
  return (res.req.socket as ServerSocket).server?.[kTap];
}

function writeHeadWithEvent(this: ServerResponse): ServerResponse {
  const first = !this.headersSent;
  // The prototype's writeHead, looked up now: frameworks (Express) swap the response's prototype.
  // It runs first so the event sees the status it set; nothing has gone to the socket yet either way.
  // eslint-disable-next-line prefer-rest-params
  const result = Reflect.apply(Object.getPrototypeOf(this).writeHead, this, arguments);
  if (first) {
    const tap = tapOf(this);
    if (tap !== undefined) dispatch(tap, SEND_RESP_HDR, this.req.socket, this);
  }
  return result;
}

function onResponseClose(this: ServerResponse): void {
  // res.socket is already detached here; the request keeps the connection's socket.
  const tap = tapOf(this);
  if (tap !== undefined) dispatch(tap, TXN_CLOSE, this.req.socket, this);
}

/** Start delivering a server's events to `consumer`. */
export function addConsumer(server: Server, consumer: EventConsumer): void {
  const tapped = server as TappedServer;
  let tap = tapped[kTap];
  if (tap === undefined) {
    tap = {
      consumers: [],
      mask: 0,
      sessionEvent: server instanceof TlsServer ? 'secureConnection' : 'connection',
      sessions: null,
    };
    tapped[kTap] = tap;
    server.on(tap.sessionEvent, onSession);
    server.prependListener('request', onRequest);
  }
  tap.consumers = [...tap.consumers, consumer];
  tap.mask |= consumer.eventMask;
  if (consumer.tracksSessions && tap.sessions === null) tap.sessions = new Set();
}

/** The server's open connections (those seen since a session-tracking consumer arrived). */
export function openSessions(server: Server): ReadonlySet<Socket> {
  return (server as TappedServer)[kTap]?.sessions ?? EMPTY;
}
const EMPTY: ReadonlySet<Socket> = new Set();

/** Stop delivering to `consumer`; the last one out removes the server's listeners. */
export function removeConsumer(server: Server, consumer: EventConsumer): void {
  const tapped = server as TappedServer;
  const tap = tapped[kTap];
  if (tap === undefined) return;
  tap.consumers = tap.consumers.filter((c) => c !== consumer);
  tap.mask = tap.consumers.reduce((mask, c) => mask | c.eventMask, 0);
  if (!tap.consumers.some((c) => c.tracksSessions)) tap.sessions = null;
  if (tap.consumers.length === 0) {
    server.removeListener(tap.sessionEvent, onSession);
    server.removeListener('request', onRequest);
    delete tapped[kTap];
  }
}
