/**
 * The preload: tcpinfo for an app whose code cannot change.
 *
 *   TCPINFO_OPTIONS='--hooks=ssn_start,txn_close -l 2' node --import tcpinfo/register app.js
 *   TCPINFO_CONFIG=/etc/trafficserver/plugin.config node --require tcpinfo/register app.cjs
 *
 * Options come from TCPINFO_OPTIONS (an options string) or TCPINFO_CONFIG (a plugin.config: its
 * tcpinfo.so line); neither: the defaults; both: an error. A bad configuration, or a log file that
 * cannot be opened, stops the process here, before the app runs, with exit code 1.
 *
 * Every http and https server is attached when it starts listening, so it sees every connection. The
 * log is written out on exit; on SIGINT/SIGTERM too, when the app has no handler of its own for the
 * signal (the process then dies of the signal, as it would have). An app that handles the signal
 * decides when to exit, and the log is written out when it does.
 */
import http from 'node:http';
import https from 'node:https';
import { isMainThread } from 'node:worker_threads';
import { parseOptions, TcpinfoConfigError } from './config/options.js';
import { loadConfig } from './config/plugin-config.js';
import type { TcpinfoOptions } from './config/types.js';
import { ServerLoggers } from './integrations/server-loggers.js';

/** Longest a signal waits for the log to be written out before the process dies of it anyway. */
const SIGNAL_FLUSH_MS = 1000;
const kRegistered = Symbol.for('tcpinfo.register');

/** The options the environment asks for; throws TcpinfoConfigError as parseOptions and loadConfig do. */
function optionsFromEnvironment(env: NodeJS.ProcessEnv): TcpinfoOptions {
  // An empty variable counts as unset, as shells and container specs often leave them.
  const text = env.TCPINFO_OPTIONS || undefined;
  const file = env.TCPINFO_CONFIG || undefined;
  if (text !== undefined && file !== undefined) {
    throw new TcpinfoConfigError([
      { option: 'TCPINFO_CONFIG', value: file, allowed: 'TCPINFO_OPTIONS is set too; set one of them, not both' },
    ]);
  }
  return file !== undefined ? loadConfig(file) : parseOptions(text);
}

function start(): void {
  let loggers: ServerLoggers;
  try {
    loggers = new ServerLoggers(optionsFromEnvironment(process.env));
  } catch (err) {
    if (!(err instanceof TcpinfoConfigError) && !(err instanceof Error && err.message.startsWith('tcpinfo:'))) throw err;
    const from = ['TCPINFO_OPTIONS', 'TCPINFO_CONFIG'].filter((name) => process.env[name]).join(' and ') || 'the defaults';
    process.stderr.write(`${err.message}\ntcpinfo/register: the app was not started (configuration from ${from})\n`);
    process.exit(1);
  }

  // listen() is where every http and https server passes, whoever made it (Express, Fastify, Koa,
  // node:http directly) and however (createServer or new Server); attached before it listens, a
  // server sees every connection. Own properties on the two prototypes only: other net servers are
  // untouched, and the inherited listen is looked up at each call, so later patches of it still run.
  for (const proto of [http.Server.prototype, https.Server.prototype]) {
    const parent = Object.getPrototypeOf(proto) as { listen: (...args: unknown[]) => unknown };
    Object.defineProperty(proto, 'listen', {
      configurable: true,
      writable: true,
      value: function listen(this: http.Server, ...args: unknown[]): unknown {
        loggers.add(this, false);
        return Reflect.apply(parent.listen, this, args);
      },
    });
  }

  process.on('beforeExit', () => void loggers.flush());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = (): void => {
      // The app has its own handler: exiting is its call, and the writer's 'exit' hook writes out the log.
      if (process.listenerCount(signal) > 1) return;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, SIGNAL_FLUSH_MS)));
      void Promise.race([loggers.close(), timeout]).then(() => {
        clearTimeout(timer);
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      });
    };
    process.on(signal, onSignal);
  }
}

// Loaded twice (--import and --require, or NODE_OPTIONS and the command line): start once. Worker
// threads have their own module instances and would open the same file with a second writer (and
// roller): the preload covers the main thread; attach() in a worker, with its own --log-file.
const state = globalThis as { [kRegistered]?: boolean };
if (isMainThread && state[kRegistered] !== true) {
  state[kRegistered] = true;
  start();
}
