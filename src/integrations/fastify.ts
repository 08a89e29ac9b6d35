/**
 * tcpinfo as a Fastify plugin:
 *
 *   import tcpinfo from 'tcpinfo/fastify';
 *   await fastify.register(tcpinfo, { options: '--hooks=ssn_start,txn_close --log-level=2' });
 *
 * It attaches to fastify.server (HTTP/2's too, with `http2: true`) from the start, so the log covers every
 * route, 404, hijacked reply and scope.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
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
}

/** Keys of plugin options that Fastify itself reads. */
const FASTIFY_KEYS = new Set(['options', 'prefix', 'logLevel', 'logSerializers']);

// eslint-disable-next-line @typescript-eslint/require-await -- Fastify's async plugin form: a throw fails the registration
const plugin: FastifyPluginAsync<TcpinfoPluginOptions> = async (fastify: FastifyInstance, pluginOptions: TcpinfoPluginOptions) => {
  const stray = Object.keys(pluginOptions ?? {}).filter((key) => !FASTIFY_KEYS.has(key));
  if (stray.length > 0) {
    throw withCode(new TypeError(
      `tcpinfo: fastify.register(tcpinfo, { ${stray.join(', ')} }): tcpinfo's options go under "options", ` +
        `e.g. fastify.register(tcpinfo, { options: { ${stray[0]}: ... } })`,
    ), 'ERR_TCPINFO_INVALID_ARGUMENT');
  }
  const loggers = new ServerLoggers(pluginOptions?.options);
  // fastify.server is not listening yet: every connection comes through its 'connection' event.
  loggers.add(fastify.server, false);
  fastify.addHook('onClose', () => loggers.close());
  // --explain with --log-url: the route template on each verdict line (tcpinfo explain --by=route).
  if (loggers.options.explain && loggers.options.logUrl) {
    fastify.addHook('onRequest', (request, _reply, done) => {
      setRoute(request.raw, request.routeOptions?.url);
      done();
    });
  }
};

/** The Fastify plugin; hooks for the whole app (fastify-plugin: not encapsulated). */
export const tcpinfo = fp(plugin, { name: 'tcpinfo', fastify: '5.x' });

// CommonJS: require('tcpinfo/fastify') returns the plugin itself (Node >= 20.19 reads the
// 'module.exports' export name); fastify-plugin gives it .default and .tcpinfo, which CommonJS
// compiled by TypeScript reads. @internal keeps the string export name out of the .d.ts, which
// TypeScript before 5.6 cannot parse.
/** @internal */
export { tcpinfo as 'module.exports' };

export default tcpinfo;
