/**
 * The HTTP/2 side of the hooks (server.ts), for `node:http2` servers, h2c or TLS (with or without allowHTTP1):
 * one TCP connection, the session, carries many streams; each stream is a transaction.
 *
 *   ssn_start      as for HTTP/1: 'connection' (h2c) or 'secureConnection' (TLS), before the HTTP/2 session is set up
 *   txn_start      the server's 'stream' event, before any listener (the compatibility API's 'request' included)
 *   send_resp_hdr  the stream's respond() (writeHead calls it); respondWithFD() or respondWithFile() when the headers go
 *                  out (after the file's open and statCheck: at the end() Node calls then), never for a file not sent
 *   txn_close      the stream's _destroy, which every end of a stream goes through; or, when the socket goes first (the
 *                  client closed or broke the connection), the socket's _destroy for each stream still open, fd still open
 *   ssn_close      as for HTTP/1: the socket's _destroy, after the txn_close of the streams still open
 *
 * Every read is of the session's real TCP socket, found through the `session.socket` Proxy (SELF below): a session's
 * streams and its ssn_start/ssn_close share one socket, so one sampling decision per session with --sample-by=session
 * and one connection id. Their lines show the connection's counters at that moment, not the stream's own.
 *
 * Nothing is added to a stream, session or socket: the stream methods are wrapped once on the server streams'
 * prototype, passing through streams without an exchange; the per-stream Http2Exchange (events.ts) is in a WeakMap.
 */
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { Http2ServerRequest } from 'node:http2';
import { Socket as NetSocket, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Http2Exchange, SEND_RESP_HDR, TXN_CLOSE, TXN_START } from '../events.js';
import { http2Headers, serverTimingUsers } from '../server-timing.js';
import { dispatch, stampTransaction, tapOf, type ServerTap } from './dispatch.js';

/** An HTTP/2 request of the compatibility API ('request' event on an HTTP/2 server): its 'stream' had the events. */
export function isHttp2Request(req: unknown): boolean {
  return req instanceof Http2ServerRequest;
}

/**
 * A getter on net.Socket's prototype returning the socket itself: through the `session.socket` Proxy, it gives the real
 * socket whatever Node keeps it under. A prototype property, added once: sockets keep their shape.
 */
const SELF = Symbol('tcpinfo.socket');
let selfInstalled = false;

function installSelf(): void {
  if (selfInstalled) return;
  selfInstalled = true;
  Object.defineProperty(NetSocket.prototype, SELF, {
    configurable: true,
    get(this: Socket): Socket {
      return this;
    },
  });
}

/** The TCP socket of the session a stream is on; undefined once the session has let go of it. */
function sessionSocket(stream: ServerHttp2Stream): Socket | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- tsc needs it: SELF is our own key on net.Socket.prototype
    return (stream.session?.socket as (Socket & { [SELF]?: Socket }) | undefined)?.[SELF];
  } catch {
    // The proxy throws ERR_HTTP2_SOCKET_UNBOUND once the session is destroyed.
    return undefined;
  }
}

/** Each server stream's exchange, from its 'stream' event on (a WeakMap: nothing on the stream itself). */
const exchanges = new WeakMap<ServerHttp2Stream, Http2Exchange>();
/** Per session socket, the exchanges whose txn_close is still to come (only while txn_close is wanted). */
const openBySocket = new WeakMap<Socket, Set<Http2Exchange>>();

/** The transaction events: a server that wants none of them makes no exchanges. */
const TRANSACTION_MASK = (1 << TXN_START) | (1 << SEND_RESP_HDR) | (1 << TXN_CLOSE);

/** The server's 'stream' event, before any listener: a transaction starts. */
export function onStream(tap: ServerTap, stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
  if ((tap.mask & TRANSACTION_MASK) === 0) return;
  wrapStreamPrototype(stream);
  const socket = sessionSocket(stream);
  if (socket === undefined) return;
  const method = headers[':method'];
  const path = headers[':path'];
  const exchange = new Http2Exchange(socket, stream.id ?? 0, method, path);
  stampTransaction(tap, socket, exchange);
  exchanges.set(stream, exchange);
  if ((tap.mask & (1 << TXN_CLOSE)) !== 0) {
    let open = openBySocket.get(socket);
    if (open === undefined) openBySocket.set(socket, (open = new Set()));
    open.add(exchange);
    if (open.size > 1) for (const sibling of open) sibling.shared = true;
  } else {
    exchange.closed = true;
  }
  dispatch(tap, TXN_START, socket, exchange);
}

