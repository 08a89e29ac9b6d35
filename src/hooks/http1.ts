/**
 * Where the transaction events come from on a Node http/https server (full table: docs/events.md).
 *
 *   txn_start      the server's 'request' ('checkContinue', 'checkExpectation'), before the app's listeners
 *   send_resp_hdr  the response's first writeHead, explicit or implicit
 *   txn_close      Node detaching the response from its socket; or the socket's destroy while it is on it (server.ts)
 *
 * Requests Node answers itself (400/431/413/408 via 'clientError', 417, 503) are transactions too. Pipelined responses
 * waiting for their connection are kept, for their txn_close should it die.
 */
import { ServerResponse, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { SEND_RESP_HDR, TXN_CLOSE, TXN_START } from '../events.js';
import { http1Headers, serverTimingUsers } from '../server-timing.js';
import { baseEmit, catchUpSession, dispatch, lastSeen, markSeen, stampTransaction, tapOf, unseenSession, type ServerSocket, type ServerTap, type TappedServer } from './dispatch.js';

export function onRequest(tap: ServerTap, req: IncomingMessage, res: ServerResponse): void {
  const socket = req.socket as ServerSocket;
  stampTransaction(tap, socket, res);
  // A response gets its connection at once unless another is being written on it: then Node queues it.
  if (res.socket === null) queueResponse(tap, socket, res);
  dispatch(tap, TXN_START, socket, res);
}

/** The request Node is about to answer 503 (past maxRequestsPerSocket), from its 'dropRequest' to that answer. */
let droppedRequest: IncomingMessage | null = null;

/** 'dropRequest': Node answers this request 503 right after; its writeHead dispatches the txn_start (nodeAnswered). */
export function onDropRequest(req: IncomingMessage): void {
  droppedRequest = req;
}

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
export function onClientError(server: TappedServer, tap: ServerTap, err: Error & { code?: unknown }, socket: ServerSocket): boolean {
  const handled = baseEmit(server, tap).call(server, 'clientError', err, socket);
  if (handled || typeof err?.code !== 'string' || socket == null || !socket.writable) return handled;
  if (!err.code.startsWith('HPE_') && err.code !== 'ERR_HTTP_REQUEST_TIMEOUT') return handled;
  const inFlight = socket._httpMessage;
  if (inFlight != null && (inFlight as ServerResponse & { _headerSent?: boolean })._headerSent === true) return handled;
  const answer = new RawAnswer(rawAnswerStatus(err.code), socket) as unknown as ServerResponse;
  stampTransaction(tap, socket, answer);
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
let originalWriteHead: ServerResponse['writeHead'] | null = null;
let originalDetachSocket: ((socket: Socket) => void) | null = null;

export function wrapResponsePrototype(): void {
  if (originalWriteHead !== null) return;
  /* eslint-disable @typescript-eslint/unbound-method -- kept to be called with the instance as this */
  originalWriteHead = responseProto.writeHead;
  originalDetachSocket = responseProto.detachSocket;
  /* eslint-enable @typescript-eslint/unbound-method */
  responseProto.writeHead = writeHeadWithEvent;
  responseProto.detachSocket = detachSocketWithEvent;
}

function writeHeadWithEvent(this: ServerResponse, statusCode: number, reason?: unknown, headers?: unknown): ServerResponse {
  const first = !this.headersSent;
  if (first && (statusCode === 400 || statusCode === 417 || statusCode === 503)) {
    const tap = tapOf(this.req.socket);
    if (tap !== undefined && tap.mask !== 0 && nodeAnswered(this, statusCode)) onRequest(tap, this.req, this);
  }
  // --server-timing: its entry joins the headers before they exist (writeHead's headers argument is `reason` when no
  // reason phrase is given, as in Node's own writeHead).
  if (first && serverTimingUsers !== 0) {
    if (typeof reason === 'string' || headers != null) headers = http1Headers(this, headers);
    else reason = http1Headers(this, reason);
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
  // A destroyed socket had this response's txn_close at its destroy (server.ts), with the fd still open.
  if (tap !== undefined) {
    if ((tap.mask & (1 << TXN_CLOSE)) !== 0 && !socket.destroyed) dispatch(tap, TXN_CLOSE, socket, this);
    if (tap.queuedCount !== 0) unqueueResponse(tap, socket, this);
  }
  originalDetachSocket!.call(this, socket);
}

/** The txn_close of each response still queued on a connection being destroyed (`current` has had its own). */
export function closeQueued(tap: ServerTap, socket: Socket, current: ServerResponse | null | undefined): void {
  const list = tap.queued!.get(socket);
  if (list === undefined) return;
  tap.queued!.delete(socket);
  tap.queuedCount -= list.length;
  for (const res of list) if (res !== current) dispatch(tap, TXN_CLOSE, socket, res);
}

/**
 * For a middleware (inside 'request'): consumers that joined while this request was being handled get what they missed
 * (first-sight ssn_start, txn_start). Does the work once per request; every other call is two comparisons.
 */
export function catchUpRequest(req: IncomingMessage, res: ServerResponse): void {
  const socket = req.socket as ServerSocket;
  const tap = tapOf(socket);
  if (tap === undefined || tap.lateTicket === 0) return;
  const since = lastSeen(res);
  if (since >= tap.lateTicket) return;
  markSeen(res);
  if (unseenSession(tap, socket)) catchUpSession(tap, socket);
  if (res.socket === null) queueResponse(tap, socket, res);
  dispatch(tap, TXN_START, socket, res, since);
}

