// Every entry point, from TypeScript. Type-checked, never run, by test/slow/types.test.mjs:
//   npx tsc -p examples/tsconfig.json
// Each @ts-expect-error line is a mistake the types must catch (tsc fails if one is accepted).
import http from 'node:http';
import https from 'node:https';
import express from 'express';
import Fastify from 'fastify';
import {
  attach, loadConfig, parseOptions, TcpinfoConfigError,
  type HookName, type TcpinfoHandle, type TcpinfoOptions, type TcpinfoOptionsInput, type TcpinfoStats,
} from 'tcpinfo';
import tcpinfoMiddleware, { tcpinfo as namedMiddleware, type TcpinfoMiddleware, type TcpinfoMiddlewareOptions } from 'tcpinfo/express';
import tcpinfoPlugin, { tcpinfo as namedPlugin, type TcpinfoPluginHandle, type TcpinfoPluginOptions } from 'tcpinfo/fastify';
// The preload has no exports (importing it starts it): this checks that the entry point and its types resolve.
import type {} from 'tcpinfo/register';

// attach(): string, object or parsed options; a handle with close() and stats().
const server = http.createServer((req, res) => res.end('ok'));
const handle: TcpinfoHandle = attach(server, '--hooks=ssn_start,txn_close --log-level=2');
const input: TcpinfoOptionsInput = { hooks: ['ssn_start', 'txn_close'], logLevel: 2, sampleRate: '100' };
const options: TcpinfoOptions = parseOptions(input);
attach(https.createServer({}), options);
attach(server, loadConfig('plugin.config.example'));
const hook: HookName = options.hooks[0];
handle.on('warning', (err: Error) => console.error(err.message));
const closed: Promise<void> = handle.close();
const stats: TcpinfoStats = handle.stats();
const rtts: number = stats.logged.txn_close + stats.failedReads;
// @ts-expect-error: logLevel is a number or a numeric string
parseOptions({ logLevel: true });
// Options by their Traffic Server (kebab-case) names too; a misspelt name of either kind is a compile error.
const kebab: TcpinfoOptionsInput = { 'log-level': 2, 'rolling-interval-sec': 3600, 'log-file-mode': 0o644 };
// @ts-expect-error: no option logLevl (logLevel)
parseOptions({ logLevl: 2 });
// @ts-expect-error: no option log-levl (log-level)
attach(server, { 'log-levl': 2 });
// @ts-expect-error: attach needs a server
attach('--hooks=ssn_start');
try {
  parseOptions('--log-level=3');
} catch (err) {
  if (err instanceof TcpinfoConfigError) for (const p of err.problems) console.error(p.option, p.value, p.reason, p.line ?? '');
}

// tcpinfo/express: a middleware for Express 4 and 5, plain node:http and Connect-style stacks.
const middleware: TcpinfoMiddleware = tcpinfoMiddleware('--hooks=ssn_start,txn_start,send_resp_hdr,txn_close');
const fromObject: TcpinfoMiddleware = namedMiddleware({ hooks: 'ssn_start,txn_close', logFile: '/var/log/app/tcpinfo.log' });
const middlewareOptions: TcpinfoMiddlewareOptions = options;
tcpinfoMiddleware(middlewareOptions);
const app = express();
app.use(middleware);
app.use('/api', fromObject);
express.Router().use(middleware);
http.createServer(middleware);
http.createServer((req, res) => {
  middleware(req, res);
  res.end();
});
const middlewareStats: TcpinfoStats = middleware.stats();
const middlewareClosed: Promise<void> = middleware.close();
const effective: 1 | 2 = middleware.options.logLevel;
// @ts-expect-error: options are a string or an object
tcpinfoMiddleware(42);

// tcpinfo/fastify: a plugin, options under `options`; default and named export are the same plugin. Each
// registration decorates the instance with its handle: fastify.tcpinfo (typed), or under its own `decorator`.
const fastify = Fastify();
await fastify.register(tcpinfoPlugin, { options: '--hooks=ssn_start,txn_close -l 2' });
await fastify.register(namedPlugin, { options: { hooks: ['txn_close'], logFile: 'other.log' }, decorator: 'tcpinfoOther' });
const pluginOptions: TcpinfoPluginOptions = { options: { sampleRate: 10 }, decorator: 'tcpinfoSampled' };
await fastify.register(tcpinfoPlugin, pluginOptions);
await Fastify().register(tcpinfoPlugin);
const pluginHandle: TcpinfoPluginHandle = fastify.tcpinfo;
const pluginStats: TcpinfoStats = fastify.tcpinfo.stats();
const pluginClosed: Promise<void> = pluginHandle.close();
const pluginLevel: 1 | 2 = fastify.tcpinfo.options.logLevel;
// @ts-expect-error: the handle has no per-request API
fastify.tcpinfo(http.createServer());
// @ts-expect-error: decorator is a string
await fastify.register(tcpinfoPlugin, { decorator: 1 });
const secure = Fastify({ https: { key: '', cert: '' } });
await secure.register(tcpinfoPlugin, { options: { logLevel: 2 } });
// @ts-expect-error: options are a string or an object
await fastify.register(tcpinfoPlugin, { options: 42 });

export { closed, hook, kebab, rtts, middlewareStats, middlewareClosed, effective, pluginStats, pluginClosed, pluginLevel };