/** The session's socket is being destroyed, fd still open: txn_close of each stream still on it (Node destroys them later). */
export function closeOpenStreams(tap: ServerTap, socket: Socket): void {
  const open = openBySocket.get(socket);
  if (open === undefined) return;
  openBySocket.delete(socket);
  for (const exchange of open) {
    exchange.closed = true;
    dispatch(tap, TXN_CLOSE, socket, exchange);
  }
}

// The wrappers on the server streams' prototype, installed at the first stream seen and left in place.
type StreamProto = ServerHttp2Stream & {
  _destroy(err: Error | null, cb: (err: Error | null) => void): void;
};
let wrappedProto: StreamProto | null = null;

function wrapStreamPrototype(stream: ServerHttp2Stream): void {
  const proto = Object.getPrototypeOf(stream) as StreamProto;
  // Every server stream has the same prototype (ServerHttp2Stream's).
  if (wrappedProto !== null) return;
  wrappedProto = proto;
  installSelf();
  /* eslint-disable @typescript-eslint/unbound-method -- kept to be called with the stream as this */
  const respond = proto.respond;
  const respondWithFD = proto.respondWithFD;
  const respondWithFile = proto.respondWithFile;
  const end = proto.end;
  const destroy = proto._destroy;
  const write = proto.write;
  /* eslint-enable @typescript-eslint/unbound-method */
  // For --explain's timeline: when the app ended the stream, and how long it waited on drains before (explain/timeline.ts).
  proto.write = function writeTimed(this: ServerHttp2Stream): boolean {
    // eslint-disable-next-line prefer-rest-params -- passes on exactly the arguments it came with
    const ok = Reflect.apply(write, this, arguments) as boolean;
    if (!ok) backlogBegins(this);
    return ok;
  };
  // Own properties of ServerHttp2Stream.prototype: client streams keep theirs.
  proto.respond = function respondWithEvent(this: ServerHttp2Stream, headers?: unknown, options?: unknown): void {
    if (serverTimingUsers !== 0) headers = withServerTiming(this, headers);
    (respond as (this: ServerHttp2Stream, ...args: unknown[]) => void).call(this, headers, options);
    // A statCheck or onError of a file response answering by itself.
    if (filesPending !== 0 && pendingFiles.delete(this)) filesPending--;
    responded(this, headers);
    if ((options as { endStream?: unknown } | undefined)?.endStream === true) {
      const exchange = exchanges.get(this);
      if (exchange !== undefined) appEnded(exchange);
    }
  };
  proto.respondWithFD = function respondWithFDWithEvent(this: ServerHttp2Stream, ...args: unknown[]): void {
    if (serverTimingUsers !== 0) args[1] = withServerTiming(this, args[1]);
    (respondWithFD as (this: ServerHttp2Stream, ...args: unknown[]) => void).apply(this, args);
    fileResponse(this);
  };
  proto.respondWithFile = function respondWithFileWithEvent(this: ServerHttp2Stream, ...args: unknown[]): void {
    if (serverTimingUsers !== 0) args[1] = withServerTiming(this, args[1]);
    (respondWithFile as (this: ServerHttp2Stream, ...args: unknown[]) => void).apply(this, args);
    fileResponse(this);
  };
  // Node sends a file response's headers once the file is opened and checked, then ends the stream's writable side at
  // once: that end() is the first sight of them. Every end() is the app's end, for --explain's timeline.
  proto.end = function endWithEvent(this: StreamProto): StreamProto {
    if (filesPending !== 0 && this.headersSent && pendingFiles.delete(this)) {
      filesPending--;
      responded(this, undefined);
    }
    const exchange = exchanges.get(this);
    if (exchange !== undefined) appEnded(exchange);
    // eslint-disable-next-line prefer-rest-params -- passes on exactly the arguments it came with
    return Reflect.apply(end, this, arguments) as StreamProto;
  };
  proto._destroy = function destroyWithEvent(this: ServerHttp2Stream, err: Error | null, cb: (err: Error | null) => void): void {
    // A file response that never sent its headers (no such file, a directory): the stream is reset, no send_resp_hdr.
    if (filesPending !== 0 && pendingFiles.delete(this)) filesPending--;
    const exchange = exchanges.get(this);
    if (exchange !== undefined && !exchange.closed) streamClosed(exchange);
    destroy.call(this, err, cb);
  };
}

