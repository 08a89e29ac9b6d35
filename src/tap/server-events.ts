/**
 * Where the Traffic Server events come from on a Node http/https server (full table: docs/events.md).
 *
 *   ssn_start      the server's 'connection' ('secureConnection' for https)
 *   txn_start      the server's 'request' ('checkContinue', 'checkExpectation'), before the app's listeners
 *   send_resp_hdr  the response's first writeHead, explicit or implicit
 *   txn_close      Node detaching the response from its socket; or the socket's destroy while it is on it
 *   ssn_close      the socket's _destroy, before the fd closes: the totals are final
 *   periodic       a timer per consumer over the open connections (attach.ts)
 *
 * Requests Node answers itself (400/431/413/408 via 'clientError', 417, 503) are transactions too.
 * Why an own `emit`, prototypes wrapped once, join tickets: docs/design.md#how-the-events-are-hooked
 */
import { ServerResponse, type IncomingMessage, type Server } from 'node:http';
import { Socket as NetSocket, type Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import { createSecureServer as createHttp2SecureServer, createServer as createHttp2Server } from 'node:http2';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { SEND_RESP_HDR, SSN_CLOSE, SSN_START, TXN_CLOSE, TXN_START, type AnyServer, type EventConsumer, type Transaction } from '../events.js';
import { endpointsOf } from '../tcpinfo/endpoints.js';
import { beginEvent } from '../tcpinfo/read.js';
import { closeOpenStreams, isHttp2Request, onStream, setTapAccess } from './http2-events.js';

const kTap = Symbol('tcpinfo.serverTap');
/**
 * Only while some consumer joined late: per connection or transaction, the last join ticket issued at its ssn_start or
 * txn_start. A WeakMap, like all per-connection state: a property would change the object's shape (tcpinfo/endpoints.ts).
 */
const seenAt = new WeakMap<object, number>();

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
  /** The server's emit before this tap's: what emitWithEvents hands every event on to. */
  emit: (this: Server, event: string | symbol, ...args: unknown[]) => boolean;
  /** Whether that emit was the server's own property (else it is inherited, and deleting ours restores it). */
  ownEmit: boolean;
  /** Pipelined responses waiting behind the one on their connection (Node's queue is out of reach), in order, and their
   * count, so connections without any pay one comparison. Null until the server's first. */
  queued: WeakMap<Socket, ServerResponse[]> | null;
  queuedCount: number;
  /** An HTTP/2 server: its streams are transactions (http2-events.ts). */
  http2: boolean;
}

type TappedServer = Server & { [kTap]?: ServerTap };
type ServerSocket = Socket & {
  server?: TappedServer;
  /** Node's: the response being written on this connection, until its end detaches it. */
  _httpMessage?: ServerResponse | null;
};

/** Join tickets, issued in order to the late consumers of every server. */
let lastTicket = 0;

/** `event` to the consumers that want it; with `since`, only to those that joined late after it (a catch-up). */
function dispatch(tap: ServerTap, event: number, socket: Socket, res: Transaction | null, since = -1): void {
  const bit = 1 << event;
  if ((tap.mask & bit) === 0) return;
  beginEvent();
  const consumers = tap.consumers;
  const tickets = tap.tickets;
  for (let i = 0; i < consumers.length; i++) {
    if (tickets[i] > since && (consumers[i].eventMask & bit) !== 0) consumers[i].onEvent(event, socket, res);
  }
}

function tapOf(socket: Socket): ServerTap | undefined {
  return (socket as ServerSocket).server?.[kTap];
}

