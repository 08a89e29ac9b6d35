// HTTP/2 test helpers: an attached node:http2 server, a client request, a real gRPC server and client.
import fs from 'node:fs';
import http2 from 'node:http2';
import path from 'node:path';
import { attach } from '../../dist/index.js';
import { jsonLines, listen, tempDir } from './harness.mjs';

export const ALL_HOOKS = 'ssn_start,txn_start,send_resp_hdr,txn_close,ssn_close';
export const TRANSACTION_EVENTS = ['txn_start', 'send_resp_hdr', 'txn_close'];

/** An HTTP/2 server (h2c unless `secure`) attached with `options`, its log in a fresh dir. */
export async function serveH2(t, options = {}, { secure = null, onStream = defaultStream } = {}) {
  const dir = tempDir(t);
  const logFile = path.join(dir, 'tcpinfo.log');
  const server = secure ? http2.createSecureServer(secure) : http2.createServer();
  server.on('stream', onStream);
  const handle = attach(server, { logFile, format: 'json', hooks: ALL_HOOKS, logUrl: true, ...options });
  t.after(() => handle.close());
  // An HTTP/2 server's close() waits for its sessions: end those still open first.
  const sessions = new Set();
  server.on('session', (s) => sessions.add(s.on('close', () => sessions.delete(s))));
  t.after(() => sessions.forEach((s) => s.destroy()));
  const port = await listen(t, server);
  return { server, handle, port, logFile };
}

/** '/hold' never answers (the client resets it), '/n/<k>' answers k bytes, anything else 'hello'. */
export function defaultStream(stream, headers) {
  const p = headers[':path'];
  if (p === '/hold') return;
  stream.respond({ ':status': p === '/missing' ? 404 : 200 });
  stream.end(p.startsWith('/n/') ? 'x'.repeat(Number(p.slice(3))) : 'hello');
}

/**
 * Answers from files in `dir` (which holds `file.txt`, 5 bytes, and the directory `sub`), by path:
 *   /file, /fd          respondWithFile / respondWithFD of file.txt: 200
 *   /missing            respondWithFile of a file that is not there: the stream is reset, no response
 *   /missing-onerror    the same with onError answering 404
 *   /dir, /dir-fd       respondWithFile of a directory (reset, no response) / respondWithFD of one (200, then a reset)
 *   /304, /fd-304       statCheck answers 304 itself and returns false (respondWithFile / respondWithFD)
 */
export function fileStream(dir) {
  const file = path.join(dir, 'file.txt');
  const notModified = (stream) => ({
    statCheck() {
      stream.respond({ ':status': 304 });
      stream.end();
      return false;
    },
  });
  return (stream, headers) => {
    stream.on('error', () => {});
    const p = headers[':path'];
    if (p === '/file') stream.respondWithFile(file);
    else if (p === '/fd') stream.respondWithFD(fs.openSync(file, 'r'));
    else if (p === '/missing') stream.respondWithFile(path.join(dir, 'nothing'));
    else if (p === '/missing-onerror') stream.respondWithFile(path.join(dir, 'nothing'), {}, { onError: () => stream.respond({ ':status': 404 }, { endStream: true }) });
    else if (p === '/dir') stream.respondWithFile(path.join(dir, 'sub'));
    else if (p === '/dir-fd') stream.respondWithFD(fs.openSync(path.join(dir, 'sub'), 'r'));
    else if (p === '/304') stream.respondWithFile(file, {}, notModified(stream));
    else if (p === '/fd-304') stream.respondWithFD(fs.openSync(file, 'r'), {}, notModified(stream));
  };
}

/** The log's lines, once `handle` has written them all out (closing it). */
export async function closedLog(handle, logFile) {
  await handle.close();
  return jsonLines(logFile);
}

/** Each stream's events in order, by "conn/stream". */
export function byStream(lines) {
  const streams = {};
  for (const l of lines) if (l.stream !== undefined) (streams[`${l.conn}/${l.stream}`] ??= []).push(l.event);
  return streams;
}


/** One request on an HTTP/2 client session that may end in a stream error; resolves with { status, error }: the status
 * received (null for none) and the error's code (null for none). */
export function h2Outcome(session, requestPath) {
  return new Promise((resolve) => {
    const stream = session.request({ ':path': requestPath });
    let status = null;
    let error = null;
    stream.on('response', (headers) => (status = headers[':status']));
    stream.on('error', (err) => (error = err.code));
    stream.on('close', () => resolve({ status, error }));
    stream.setTimeout(5000, () => stream.close(http2.constants.NGHTTP2_CANCEL));
    stream.resume();
    stream.end();
  });
}