/** --server-timing: the stream's headers with its entry, while they can still change (never once sent). */
function withServerTiming(stream: ServerHttp2Stream, headers: unknown): unknown {
  const exchange = exchanges.get(stream);
  return exchange === undefined || stream.headersSent ? headers : http2Headers(exchange, headers);
}

function appEnded(exchange: Http2Exchange): void {
  if (!Number.isNaN(exchange.appEndUs)) return;
  exchange.appEndUs = performance.now() * 1000;
  if (!Number.isNaN(exchange.backlogSince)) {
    exchange.backlogUs += exchange.appEndUs - exchange.backlogSince;
    exchange.backlogSince = NaN;
  }
}

function backlogBegins(stream: ServerHttp2Stream): void {
  const exchange = exchanges.get(stream);
  if (exchange === undefined || !Number.isNaN(exchange.backlogSince) || !Number.isNaN(exchange.appEndUs)) return;
  exchange.backlogSince = performance.now() * 1000;
  stream.once('drain', streamDrained);
}

function streamDrained(this: ServerHttp2Stream): void {
  const exchange = exchanges.get(this);
  if (exchange === undefined || Number.isNaN(exchange.backlogSince)) return;
  exchange.backlogUs += performance.now() * 1000 - exchange.backlogSince;
  exchange.backlogSince = NaN;
}

/**
 * Streams whose respondWithFile or respondWithFD returned before their headers went out (the file is opened, stat'ed and
 * checked first), and how many: their send_resp_hdr is at that end(), or at the statCheck's own respond(), or never.
 */
const pendingFiles = new WeakSet<ServerHttp2Stream>();
let filesPending = 0;

/** respondWithFD or respondWithFile returned: send_resp_hdr now if the headers are out (an fd with no statCheck), else later. */
function fileResponse(stream: ServerHttp2Stream): void {
  if (stream.headersSent) {
    // No sentHeaders: Node could not build them and destroyed the stream, nothing went out.
    if (stream.sentHeaders !== undefined) responded(stream, undefined);
    return;
  }
  const exchange = exchanges.get(stream);
  if (exchange === undefined || exchange.statusCode !== null || stream.destroyed || pendingFiles.has(stream)) return;
  pendingFiles.add(stream);
  filesPending++;
}

/** The response's headers went out (the call did not throw): send_resp_hdr, once per stream. */
function responded(stream: ServerHttp2Stream, headers: unknown): void {
  const exchange = exchanges.get(stream);
  if (exchange === undefined || exchange.statusCode !== null) return;
  const status = (stream.sentHeaders as Record<string, unknown> | undefined)?.[':status'] ?? (headers as Record<string, unknown> | null | undefined)?.[':status'];
  exchange.statusCode = status === undefined ? 200 : Number(status);
  const tap = tapOf(exchange.socket);
  if (tap !== undefined) dispatch(tap, SEND_RESP_HDR, exchange.socket, exchange);
}

/** A stream ends while its session's socket is open: txn_close. */
function streamClosed(exchange: Http2Exchange): void {
  exchange.closed = true;
  const socket = exchange.socket;
  // The set stays until the socket's destroy: the session's next stream uses it again.
  openBySocket.get(socket)?.delete(exchange);
  const tap = tapOf(socket);
  // A destroyed socket had the txn_close of its open streams at its destroy, with the fd open.
  if (tap !== undefined && !socket.destroyed) dispatch(tap, TXN_CLOSE, socket, exchange);
}