/** A tapped server's emit: ssn_start and txn_start first, then the server's own emit as before. */
function emitWithEvents(this: TappedServer, event: string | symbol, arg?: unknown, res?: unknown): boolean {
  const tap = this[kTap]!;
  if (tap.mask !== 0) {
    if (event === 'request') {
      // An HTTP/2 server's compatibility API: its request's stream had the events (HTTP/1 on allowHTTP1 goes on).
      if (!tap.http2 || !isHttp2Request(arg)) onRequest(tap, arg as IncomingMessage, res as ServerResponse);
      return tap.emit.call(this, event, arg, res);
    }
    if (event === tap.sessionEvent) {
      onSession(tap, arg as ServerSocket);
      return tap.emit.call(this, event, arg);
    }
    if (event === 'checkContinue' || event === 'checkExpectation') onRequest(tap, arg as IncomingMessage, res as ServerResponse);
    else if (event === 'clientError') return onClientError(this, tap, arg as Error & { code?: unknown }, res as ServerSocket);
    // Node answers this request 503 right after: its writeHead dispatches the txn_start (nodeAnswered).
    else if (event === 'dropRequest') droppedRequest = arg as IncomingMessage;
    else if (event === 'stream' && tap.http2) onStream(tap, arg as ServerHttp2Stream, res as IncomingHttpHeaders);
  }
  // eslint-disable-next-line prefer-rest-params -- passes on exactly the arguments it came with, no array per event
  return Reflect.apply(tap.emit, this, arguments) as boolean;
}

function onSession(tap: ServerTap, socket: ServerSocket): void {
  if (tap.lateTicket !== 0) seenAt.set(socket, lastTicket);
  if (tap.sessions !== null) trackSession(tap.sessions, socket);
  dispatch(tap, SSN_START, socket, null);
}

/** First sight of a connection opened before some consumer joined: it starts now, for them. */
function catchUpSession(tap: ServerTap, socket: ServerSocket): void {
  const since = seenAt.get(socket) ?? 0;
  seenAt.set(socket, lastTicket);
  if (tap.sessions !== null && !tap.sessions.has(socket)) trackSession(tap.sessions, socket);
  dispatch(tap, SSN_START, socket, null, since);
}

/** Count a connection among the open ones (ssn_close and periodic reads need them). */
function trackSession(sessions: Set<Socket>, socket: Socket): void {
  // After the peer has gone (an ssn_close after a reset) getpeername fails: read them while it is here.
  endpointsOf(socket);
  sessions.add(socket);
}

function onRequest(tap: ServerTap, req: IncomingMessage, res: ServerResponse): void {
  const socket = req.socket as ServerSocket;
  if (tap.lateTicket !== 0) {
    seenAt.set(res, lastTicket);
    if ((seenAt.get(socket) ?? 0) < tap.lateTicket) catchUpSession(tap, socket);
  }
  // A response gets its connection at once unless another is being written on it: then Node queues it.
  if (res.socket === null) queueResponse(tap, socket, res);
  dispatch(tap, TXN_START, socket, res);
}

/** The request Node is about to answer 503 (past maxRequestsPerSocket), from its 'dropRequest' to that answer. */
let droppedRequest: IncomingMessage | null = null;

/** Node's test for a 100-continue expectation (_http_common's continueExpression). */
const CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i;

/**
 * Whether `res`, at its first writeHead with `status`, is an answer Node gives by itself with no 'request' event
 * (parserOnIncoming in _http_server), so no txn_start yet. Called only for 400, 417 and 503.
 */
function nodeAnswered(res: ServerResponse, status: number): boolean {
  const req = res.req;
  if (status === 503) {
    const dropped = req === droppedRequest;
    droppedRequest = null;
    return dropped;
  }
  if (req.httpVersionMajor !== 1 || req.httpVersionMinor !== 1) return false;
  const server = (req.socket as ServerSocket).server!;
  if (status === 400) return (server as Server & { requireHostHeader?: boolean }).requireHostHeader !== false && req.headers.host === undefined;
  const expect = req.headers.expect;
  return expect !== undefined && !CONTINUE.test(expect) && server.listenerCount('checkExpectation') === 0;
}

/** An answer Node writes straight to the socket, with no response object: a status and a never-parsed request. */
class RawAnswer {
  readonly req: { readonly method: null; readonly url: undefined; readonly headers: Record<string, never>; readonly socket: Socket };
  constructor(readonly statusCode: number, socket: Socket) {
    this.req = { method: null, url: undefined, headers: {}, socket };
  }
}

