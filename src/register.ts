/**
 * The preload: tcpinfo for an app whose code cannot change.
 *
 *   TCPINFO_OPTIONS='--hooks=ssn_start,txn_close -l 2' node --import tcpinfo/register app.js
 *   TCPINFO_CONFIG=/etc/trafficserver/plugin.config node --require tcpinfo/register app.cjs
 *
 * A bad configuration stops the process before the app runs (exit 1); every http, https and HTTP/2 server
 * is attached when it listens. Docs: docs/deploying.md#without-code-changes-the-preload
 */
import http from 'node:http';
import https from 'node:https';
import http2 from 'node:http2';
import { isMainThread } from 'node:worker_threads';
import { describeLogging } from './config/describe.js';
import { parseOptions, TcpinfoConfigError } from './config/options.js';
import { loadConfig } from './config/plugin-config.js';
import type { TcpinfoOptions } from './config/types.js';
import { isTcpinfoError } from './errors.js';
import { ServerLoggers } from './integrations/server-loggers.js';
import { isMetricsServer } from './metrics/metrics-server.js';

const kRegistered = Symbol.for('tcpinfo.register');

/** The options the environment asks for; throws TcpinfoConfigError as parseOptions and loadConfig do. */
function optionsFromEnvironment(env: NodeJS.ProcessEnv): TcpinfoOptions {
  // An empty variable counts as unset, as shells and container specs often leave them.
  const text = env.TCPINFO_OPTIONS || undefined;
  const file = env.TCPINFO_CONFIG || undefined;
  if (text !== undefined && file !== undefined) {
    throw new TcpinfoConfigError([
      { option: 'TCPINFO_CONFIG', value: file, reason: 'TCPINFO_OPTIONS is set too; set one of them, not both' },
    ]);
  }
  return file !== undefined ? loadConfig(file) : parseOptions(text);
}

/** Where the preload's options are given, for a log file it cannot open (the error names the options to give). */
function whereOptionsGo(env: NodeJS.ProcessEnv): string {
  if (env.TCPINFO_CONFIG) return `  add the option to the tcpinfo.so line of ${env.TCPINFO_CONFIG} (TCPINFO_CONFIG)`;
  const now = env.TCPINFO_OPTIONS ? `${env.TCPINFO_OPTIONS} ` : '';
  return `  the preload takes its options from TCPINFO_OPTIONS: TCPINFO_OPTIONS='${now}--log-file=stdout --format=json' node --import tcpinfo/register app.js`;
}

/** TCPINFO_QUIET=1 (or true, yes). */
function isTrue(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes|on)$/i.test(value.trim());
}

function start(): void {
  let loggers: ServerLoggers;
  try {
    loggers = new ServerLoggers(optionsFromEnvironment(process.env));
  } catch (err) {
    if (!isTcpinfoError(err)) throw err;
    const from = ['TCPINFO_OPTIONS', 'TCPINFO_CONFIG'].filter((name) => process.env[name]).join(' and ') || 'the defaults';
    const how = err.code === 'ERR_TCPINFO_LOG_OPEN' ? `${whereOptionsGo(process.env)}\n` : '';
    process.stderr.write(`${err.message}\ntcpinfo/register: the app was not started (configuration from ${from})\n${how}`);
    process.exit(1);
  }

  // listen() is where every http, https and HTTP/2 server passes, whoever made it (Express, Fastify, Koa,
  // gRPC, node:http directly) and however (createServer or new Server); attached before it listens, a
  // server sees every connection. Own properties on the four prototypes only: other net servers are
  // untouched, and the inherited listen is looked up at each call, so later patches of it still run.
  // node:http2 exports neither of its server classes: their prototypes, from servers made to see them.
  const http2Server = Object.getPrototypeOf(http2.createServer()) as object;
  const http2SecureServer = Object.getPrototypeOf(http2.createSecureServer()) as object;
  for (const proto of [http.Server.prototype, https.Server.prototype, http2Server, http2SecureServer]) {
    const parent = Object.getPrototypeOf(proto) as { listen: (...args: unknown[]) => unknown };
    Object.defineProperty(proto, 'listen', {
      configurable: true,
      writable: true,
      value: function listen(this: http.Server, ...args: unknown[]): unknown {
        // The /metrics server of --metrics-port: logging it would measure the scrapes, and with metrics
        // on, attaching to it would start another /metrics server, which would be attached in turn.
        if (!isMetricsServer(this)) loggers.add(this, false);
        return Reflect.apply(parent.listen, this, args);
      },
    });
  }

  if (!isTrue(process.env.TCPINFO_QUIET)) process.stderr.write(`tcpinfo: ${describeLogging(loggers.options)}\n`);
}

// Loaded twice (--import and --require, or NODE_OPTIONS and the command line): start once. Worker
// threads have their own module instances and would open the same file with a second writer (and
// roller): the preload covers the main thread; attach() in a worker, with its own --log-file.
const state = globalThis as { [kRegistered]?: boolean };
if (isMainThread && state[kRegistered] !== true) {
  state[kRegistered] = true;
  start();
}