/** One request on an HTTP/2 client session; resolves with { status, body, id }. */
export function h2Request(session, requestPath, { method = 'GET', body } = {}) {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': requestPath, ':method': method });
    const chunks = [];
    let status = 0;
    stream.on('response', (headers) => (status = headers[':status']));
    stream.on('data', (c) => chunks.push(c));
    stream.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString(), id: stream.id }));
    stream.on('error', reject);
    stream.setTimeout(5000, () => stream.close(http2.constants.NGHTTP2_CANCEL));
    stream.end(body);
  });
}

/**
 * A real gRPC server (@grpc/grpc-js, a hand-made service: no .proto) on 127.0.0.1 port 0 and a client
 * channel to it. `beforeListen(server)` gets the node:http2 server grpc-js made, before it listens (to
 * attach); `hold(go)`, when given, holds a unary call of 'held' until `go()` is called. Resolves with the
 * calls: unary(text), serverStream(text, n), clientStream(texts), bidi(texts), failing() (an error
 * status), close().
 */
export async function grpcEcho(t, beforeListen, { hold } = {}) {
  const grpc = await import('@grpc/grpc-js');
  const bytes = { serialize: (s) => Buffer.from(s), deserialize: (b) => b.toString() };
  const method = (name, requestStream, responseStream) => ({
    path: `/test.Echo/${name}`, requestStream, responseStream,
    requestSerialize: bytes.serialize, requestDeserialize: bytes.deserialize,
    responseSerialize: bytes.serialize, responseDeserialize: bytes.deserialize,
  });
  const service = {
    Unary: method('Unary', false, false), ServerStream: method('ServerStream', false, true),
    ClientStream: method('ClientStream', true, false), Bidi: method('Bidi', true, true), Fail: method('Fail', false, false),
  };
  const server = new grpc.Server();
  server.addService(service, {
    Unary: (call, cb) => (hold && call.request === 'held' ? hold(() => cb(null, call.request)) : cb(null, call.request)),
    ServerStream: (call) => {
      const [text, n] = call.request.split(':');
      for (let i = 0; i < Number(n); i++) call.write(text + i);
      call.end();
    },
    ClientStream: (call, cb) => {
      let all = '';
      call.on('data', (d) => (all += d)).on('end', () => cb(null, all));
    },
    Bidi: (call) => call.on('data', (d) => call.write(d)).on('end', () => call.end()),
    Fail: (call, cb) => cb({ code: grpc.status.NOT_FOUND, details: 'no such thing' }),
  });
  // grpc-js makes its node:http2 server inside bindAsync and listens at once: meet it at its listen.
  const listen = Object.getPrototypeOf(http2.createServer()).listen;
  const proto = Object.getPrototypeOf(http2.createServer());
  proto.listen = function (...args) {
    proto.listen = listen;
    beforeListen(this);
    return listen.apply(this, args);
  };
  let port;
  try {
    port = await new Promise((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  } finally {
    proto.listen = listen;
  }
  const Client = grpc.makeGenericClientConstructor(service, 'Echo');
  const channel = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    channel.close();
    await new Promise((resolve) => server.tryShutdown(() => resolve()));
  };
  t.after(() => {
    if (!closed) {
      closed = true;
      channel.close();
      server.forceShutdown();
    }
  });
  const collect = (call) => new Promise((resolve, reject) => {
    const got = [];
    call.on('data', (d) => got.push(d)).on('end', () => resolve(got)).on('error', reject);
  });
  return {
    port,
    unary: (text) => new Promise((resolve, reject) => channel.Unary(text, (err, r) => (err ? reject(err) : resolve(r)))),
    serverStream: (text, n) => collect(channel.ServerStream(`${text}:${n}`)),
    clientStream: (texts) => new Promise((resolve, reject) => {
      const call = channel.ClientStream((err, r) => (err ? reject(err) : resolve(r)));
      for (const text of texts) call.write(text);
      call.end();
    }),
    bidi: (texts) => {
      const call = channel.Bidi();
      const done = collect(call);
      for (const text of texts) call.write(text);
      call.end();
      return done;
    },
    failing: () => new Promise((resolve, reject) => channel.Fail('x', (err) => (err?.code === grpc.status.NOT_FOUND ? resolve() : reject(err ?? new Error('no error'))))),
    close,
  };
}