/** What Node answers a request it could not read (socketOnError in Node's _http_server). */
function rawAnswerStatus(code: unknown): number {
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return 413;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  return 400;
}

/**
 * 'clientError' with no app listener: Node answers an unreadable (or too slow) request itself and destroys the socket.
 * That answer is a transaction: txn_start and send_resp_hdr now, txn_close at the destroy, after the responses before it.
 */
function onClientError(server: TappedServer, tap: ServerTap, err: Error & { code?: unknown }, socket: ServerSocket): boolean {
  const handled = tap.emit.call(server, 'clientError', err, socket);
  if (handled || typeof err?.code !== 'string' || socket == null || !socket.writable) return handled;
  if (!err.code.startsWith('HPE_') && err.code !== 'ERR_HTTP_REQUEST_TIMEOUT') return handled;
  const inFlight = socket._httpMessage;
  if (inFlight != null && (inFlight as ServerResponse & { _headerSent?: boolean })._headerSent === true) return handled;
  const answer = new RawAnswer(rawAnswerStatus(err.code), socket) as unknown as ServerResponse;
  if (tap.lateTicket !== 0) {
    seenAt.set(answer, lastTicket);
    if ((seenAt.get(socket) ?? 0) < tap.lateTicket) catchUpSession(tap, socket);
  }
  queueResponse(tap, socket, answer);
  dispatch(tap, TXN_START, socket, answer);
  dispatch(tap, SEND_RESP_HDR, socket, answer);
  return handled;
}

/** Keep a pipelined response that waits behind another one, for its txn_close should its connection die. */
function queueResponse(tap: ServerTap, socket: Socket, res: ServerResponse): void {
  if ((tap.mask & (1 << TXN_CLOSE)) === 0) return;
  const queued = (tap.queued ??= new WeakMap());
  const list = queued.get(socket);
  if (list === undefined) queued.set(socket, [res]);
  else if (!list.includes(res)) list.push(res);
  else return;
  tap.queuedCount++;
}

/** A queued response has left its connection (ended, its txn_close dispatched): responses leave in order. */
function unqueueResponse(tap: ServerTap, socket: Socket, res: ServerResponse): void {
  const list = tap.queued?.get(socket);
  if (list === undefined || list[0] !== res) return;
  list.shift();
  tap.queuedCount--;
  if (list.length === 0) tap.queued!.delete(socket);
}

// Prototype wrappers: installed at the first tap and left in place (they pass through where there is no tap).
const responseProto = ServerResponse.prototype as ServerResponse & { detachSocket(socket: Socket): void };
type DestroyFn = (this: Socket, err: Error | null, cb: (err: Error | null) => void) => void;
const socketProto = NetSocket.prototype as Socket & { _destroy: DestroyFn };
let originalWriteHead: ServerResponse['writeHead'] | null = null;
let originalDetachSocket: ((socket: Socket) => void) | null = null;
let originalDestroy: DestroyFn | null = null;

function wrapPrototypes(): void {
  if (originalWriteHead !== null) return;
  /* eslint-disable @typescript-eslint/unbound-method -- kept to be called with the instance as this */
  originalWriteHead = responseProto.writeHead;
  originalDetachSocket = responseProto.detachSocket;
  originalDestroy = socketProto._destroy;
  /* eslint-enable @typescript-eslint/unbound-method */
  responseProto.writeHead = writeHeadWithEvent;
  responseProto.detachSocket = detachSocketWithEvent;
  // tls.TLSSocket inherits it.
  socketProto._destroy = destroyWithEvents;
}

