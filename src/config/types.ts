/** Shapes of the plugin's configuration: what users write, and what the plugin runs with. */
import type { HookName } from '../events.js';
import type { TcpInfoFieldName } from '../tcpinfo/layout.js';

/** The validated, effective options the plugin runs with. */
export interface TcpinfoOptions {
  /** Events to log, in the order given. Default `['ssn_start', 'txn_close']`. */
  hooks: HookName[];
  /**
   * Absolute path of the live log file, after the `.log` rule and `logDir`, or `stdout` / `stderr` for the
   * process's own output (also written `/dev/stdout`, `/proc/self/fd/1`, ...). Default `<cwd>/tcpinfo.log`.
   */
  logFile: string;
  /** Mode of the log files created, whatever the umask (permission bits). Default 0o640. */
  logFileMode: number;
  /** 1: rtt only; 2: the 15 Traffic Server level-2 columns. Default 1. */
  logLevel: 1 | 2;
  /** Events logged per 1000 events, 0..1000. Default 1000. */
  sampleRate: number;
  /** Seed for the sampling generator; `undefined` samples with Math.random. */
  sampleSeed: string | undefined;
  /** 0 off, 1 by time, 2 by size, 3 by time or size. Default 1. */
  rollingEnabled: 0 | 1 | 2 | 3;
  /** Hour of the local day where time boundaries start, 0..23. Default 0. */
  rollingOffsetHr: number;
  /** Seconds between time boundaries, raised to a divisor of 86400. Default 86400. */
  rollingIntervalSec: number;
  /** Bytes after which the live file rolls (when size rolling is on). Default 1024 MiB. */
  rollingSize: number;
  /** Rolled files of this log kept (the oldest beyond are removed after a roll); 0 keeps all. Default 0. */
  rollingMaxCount: number;
  /** Lines that may wait in memory for the disk before further lines are dropped. Default 65536. */
  queueLines: number;
  /** Bytes of lines that may wait in memory before further lines are dropped. Default 16 MiB. */
  queueBytes: number;
  /** Seconds between reads of every open connection (event `periodic`); 0: no periodic reads. Default 0. */
  updatePeriod: number;
  /** `struct tcp_info` fields to log, in order, instead of the level's columns; `undefined`: the level's. */
  fields: string[] | undefined;
  /** `ats`: Traffic Server's text lines; `json`: one JSON object a line. Default `ats`. */
  format: 'ats' | 'json';
  /** With `format: 'json'`: add the request's path (never the query string). Default false. */
  logUrl: boolean;
  /** `event`: each event sampled on its own (ATS); `session`: a connection is sampled whole. Default `event`. */
  sampleBy: 'event' | 'session';
  /** Time each transaction and give it a verdict (server, network, client...) on its txn_close line. Default false. */
  explain: boolean;
  /** With `explain`: transactions shorter than this many milliseconds are `ok`. Default 100. */
  slowMs: number;
  /** Keep Envoy/Istio-style aggregate metrics on prom-client. Default false. */
  metrics: boolean;
  /** The prom-client Registry to register on (object options only); `undefined`: prom-client's default. */
  metricsRegistry: object | undefined;
  /** Serve `/metrics` on this port (0 = any free port); `undefined`: no server of our own. */
  metricsPort: number | undefined;
  /** Address the `/metrics` server listens on. Default 127.0.0.1. */
  metricsHost: string;
  /** With `explain`: spans, attributes and metrics on OpenTelemetry (needs `@opentelemetry/api`). Default false. */
  otel: boolean;
  /** Give each response a `Server-Timing` entry `tcpinfo` with its connection's TCP_INFO at txn_start. Default false. */
  serverTiming: boolean;
  /** With `serverTiming`: the `Timing-Allow-Origin` value those responses get (`*` or origins); `undefined`: none. */
  timingAllowOrigin: string | undefined;
  /** Things worth telling the user that are not errors (an interval raised to a divisor of 86400). */
  notices: string[];
}

/** A decimal number as text (`'100'`): a typo such as `'1O'` is a compile error; the runtime takes digits only. */
type NumberText = `${number}`;
/** A size as text: MiB as a plain number, or with a K, M or G suffix in either case (`'512M'`, `'10240k'`). */
type SizeText = NumberText | `${number}${'K' | 'M' | 'G' | 'k' | 'm' | 'g'}`;
/** An on/off option: a boolean, or as the options string writes it. */
type Switch = boolean | 0 | 1 | '0' | '1' | 'true' | 'false';

/** What `metrics` takes besides a switch: a prom-client Registry (recognised by its registerMetric). */
export interface MetricsRegistryLike {
  registerMetric(metric: never): unknown;
}

/**
 * How each option may be written in code, by its camelCase name (kebab-case is derived below): as strict as the
 * runtime, where a type can say it (literals, names, number text); ranges are checked at run time.
 */
export interface OptionInputs {
  /** An array of hook names, or a comma list. */
  hooks: readonly HookName[] | string;
  logFile: string;
  logDir: string;
  /** A number written in octal (`0o644`), or an octal string (`'0644'`, `'644'`, `'0o644'`). */
  logFileMode: number | NumberText | `0o${number}`;
  logLevel: 1 | 2 | '1' | '2';
  sampleRate: number | NumberText;
  sampleSeed: string | number;
  rollingEnabled: 0 | 1 | 2 | 3 | '0' | '1' | '2' | '3';
  rollingOffsetHr: number | NumberText;
  rollingIntervalSec: number | NumberText;
  /** MiB as a number; as text, with a K, M or G suffix too. */
  rollingSize: number | SizeText;
  rollingMaxCount: number | NumberText;
  queueLines: number | NumberText;
  /** MiB as a number; as text, with a K, M or G suffix too. */
  queueBytes: number | SizeText;
  updatePeriod: number | NumberText;
  /** An array of `struct tcp_info` field names, or a comma list (or `'all'`). */
  fields: readonly TcpInfoFieldName[] | string;
  format: 'ats' | 'json';
  logUrl: Switch;
  sampleBy: 'event' | 'session';
  explain: Switch;
  slowMs: number | NumberText;
  /** On or off, or a prom-client Registry to register the metrics on. */
  metrics: Switch | MetricsRegistryLike;
  metricsPort: number | NumberText;
  metricsHost: string;
  otel: Switch;
  serverTiming: Switch;
  /** `'*'` or a comma list of origins (`'https://app.example, https://www.example'`). */
  timingAllowOrigin: string;
}

/** `logFileMode` -> `log-file-mode`: an option's Traffic Server name from its camelCase one. */
type KebabCase<S extends string> = S extends `${infer C}${infer Rest}`
  ? `${C extends Lowercase<C> ? C : `-${Lowercase<C>}`}${KebabCase<Rest>}`
  : S;

/**
 * Options as a user writes them in code: any subset, by camelCase (`logLevel`) or Traffic Server
 * (`'log-level'`) name. Any other key is a compile error, as it is an error at run time.
 */
export type TcpinfoOptionsInput = { [K in keyof OptionInputs as K | KebabCase<K>]?: OptionInputs[K] };
