/**
 * tcpinfo as a middleware, for Express 4 and 5, Connect-style stacks and plain http.createServer:
 *
 *   import tcpinfo from 'tcpinfo/express';
 *   app.use(tcpinfo('--hooks=ssn_start,txn_start,send_resp_hdr,txn_close --log-level=2'));
 *
 * It attaches to a server at its first request; a late join: docs/design.md#how-the-events-are-hooked
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TcpinfoOptions } from '../config/types.js';
import type { TcpinfoStats } from '../attach.js';
import { catchUpRequest } from '../hooks/server.js';
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
 * A middleware that logs TCP_INFO of the client connections of every server it serves. Bad options or a
 * log file that cannot be opened throw here; nothing at request time ever throws.
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

// require('tcpinfo/express') returns the function (Node >= 20.19 reads 'module.exports'); it carries
// .default and .tcpinfo for TypeScript's CJS. @internal: TypeScript < 5.6 cannot parse this in a .d.ts.
Object.defineProperties(tcpinfo, { default: { value: tcpinfo }, tcpinfo: { value: tcpinfo } });
/** @internal */
export { tcpinfo as 'module.exports' };

export default tcpinfo;
export type { IntegrationOptions as TcpinfoMiddlewareOptions };
