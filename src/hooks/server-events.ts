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
 *
 * A consumer that joins a server already serving (a middleware meets its server on the first request)
 * has missed the 'connection' of the connections already open, and the 'request' of the requests
 * under way. Such a late consumer gets a join ticket; from then on connections and requests are
 * stamped with the last ticket issued when they are seen, so at its first request an older connection
 * still gets its ssn_start ("first sight"), and a request under way can be caught up once
 * (catchUpRequest). Servers that only have consumers from before they listened pay nothing for this.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import type { EventName } from '../config/types.js';
import { beginEvent, keepFinalReading } from '../tcpinfo/read.js';

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
/** On a connection or a response: the last join ticket issued when its ssn_start or txn_start was dispatched. */
const kSeenAt = Symbol('tcpinfo.seenAt');

interface ServerTap {
  consumers: EventConsumer[];
  /** Each consumer's join ticket (same index); 0 for one that joined before the server had connections. */
  tickets: number[];
  mask: number;
  sessionEvent: 'connection' | 'secureConnection';
  /** Open connections seen since a consumer that tracks sessions arrived; null while none does. */
  sessions: Set<Socket> | null;
  /** The highest ticket among the consumers that joined late; 0 when none did (then nothing is stamped). */
  lateTicket: number;
}

type TappedServer = Server & { [kTap]?: ServerTap };
type ServerSocket = Socket & { server?: TappedServer; [kSeenAt]?: number };
type StampedResponse = ServerResponse & { [kSeenAt]?: number };

/** Join tickets, issued in order to the late consumers of every server. */
let lastTicket = 0;

function dispatch(tap: ServerTap, event: number, socket: Socket, res: ServerResponse | null): void {
  beginEvent();
  const consumers = tap.consumers;
  for (let i = 0; i < consumers.length; i++) {
    const consumer = consumers[i];
    if ((consumer.eventMask & (1 << event)) !== 0) consumer.onEvent(event, socket, res);
  }
}

/** Dispatches `event` to the consumers that joined late after `since`: those that missed it. */
function dispatchMissed(tap: ServerTap, event: number, since: number, socket: Socket, res: ServerResponse | null): void {
  beginEvent();
  const consumers = tap.consumers;
  const tickets = tap.tickets;
  for (let i = 0; i < consumers.length; i++) {
    const consumer = consumers[i];
    if (tickets[i] > since && (consumer.eventMask & (1 << event)) !== 0) consumer.onEvent(event, socket, res);
  }
}

function onSession(this: TappedServer, socket: ServerSocket): void {
  const tap = this[kTap];
  if (tap === undefined) return;
  if (tap.lateTicket !== 0) socket[kSeenAt] = lastTicket;
  startSession(tap, socket);
}

/** First sight of a connection opened before some consumer joined: it starts now, for them. */
function catchUpSession(tap: ServerTap, socket: ServerSocket): void {
  const since = socket[kSeenAt] ?? 0;
  socket[kSeenAt] = lastTicket;
  if (tap.sessions !== null && !tap.sessions.has(socket)) trackSession(tap.sessions, socket as SessionSocket);
  dispatchMissed(tap, SSN_START, since, socket, null);
}

/** A connection begins (or is first seen): track it where a consumer needs that, then ssn_start. */
function startSession(tap: ServerTap, socket: Socket): void {
  if (tap.sessions !== null) trackSession(tap.sessions, socket as SessionSocket);
  if ((tap.mask & (1 << SSN_START)) !== 0) dispatch(tap, SSN_START, socket, null);
}

/** Count a connection among the open ones, and see its close (ssn_close, periodic reads need both). */
function trackSession(sessions: Set<Socket>, socket: SessionSocket): void {
  // Node caches the addresses on first use; after the peer has gone (at ssn_close) getpeername fails.
  void socket.remotePort;
  void socket.localPort;
  sessions.add(socket);
  watchDestroy(socket);
}

/** Same idea as writeHead below: an own property pointing at one shared function, set once per connection. */
function watchDestroy(socket: SessionSocket): void {
  if (socket._destroy !== destroyWithEvent) socket._destroy = destroyWithEvent;
}

type SessionSocket = ServerSocket & {
  _destroy(err: Error | null, cb: (err: Error | null) => void): void;
  /** Responses on this connection whose txn_close has not come yet. */
  [kOpenTxns]?: number;
};
const kOpenTxns = Symbol('tcpinfo.openTransactions');

function destroyWithEvent(this: SessionSocket, err: Error | null, cb: (err: Error | null) => void): void {
  const tap = this.server?.[kTap];
  // A response still open (the client reset, or went away mid-response) gets its txn_close after the
  // fd is gone: keep the last reading for it while the fd is still here.
  if ((this[kOpenTxns] ?? 0) > 0) keepFinalReading(this);
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
  if (tap.lateTicket !== 0) {
    (res as StampedResponse)[kSeenAt] = lastTicket;
    if (((req.socket as ServerSocket)[kSeenAt] ?? 0) < tap.lateTicket) catchUpSession(tap, req.socket);
  }
  const mask = tap.mask;
  if ((mask & (1 << TXN_START)) !== 0) dispatch(tap, TXN_START, req.socket, res);
  // An own property pointing at one shared function: no per-request closure. Node's implicit header
  // (write/end without writeHead) goes through this.writeHead too, so both paths are seen.
  if ((mask & (1 << SEND_RESP_HDR)) !== 0) res.writeHead = writeHeadWithEvent as ServerResponse['writeHead'];
  if ((mask & (1 << TXN_CLOSE)) !== 0) watchResponseClose(req.socket as SessionSocket, res);
}