function writeHeadWithEvent(this: ServerResponse, statusCode: number, reason?: unknown, headers?: unknown): ServerResponse {
  const first = !this.headersSent;
  if (first && (statusCode === 400 || statusCode === 417 || statusCode === 503)) {
    const tap = tapOf(this.req.socket);
    if (tap !== undefined && tap.mask !== 0 && nodeAnswered(this, statusCode)) onRequest(tap, this.req, this);
  }
  // It runs first so the event sees the status it set; nothing has gone to the socket yet either way.
  // (writeHead tells its forms apart by the arguments' types, not their count.)
  const result = (originalWriteHead as (this: ServerResponse, ...args: unknown[]) => ServerResponse).call(this, statusCode, reason, headers);
  if (first) {
    // req.socket: the connection, even while a pipelined response waits for it (res.socket is null then).
    const socket = this.req.socket;
    const tap = tapOf(socket);
    if (tap !== undefined) dispatch(tap, SEND_RESP_HDR, socket, this);
  }
  return result;
}

/** Node detaches a response from its socket once the response has ended (its 'finish'): txn_close. */
function detachSocketWithEvent(this: ServerResponse, socket: Socket): void {
  const tap = tapOf(socket);
  // A destroyed socket had this response's txn_close at its destroy (below), with the fd still open.
  if (tap !== undefined) {
    if ((tap.mask & (1 << TXN_CLOSE)) !== 0 && !socket.destroyed) dispatch(tap, TXN_CLOSE, socket, this);
    if (tap.queuedCount !== 0) unqueueResponse(tap, socket, this);
  }
  originalDetachSocket!.call(this, socket);
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

/** The txn_close of each response still queued on a connection being destroyed (`current` has had its own). */
function closeQueued(tap: ServerTap, socket: Socket, current: ServerResponse | null | undefined): void {
  const list = tap.queued!.get(socket);
  if (list === undefined) return;
  tap.queued!.delete(socket);
  tap.queuedCount -= list.length;
  for (const res of list) if (res !== current) dispatch(tap, TXN_CLOSE, socket, res);
}

setTapAccess<ServerTap>({
  tapOf,
  dispatch,
  catchUp(tap, socket, exchange) {
    if (tap.lateTicket === 0) return;
    seenAt.set(exchange, lastTicket);
    if ((seenAt.get(socket) ?? 0) < tap.lateTicket) catchUpSession(tap, socket);
  },
  TXN_START,
  SEND_RESP_HDR,
  TXN_CLOSE,
});

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
  const ticket = late ? ++lastTicket : 0;
  tap.consumers = [...tap.consumers, consumer];
  tap.tickets = [...tap.tickets, ticket];
  tap.mask |= consumer.eventMask;
  if (ticket !== 0) tap.lateTicket = ticket;
  if (consumer.tracksSessions && tap.sessions === null) tap.sessions = new Set();
}
/**
 * For a middleware (inside 'request'): consumers that joined while this request was being handled get what they missed
 * (first-sight ssn_start, txn_start). Does the work once per request; every other call is two comparisons.
 */
export function catchUpRequest(req: IncomingMessage, res: ServerResponse): void {
  const socket = req.socket as ServerSocket;
  const tap = tapOf(socket);
  if (tap === undefined || tap.lateTicket === 0) return;
  const since = seenAt.get(res) ?? 0;
  if (since >= tap.lateTicket) return;
  seenAt.set(res, lastTicket);
  if ((seenAt.get(socket) ?? 0) < tap.lateTicket) catchUpSession(tap, socket);
  if (res.socket === null) queueResponse(tap, socket, res);
  dispatch(tap, TXN_START, socket, res, since);
}

/**
 * Whether the transaction `res` was under way before `consumer` joined its server: it had no txn_start, and its txn_close is
 * its first event. Two comparisons while no consumer of the server joined late.
 */
export function startedBeforeJoin(consumer: EventConsumer, socket: Socket, res: Transaction): boolean {
  const tap = tapOf(socket);
  if (tap === undefined || tap.lateTicket === 0) return false;
  const ticket = tap.tickets[tap.consumers.indexOf(consumer)] ?? 0;
  return ticket !== 0 && (seenAt.get(res) ?? 0) < ticket;
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
