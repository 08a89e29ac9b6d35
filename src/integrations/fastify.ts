/**
 * tcpinfo as a Fastify plugin (Fastify 4 and 5):
 *
 *   import tcpinfo from 'tcpinfo/fastify';
 *   await fastify.register(tcpinfo, { options: '--hooks=ssn_start,txn_close --log-level=2' });
 *   fastify.tcpinfo.stats();
 *
 * It attaches to fastify.server (HTTP/2's too, with `http2: true`) from the start, so the log covers every
 * route, 404, hijacked reply and scope.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { TcpinfoStats } from '../attach.js';
import type { TcpinfoOptions, TcpinfoOptionsInput } from '../config/types.js';
import { withCode } from '../errors.js';
import { setRoute } from '../explain/route.js';
import { ServerLoggers } from './server-loggers.js';

export interface TcpinfoPluginOptions {
  /**
   * The tcpinfo options: an ATS options string (`'--hooks=ssn_start,txn_close -l 2'`) or the same as
   * an object (`{ hooks: ['ssn_start', 'txn_close'], logLevel: 2 }`). Default: every option's default.
   * Nested under `options` because Fastify keeps `logLevel` and `prefix` of plugin options for itself.
   */
  options?: string | TcpinfoOptionsInput | TcpinfoOptions;
  /** The instance property that gets this registration's handle. Default `'tcpinfo'`; a second registration needs
   * a name of its own. */
  decorator?: string;
}

/** The handle the plugin decorates the instance with (`fastify.tcpinfo`): what the Express middleware carries. */
export interface TcpinfoPluginHandle {
  /** The effective options. */
  readonly options: TcpinfoOptions;
  /** Detach from the server, write out every queued line, close the file (fastify.close() does it too). */
  close(): Promise<void>;
  /** Counts of this registration (lines written and lost: of the file). */
  stats(): TcpinfoStats;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** tcpinfo's handle (tcpinfo/fastify), registered with the default `decorator`. */
    tcpinfo: TcpinfoPluginHandle;
  }
}

/** Keys of plugin options: tcpinfo's, and those Fastify itself reads. */
const PLUGIN_KEYS = new Set(['options', 'decorator', 'prefix', 'logLevel', 'logSerializers']);

/** Fastify 5 and 4.x from 4.10 have routeOptions.url; earlier 4.x only routerPath (deprecated later: not read then). */
function routeTemplate(request: FastifyRequest): unknown {
  const routeOptions = request.routeOptions as { url?: unknown } | undefined;
  return routeOptions !== undefined ? routeOptions.url : (request as { routerPath?: unknown }).routerPath;
}

// eslint-disable-next-line @typescript-eslint/require-await -- Fastify's async plugin form: a throw fails the registration
const plugin: FastifyPluginAsync<TcpinfoPluginOptions> = async (fastify: FastifyInstance, pluginOptions: TcpinfoPluginOptions) => {
  const stray = Object.keys(pluginOptions ?? {}).filter((key) => !PLUGIN_KEYS.has(key));
  if (stray.length > 0) {
    throw withCode(new TypeError(
      `tcpinfo: fastify.register(tcpinfo, { ${stray.join(', ')} }): tcpinfo's options go under "options", ` +
        `e.g. fastify.register(tcpinfo, { options: { ${stray[0]}: ... } })`,
    ), 'ERR_TCPINFO_INVALID_ARGUMENT');
  }
  const decorator: unknown = pluginOptions?.decorator ?? 'tcpinfo';
  if (typeof decorator !== 'string' || decorator === '') {
    throw withCode(new TypeError(
      `tcpinfo: fastify.register(tcpinfo, { decorator: ${JSON.stringify(decorator)} }): decorator must be a non-empty string, ` +
        'the instance property that gets the handle',
    ), 'ERR_TCPINFO_INVALID_ARGUMENT');
  }
  // Before the file is opened: nothing to give back.
  if (fastify.hasDecorator(decorator)) {
    throw withCode(new TypeError(
      `tcpinfo: fastify.${decorator} is already taken (tcpinfo registered twice?): give this registration a name of its own, ` +
        `e.g. fastify.register(tcpinfo, { options: ..., decorator: '${decorator}2' })`,
    ), 'ERR_TCPINFO_INVALID_ARGUMENT');
  }
  const loggers = new ServerLoggers(pluginOptions?.options);
  const handle: TcpinfoPluginHandle = {
    options: loggers.options,
    close: (): Promise<void> => loggers.close(),
    stats: (): TcpinfoStats => loggers.stats(),
  };
  fastify.decorate(decorator, handle);
  // fastify.server is not listening yet: every connection comes through its 'connection' event.
  loggers.add(fastify.server, false);
  fastify.addHook('onClose', () => loggers.close());
  // --explain with --log-url: the route template on each verdict line (tcpinfo explain --by=route).
  if (loggers.options.explain && loggers.options.logUrl) {
    fastify.addHook('onRequest', (request, _reply, done) => {
      setRoute(request.raw, routeTemplate(request));
      done();
    });
  }
};

/** The Fastify plugin; hooks for the whole app (fastify-plugin: not encapsulated). */
export const tcpinfo = fp(plugin, { name: 'tcpinfo', fastify: '4.x || 5.x' });

// CommonJS: require('tcpinfo/fastify') returns the plugin itself (Node >= 20.19 reads the
// 'module.exports' export name); fastify-plugin gives it .default and .tcpinfo, which CommonJS
// compiled by TypeScript reads. @internal keeps the string export name out of the .d.ts, which
// TypeScript before 5.6 cannot parse.
/** @internal */
export { tcpinfo as 'module.exports' };

export default tcpinfo;