/** txn_close at the response's 'close'; the socket counts its open transactions until then. */
function watchResponseClose(socket: SessionSocket, res: ServerResponse): void {
  socket[kOpenTxns] = (socket[kOpenTxns] ?? 0) + 1;
  watchDestroy(socket);
  res.on('close', onResponseClose);
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
  if (first) headerWentOut(this);
  return result;
}

/** send_resp_hdr, once the response's first writeHead has run. */
function headerWentOut(res: ServerResponse): void {
  const tap = tapOf(res);
  if (tap !== undefined) dispatch(tap, SEND_RESP_HDR, res.req.socket, res);
}

function onResponseClose(this: ServerResponse): void {
  // res.socket is already detached here; the request keeps the connection's socket.
  const socket = this.req.socket as SessionSocket;
  const tap = tapOf(this);
  if (tap !== undefined) dispatch(tap, TXN_CLOSE, socket, this);
  socket[kOpenTxns] = (socket[kOpenTxns] ?? 1) - 1;
}

/**
 * Start delivering a server's events to `consumer`. `late`: connections and requests may already be
 * under way (the server is listening, or the consumer joins from inside a request); each connection
 * then starts for this consumer at first sight (its next request), and catchUpRequest brings it a
 * request already being handled.
 */
export function addConsumer(server: Server, consumer: EventConsumer, late: boolean = server.listening): void {
  const tapped = server as TappedServer;
  let tap = tapped[kTap];
  if (tap === undefined) {
    tap = {
      consumers: [],
      tickets: [],
      mask: 0,
      sessionEvent: server instanceof TlsServer ? 'secureConnection' : 'connection',
      sessions: null,
      lateTicket: 0,
    };
    tapped[kTap] = tap;
    server.on(tap.sessionEvent, onSession);
    server.prependListener('request', onRequest);
  }
  const ticket = late ? ++lastTicket : 0;
  tap.consumers = [...tap.consumers, consumer];
  tap.tickets = [...tap.tickets, ticket];
  tap.mask |= consumer.eventMask;
  if (ticket !== 0) tap.lateTicket = ticket;
  if (consumer.tracksSessions && tap.sessions === null) tap.sessions = new Set();
}

/**
 * For a middleware, which runs inside the server's 'request' event: when consumers joined while this
 * request was already being handled, they get what they missed (the connection's first-sight
 * ssn_start, txn_start), and the response's send_resp_hdr and txn_close are made to reach the server's
 * consumers. Does the work once per request; every other call is two comparisons.
 */
export function catchUpRequest(req: IncomingMessage, res: ServerResponse): void {
  const socket = req.socket as ServerSocket;
  const tap = socket.server?.[kTap];
  if (tap === undefined || tap.lateTicket === 0) return;
  const stamped = res as StampedResponse;
  const since = stamped[kSeenAt] ?? 0;
  if (since >= tap.lateTicket) return;
  stamped[kSeenAt] = lastTicket;
  if ((socket[kSeenAt] ?? 0) < tap.lateTicket) catchUpSession(tap, socket);
  dispatchMissed(tap, TXN_START, since, socket, res);
  const mask = tap.mask;
  if ((mask & (1 << SEND_RESP_HDR)) !== 0 && !res.headersSent && res.writeHead !== writeHeadWithEvent) {
    if (Object.hasOwn(res, 'writeHead')) {
      // Something earlier in the stack (on-headers and the like) wrapped writeHead: stay in its chain.
      // A closure, but only here, on a request that is caught up.
      const wrapped = res.writeHead;
      res.writeHead = function writeHeadCaughtUp(this: ServerResponse, ...args: unknown[]): ServerResponse {
        const first = !this.headersSent;
        const result = Reflect.apply(wrapped, this, args) as ServerResponse;
        if (first) headerWentOut(this);
        return result;
      } as ServerResponse['writeHead'];
    } else {
      res.writeHead = writeHeadWithEvent as ServerResponse['writeHead'];
    }
  }
  if ((mask & (1 << TXN_CLOSE)) !== 0 && !res.listeners('close').includes(onResponseClose)) watchResponseClose(socket as SessionSocket, res);
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
  const index = tap.consumers.indexOf(consumer);
  if (index < 0) return;
  tap.consumers = tap.consumers.filter((_, i) => i !== index);
  tap.tickets = tap.tickets.filter((_, i) => i !== index);
  tap.mask = tap.consumers.reduce((mask, c) => mask | c.eventMask, 0);
  tap.lateTicket = Math.max(0, ...tap.tickets);
  if (!tap.consumers.some((c) => c.tracksSessions)) tap.sessions = null;
  if (tap.consumers.length === 0) {
    server.removeListener(tap.sessionEvent, onSession);
    server.removeListener('request', onRequest);
    delete tapped[kTap];
  }
}
