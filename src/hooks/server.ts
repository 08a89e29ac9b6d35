/**
 * Where the Traffic Server events come from on a Node server (full table: docs/events.md): the server's emit, taken over
 * once per server, hands 'connection' and 'request' and 'stream' to the HTTP/1 (http1.ts) and HTTP/2 (http2.ts) sides;
 * the socket's _destroy gives the last transactions' txn_close and the connection's ssn_close.
 *
 *   ssn_start      the server's 'connection' ('secureConnection' for https and TLS HTTP/2)
 *   txn_start ...  http1.ts, http2.ts
 *   ssn_close      the socket's _destroy, before the fd closes: the totals are final
 *   periodic       a timer per consumer over the open connections (attach.ts)
 *
 * Why an own `emit`, prototypes wrapped once, join tickets: docs/design.md#how-the-events-are-hooked
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Socket as NetSocket, type Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import { createSecureServer as createHttp2SecureServer, createServer as createHttp2Server } from 'node:http2';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { SSN_CLOSE, TXN_CLOSE, type AnyServer, type EventConsumer } from '../events.js';
import { baseEmit, dispatch, issueTicket, kTap, onSession, tapOf, type ServerSocket, type ServerTap, type TappedServer } from './dispatch.js';
import { closeQueued, onClientError, onDropRequest, onRequest, wrapResponsePrototype } from './http1.js';
import { closeOpenStreams, isHttp2Request, onStream } from './http2.js';

export { catchUpRequest } from './http1.js';
export { startedBeforeJoin } from './dispatch.js';

/** A tapped server's emit: ssn_start and txn_start first, then the server's own emit as before. */
function emitWithEvents(this: TappedServer, event: string | symbol, arg?: unknown, res?: unknown): boolean {
  const tap = this[kTap]!;
  if (tap.mask !== 0) {
    if (event === 'request') {
      // An HTTP/2 server's compatibility API: its request's stream had the events (HTTP/1 on allowHTTP1 goes on).
      if (!tap.http2 || !isHttp2Request(arg)) onRequest(tap, arg as IncomingMessage, res as ServerResponse);
      return baseEmit(this, tap).call(this, event, arg, res);
    }
    if (event === tap.sessionEvent) {
      onSession(tap, arg as ServerSocket);
      return baseEmit(this, tap).call(this, event, arg);
    }
    if (event === 'checkContinue' || event === 'checkExpectation') onRequest(tap, arg as IncomingMessage, res as ServerResponse);
    else if (event === 'clientError') return onClientError(this, tap, arg as Error & { code?: unknown }, res as ServerSocket);
    // Node answers this request 503 right after: its writeHead dispatches the txn_start (nodeAnswered).
    else if (event === 'dropRequest') onDropRequest(arg as IncomingMessage);
    else if (event === 'stream' && tap.http2) onStream(tap, arg as ServerHttp2Stream, res as IncomingHttpHeaders);
  }
  // eslint-disable-next-line prefer-rest-params -- passes on exactly the arguments it came with, no array per event
  return Reflect.apply(baseEmit(this, tap), this, arguments) as boolean;
}

type DestroyFn = (this: Socket, err: Error | null, cb: (err: Error | null) => void) => void;
const socketProto = NetSocket.prototype as Socket & { _destroy: DestroyFn };
let originalDestroy: DestroyFn | null = null;

/** Installed at the first tap and left in place (they pass through where there is no tap). */
function wrapPrototypes(): void {
  wrapResponsePrototype();
  if (originalDestroy !== null) return;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- kept to be called with the socket as this
  originalDestroy = socketProto._destroy;
  // tls.TLSSocket inherits it.
  socketProto._destroy = destroyWithEvents;
}

/**
 * Every socket's close, fd still open: for a tapped connection, the txn_close of a response still on it (reset mid-response),
 * then of the pipelined ones queued behind it, in order (Node will never write them), then its ssn_close.
 */
function destroyWithEvents(this: ServerSocket, err: Error | null, cb: (err: Error | null) => void): void {
  const tap = tapOf(this);
  if (tap !== undefined) {
    const res = this._httpMessage;
    if (res != null) dispatch(tap, TXN_CLOSE, this, res);
    if (tap.queuedCount !== 0) closeQueued(tap, this, res);
    if (tap.http2) closeOpenStreams(tap, this);
    if (tap.sessions !== null && tap.sessions.delete(this)) dispatch(tap, SSN_CLOSE, this, null);
  }
  originalDestroy!.call(this, err, cb);
}

/** An HTTP/2 server of node:http2's (h2c or TLS; a subclass of one too). */
function isHttp2Server(server: AnyServer): boolean {
  // node:http2 exports neither class: their prototypes, from a server made (never listening) to see them.
  http2Prototypes ??= [Object.getPrototypeOf(createHttp2Server()) as object, Object.getPrototypeOf(createHttp2SecureServer()) as object];
  return http2Prototypes.some((proto) => proto.isPrototypeOf(server));
}
let http2Prototypes: object[] | undefined;

/**
 * Start delivering a server's events to `consumer`. `late`: connections and requests may be under way already; each
 * connection then starts for this consumer at first sight, and catchUpRequest brings it a request being handled.
 */
export function addConsumer(server: AnyServer, consumer: EventConsumer, late: boolean = server.listening): void {
  const tapped = server as TappedServer;
  let tap = tapped[kTap];
  if (tap === undefined) {
    wrapPrototypes();
    tap = {
      consumers: [],
      tickets: [],
      mask: 0,
      sessionEvent: server instanceof TlsServer ? 'secureConnection' : 'connection',
      sessions: null,
      lateTicket: 0,
      // eslint-disable-next-line @typescript-eslint/unbound-method -- called with the server as this
      emit: server.emit as ServerTap['emit'],
      ownEmit: Object.hasOwn(server, 'emit'),
      queued: null,
      queuedCount: 0,
      http2: isHttp2Server(server),
    };
    tapped[kTap] = tap;
    server.emit = emitWithEvents as Server['emit'];
  }
  const ticket = late ? issueTicket() : 0;
  tap.consumers = [...tap.consumers, consumer];
  tap.tickets = [...tap.tickets, ticket];
  tap.mask |= consumer.eventMask;
  if (ticket !== 0) tap.lateTicket = ticket;
  if (consumer.tracksSessions && tap.sessions === null) tap.sessions = new Set();
}
/** The server's open connections (those seen since a session-tracking consumer arrived). */
export function openSessions(server: AnyServer): ReadonlySet<Socket> {
  return (server as TappedServer)[kTap]?.sessions ?? EMPTY;
}
const EMPTY: ReadonlySet<Socket> = new Set();

/** Stop delivering to `consumer`; the last one out gives the server its emit back. */
export function removeConsumer(server: AnyServer, consumer: EventConsumer): void {
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
  // Something that wrapped the server's emit after us still calls ours: then the tap stays, empty.
  if (tap.consumers.length === 0 && server.emit === emitWithEvents) {
    if (tap.ownEmit) server.emit = tap.emit as Server['emit'];
    else delete (server as Partial<Server>).emit;
    delete tapped[kTap];
  }
}
