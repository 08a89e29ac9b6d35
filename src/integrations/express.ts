/**
 * tcpinfo as a middleware, for Express 5, Connect-style stacks and plain http.createServer:
 *
 *   import tcpinfo from 'tcpinfo/express';
 *   app.use(tcpinfo('--hooks=ssn_start,txn_start,send_resp_hdr,txn_close --log-level=2'));
 *
 * A middleware only sees requests, so it attaches to the server (req.socket.server) on the first
 * request it sees from it; from then on the server's own events drive the log, as with attach().
 * Connections opened before that start at first sight (their next request), and the request that
 * made it attach is caught up: it has the same events as any other.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TcpinfoOptions } from '../config/types.js';
import type { TcpinfoStats } from '../attach.js';
import { catchUpRequest } from '../tap/server-events.js';
import { ServerLoggers, type IntegrationOptions } from './server-loggers.js';

/** The middleware `tcpinfo()` returns: `(req, res, next?)`, plus close() and stats(). */
export interface TcpinfoMiddleware {
  (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): void;
  /** The effective options. */
  readonly options: TcpinfoOptions;
  /** Detach from every server met, write out every queued line, close the file. The middleware then only calls next(). */
  close(): Promise<void>;
  /** Counts over every server met (lines written and lost: of the file). */
  stats(): TcpinfoStats;
}

/**
 * A middleware that logs TCP_INFO of the client connections of every server it serves. `options`: an
 * ATS options string or the same as an object. Bad options throw here, as does a log file that cannot
 * be opened; nothing at request time ever throws.
 */
export function tcpinfo(options?: IntegrationOptions): TcpinfoMiddleware {
  const loggers = new ServerLoggers(options);
  // The server of the last request: one comparison per request instead of a Map lookup.
  let lastServer: Server | undefined;

  function tcpinfoMiddleware(req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): void {
    const server = (req.socket as Socket & { server?: Server }).server;
    if (server !== lastServer && server !== undefined && !loggers.closed) {
      if (!loggers.has(server)) loggers.add(server, true);
      lastServer = server;
    }
    catchUpRequest(req, res);
    if (next !== undefined) next();
  }

  return Object.assign(tcpinfoMiddleware, {
    options: loggers.options,
    close: (): Promise<void> => loggers.close(),
    stats: (): TcpinfoStats => loggers.stats(),
  });
}

// CommonJS: require('tcpinfo/express') returns the function itself (Node >= 20.19 reads the
// 'module.exports' export name). CommonJS compiled by TypeScript reads .default or .tcpinfo of what
// require() returns, so the function carries both. @internal keeps the string export name out of the
// .d.ts, which TypeScript before 5.6 cannot parse.
Object.defineProperties(tcpinfo, { default: { value: tcpinfo }, tcpinfo: { value: tcpinfo } });
/** @internal */
export { tcpinfo as 'module.exports' };

export default tcpinfo;
export type { IntegrationOptions as TcpinfoMiddlewareOptions };
