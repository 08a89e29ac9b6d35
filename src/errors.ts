/** Every error and warning `code` tcpinfo gives a user, in one place (docs/api.md lists the same: test/codes.test.mjs). */

/** Errors thrown at start-up (from attach, the middleware, the Fastify plugin, parseOptions, the preload). */
export const ERROR_CODES = {
  ERR_TCPINFO_CONFIG: 'options or a plugin.config a user got wrong: a TcpinfoConfigError, whose `problems` name each option, value and what is allowed',
  ERR_TCPINFO_LOG_OPEN: 'the log file cannot be opened for appending (a missing directory, no permission, a read-only file system)',
  ERR_TCPINFO_LOG_FILE_CONFLICT: 'the log file is already written in this process with other columns, rolling settings or mode',
  ERR_TCPINFO_PROM_CLIENT_MISSING: '--metrics is on and prom-client cannot be loaded',
  ERR_TCPINFO_OTEL_API_MISSING: '--otel is on and @opentelemetry/api cannot be loaded',
  ERR_TCPINFO_INVALID_ARGUMENT: 'a function was given an argument of the wrong type (a TypeError): attach() without a server, options neither a string nor an object',
} as const;

/** Warnings: something worth knowing that does not stop the app. Faults are reported once, until cleared (and their clearing once). */
export const WARNING_CODES = {
  TCPINFO_NOTICE: 'an option was adjusted or has no effect (an interval raised to a divisor of 86400, rolling options with --log-file=stdout)',
  TCPINFO_UNSUPPORTED: 'TCP_INFO cannot be read on this system; nothing is logged',
  TCPINFO_LOG_OPEN_FAILED: 'the log file cannot be opened while running (or at start-up, for a fault such as no inode); lines wait in the queue',
  TCPINFO_WRITE_FAILED: 'writing the log failed or stalled (disk full, EIO, EPIPE, a reader that does not read); lines wait in the queue',
  TCPINFO_ROLL_FAILED: 'rolling the log file failed; lines still go to the live file and the roll is tried again',
  TCPINFO_QUEUE_FULL: 'the queue of lines waiting for the disk is full; further lines are dropped and counted',
  TCPINFO_WRITE_RECOVERED: 'the log is written again after TCPINFO_LOG_OPEN_FAILED, TCPINFO_WRITE_FAILED or TCPINFO_QUEUE_FULL (the last of them cleared, the queue at most half full); the message gives how long lines were held up and how many were lost meanwhile',
  TCPINFO_LINES_LOST: 'SIGINT or SIGTERM ended the process before the queue could be written out (about 1 s of waiting, a stalled pipe or disk); the message gives the number of lines lost',
  TCPINFO_RETENTION_FAILED: 'removing old rolled files (--rolling-max-count) failed; tried again after the next roll',
  TCPINFO_METRICS_SERVER: 'the --metrics-port server failed (for example, the port is taken)',
  TCPINFO_OTEL: 'with --otel, a call into OpenTelemetry (an SDK processor or reader) threw; counted, reported once, the request goes on',
  TCPINFO_SERVER_TIMING: 'with --server-timing, a response went out without its entry: the app\'s headers object could not be read or copied (reported once)',
  TCPINFO_ALREADY_LOGGED: 'the preload, the middleware or the Fastify plugin found a server already logged to the same file with other options; the first options stay',
  TCPINFO_ATTACH_FAILED: 'the preload, the middleware or the Fastify plugin could not log a server; the app goes on without its lines',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
export type WarningCode = keyof typeof WARNING_CODES;

/** `err` with its `code`, the way to tell tcpinfo's errors apart (the message is for people and may change). */
export function withCode<E extends Error, C extends ErrorCode>(err: E, code: C): E & { readonly code: C } {
  return Object.assign(err, { code });
}

/** An error tcpinfo threw at a user (one with a code of ERROR_CODES), as opposed to a bug or another module's. */
export function isTcpinfoError(err: unknown): err is Error & { code: ErrorCode } {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

/** One thing wrong with a configuration. */
export interface ConfigProblem {
  /** The option at fault in long form (`--log-level`), or the unknown option or stray word as written. */
  option: string;
  /** The value given, as text; `''` when there was none (or it was empty). */
  value: string;
  /** Why it was refused, and what is allowed where that helps: `must be 1 or 2`, `given twice; give it once`. */
  reason: string;
  /** 1-based line of plugin.config the problem is on. */
  line?: number;
  /** The file the configuration came from (for plugin.config), or undefined for an options string. */
  source?: string;
}

/** Thrown for a configuration a user got wrong; `problems` lists everything wrong with it, not just the first. */
export class TcpinfoConfigError extends Error {
  readonly code = 'ERR_TCPINFO_CONFIG' satisfies ErrorCode;
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[], options?: ErrorOptions) {
    super(['tcpinfo: invalid configuration', ...problems.map(formatProblem)].join('\n'), options);
    this.name = 'TcpinfoConfigError';
    this.problems = problems;
  }
}

/** `  plugin.config:3: --log-level=0: must be 1 or 2`, leaving out the parts a problem does not have. */
export function formatProblem(problem: ConfigProblem): string {
  const where = problem.source === undefined ? '' : problem.line === undefined ? problem.source : `${problem.source}:${problem.line}`;
  const subject = problem.value === '' ? problem.option : `${problem.option}=${showText(problem.value)}`;
  return `  ${[where, subject, problem.reason].filter((part) => part !== '').join(': ')}`;
}

/** Values are shown as given, quoted only where a reader could not otherwise see where they start and end. */
function showText(text: string): string {
  return text !== text.trim() || /\p{Cc}/u.test(text) ? JSON.stringify(text) : text;
}
