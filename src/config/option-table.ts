/** The option table: every option's names, default, what is allowed, and how its text is read. */
import path from 'node:path';
import type { ConfigProblem } from '../errors.js';
import { closest } from './closest.js';
import { TCP_INFO_FIELD_NAMES } from '../tcpinfo/layout.js';
import { defineOption, InvalidValue, type OptionSpec } from './option-spec.js';
import { HOOK_NAMES } from '../events.js';
import {
  checkPathText, decimalInteger, parseFields, parseFileMode, parseHooks, parseLogFile, parseQueueBytes,
  oneOf, parseOrigins, parseRollingInterval, parseRollingSize, parseSwitch, SECONDS_PER_DAY, showByteSize, showSwitch,
} from './value-parsers.js';

/** Every option, in parse and doc order (`log-dir` before `log-file`, which resolves against it). */
export const OPTION_SPECS: readonly OptionSpec[] = [
  defineOption({
    long: 'hooks',
    short: 'h',
    key: 'hooks',
    default: 'ssn_start,txn_close',
    allowed: `a comma list of ${HOOK_NAMES.join(', ')}`,
    description: 'Events at which TCP_INFO of the client connection is read and logged.',
    parse: parseHooks,
    show: (hooks) => hooks.join(','),
  }),
  defineOption({
    long: 'log-dir',
    short: undefined,
    key: 'logDir',
    default: '.',
    allowed: 'a directory path',
    description: 'Directory a relative --log-file is in; relative to the working directory.',
    parse: (text) => path.resolve(checkPathText(text)),
  }),
  defineOption({
    long: 'log-file',
    short: 'f',
    key: 'logFile',
    default: 'tcpinfo',
    allowed: 'a file name or path, or stdout or stderr',
    description: 'The live log file ("stdout"/"stderr": the process\'s own); ".log" is appended to a name with no ".".',
    parse: parseLogFile,
  }),
  defineOption({
    long: 'log-level',
    short: 'l',
    key: 'logLevel',
    default: '1',
    allowed: '1 or 2',
    description: '1 logs rtt only; 2 logs the Traffic Server level-2 columns.',
    parse: (text) => {
      if (text !== '1' && text !== '2') throw new InvalidValue();
      return text === '1' ? 1 : 2;
    },
  }),
  defineOption({
    long: 'log-file-mode',
    short: undefined,
    key: 'logFileMode',
    default: '0640',
    allowed: 'an octal file mode from 0600 to 0777 that lets the owner read and write (e.g. 0640, 0644)',
    description: 'Mode of the log files created (rolled files keep it), whatever the umask; an existing file keeps its own.',
    parse: parseFileMode,
    show: (mode) => `0${mode.toString(8)}`,
  }),
  defineOption({
    long: 'sample-rate',
    short: 'r',
    key: 'sampleRate',
    default: '1000',
    allowed: 'a decimal integer from 0 to 1000',
    description: 'Events logged per 1000 events, chosen at random event by event.',
    parse: (text) => decimalInteger(text, 0, 1000),
  }),
  defineOption({
    long: 'sample-seed',
    short: undefined,
    key: 'sampleSeed',
    default: undefined,
    allowed: 'a non-empty string',
    description: 'Seed for the sampling generator, for repeatable sampling; none means Math.random.',
    parse: (text) => text,
  }),
  defineOption({
    long: 'rolling-enabled',
    short: 'e',
    key: 'rollingEnabled',
    default: '1',
    allowed: '0 (off), 1 (by time), 2 (by size) or 3 (by time or size)',
    description: 'When the log file rolls: 0 never, 1 by time, 2 by size, 3 by time or size.',
    parse: (text) => decimalInteger(text, 0, 3) as 0 | 1 | 2 | 3,
  }),
  defineOption({
    long: 'rolling-offset-hr',
    short: 'H',
    key: 'rollingOffsetHr',
    default: '0',
    allowed: 'a decimal integer from 0 to 23',
    description: 'Hour of the local day at which time boundaries start.',
    parse: (text) => decimalInteger(text, 0, 23),
  }),
  defineOption({
    long: 'rolling-interval-sec',
    short: 'S',
    key: 'rollingIntervalSec',
    default: String(SECONDS_PER_DAY),
    allowed: 'a decimal integer from 60 to 86400',
    description: 'Seconds between time boundaries; raised to the next divisor of 86400.',
    parse: parseRollingInterval,
  }),
  defineOption({
    long: 'rolling-size',
    short: 'M',
    key: 'rollingSize',
    default: '1024',
    allowed: 'a whole number of MiB, or a whole number with a K, M or G suffix (KiB, MiB, GiB), at least 10 MiB',
    description: 'Size at which the log file rolls, when rolling by size.',
    parse: parseRollingSize,
    show: showByteSize,
  }),
  defineOption({
    long: 'rolling-max-count',
    short: undefined,
    key: 'rollingMaxCount',
    default: '0',
    allowed: 'a decimal integer from 0 (keep all) to 100000',
    description: 'Rolled files of this log kept; after a roll the oldest beyond it are removed; 0 keeps all.',
    parse: (text) => decimalInteger(text, 0, 100_000),
  }),
  defineOption({
    long: 'queue-lines',
    short: undefined,
    key: 'queueLines',
    default: '65536',
    allowed: 'a decimal integer from 1000 to 10000000',
    description: 'Lines that may wait in memory for the disk before further lines are dropped.',
    parse: (text) => decimalInteger(text, 1000, 10_000_000),
  }),
  defineOption({
    long: 'queue-bytes',
    short: undefined,
    key: 'queueBytes',
    default: '16',
    allowed: 'a whole number of MiB, or a whole number with a K, M or G suffix (KiB, MiB, GiB), from 1 MiB to 16 GiB',
    description: 'Bytes of lines that may wait in memory before further lines are dropped (with --queue-lines).',
    parse: parseQueueBytes,
    show: showByteSize,
  }),
  defineOption({
    long: 'update-period',
    short: undefined,
    key: 'updatePeriod',
    default: '0',
    allowed: 'a decimal integer of seconds from 0 (off) to 86400',
    description: 'Seconds between reads of every open connection, logged as event "periodic"; 0 is off.',
    parse: (text) => decimalInteger(text, 0, SECONDS_PER_DAY),
  }),
  defineOption({
    long: 'fields',
    short: undefined,
    key: 'fields',
    default: undefined,
    allowed: `"all" or a comma list of struct tcp_info fields (${TCP_INFO_FIELD_NAMES.join(', ')})`,
    description: 'struct tcp_info fields to log, in order, instead of the level\'s columns; "all" for every one.',
    parse: parseFields,
    show: (fields) => (fields === undefined ? '' : fields.join(',')),
  }),
  defineOption({
    long: 'format',
    short: undefined,
    key: 'format',
    default: 'ats',
    allowed: 'ats or json',
    description: 'ats: Traffic Server text lines under a header; json: one JSON object a line.',
    parse: oneOf('ats', 'json'),
  }),
  defineOption({
    long: 'log-url',
    short: undefined,
    key: 'logUrl',
    default: '0',
    allowed: '1 or 0 (or true or false), or --log-url alone for 1',
    description: 'With --format=json, add the request path to transaction events (never the query string).',
    flag: true,
    parse: parseSwitch,
    show: showSwitch,
  }),
  defineOption({
    long: 'sample-by',
    short: undefined,
    key: 'sampleBy',
    default: 'event',
    allowed: 'event or session',
    description: 'event: each event is sampled on its own (as ATS); session: a connection is sampled whole.',
    parse: oneOf('event', 'session'),
  }),
  defineOption({
    long: 'explain',
    short: undefined,
    key: 'explain',
    default: '0',
    allowed: '1 or 0 (or true or false), or --explain alone for 1',
    description: "Time each transaction and judge its slowness (server, network or client) from the kernel's accounting: columns on txn_close lines (docs/explain.md).",
    flag: true,
    parse: parseSwitch,
    show: showSwitch,
  }),
  defineOption({
    long: 'slow-ms',
    short: undefined,
    key: 'slowMs',
    default: '100',
    allowed: 'a decimal integer from 0 to 3600000 (milliseconds)',
    description: 'With --explain: a transaction shorter than this is ok; a longer one gets a verdict.',
    parse: (text) => decimalInteger(text, 0, 3_600_000),
  }),
  defineOption({
    long: 'metrics',
    short: undefined,
    key: 'metrics',
    default: '0',
    allowed: '1 or 0 (or true or false), or --metrics alone for 1; in code also a prom-client Registry',
    description: 'Keep aggregate TCP metrics (Envoy tcp_stats, Istio) on prom-client, from every connection.',
    flag: true,
    parse: parseSwitch,
    show: showSwitch,
  }),
  defineOption({
    long: 'metrics-port',
    short: undefined,
    key: 'metricsPort',
    default: undefined,
    allowed: 'a decimal integer from 0 to 65535 (0: any free port)',
    description: 'Serve the metrics at /metrics on this port, for apps with no metrics endpoint of their own.',
    parse: (text) => decimalInteger(text, 0, 65535),
  }),
  defineOption({
    long: 'metrics-host',
    short: undefined,
    key: 'metricsHost',
    default: '127.0.0.1',
    allowed: 'an IP address or host name',
    description: 'Address the --metrics-port server listens on.',
    parse: (text) => {
      if (/\s/.test(text)) throw new InvalidValue();
      return text;
    },
  }),
  defineOption({
    long: 'otel',
    short: undefined,
    key: 'otel',
    default: '0',
    allowed: '1 or 0 (or true or false), or --otel alone for 1',
    description: 'With --explain: TCP readings on the request\'s OpenTelemetry span, the verdict as a child span, verdict metrics (docs/otel.md).',
    flag: true,
    parse: parseSwitch,
    show: showSwitch,
  }),
  defineOption({
    long: 'server-timing',
    short: undefined,
    key: 'serverTiming',
    default: '0',
    allowed: '1 or 0 (or true or false), or --server-timing alone for 1',
    description: 'Give each response a Server-Timing entry "tcpinfo" with its connection\'s rtt, cwnd, retransmissions... at its txn_start, for the browser (docs/server-timing.md).',
    flag: true,
    parse: parseSwitch,
    show: showSwitch,
  }),
  defineOption({
    long: 'timing-allow-origin',
    short: undefined,
    key: 'timingAllowOrigin',
    default: undefined,
    allowed: '* or a comma list of origins (scheme://host[:port])',
    description: 'With --server-timing: the Timing-Allow-Origin those responses get, so pages of these origins see the entry.',
    parse: parseOrigins,
  }),
];

export const SPEC_BY_LONG = new Map(OPTION_SPECS.map((spec) => [spec.long, spec]));
export const SPEC_BY_KEY = new Map(OPTION_SPECS.map((spec) => [spec.key as string, spec]));
export const SPEC_BY_SHORT = new Map(OPTION_SPECS.filter((spec) => spec.short !== undefined).map((spec) => [spec.short, spec]));

/** Every option at its default, as an options string. */
export const DEFAULT_OPTIONS_STRING = OPTION_SPECS.filter((spec) => spec.default !== undefined)
  .map((spec) => `--${spec.long}=${spec.default}`)
  .join(' ');

function knownOptions(style: 'long' | 'key'): string {
  return OPTION_SPECS.map((spec) => (style === 'long' ? `--${spec.long}` : spec.key)).join(', ');
}

/**
 * An option not in the table, named as the user wrote it, with the closest known one in the same style (an
 * object key may be meant as either name), or else every known one.
 */
export function unknownOption(option: string, value: string, style: 'long' | 'key'): ConfigProblem {
  const names = style === 'long' ? OPTION_SPECS.map((spec) => spec.long) : OPTION_SPECS.flatMap((spec) => [spec.key as string, spec.long]);
  const near = closest(style === 'long' ? option.replace(/^-+/, '') : option, names);
  if (near !== undefined) return { option, value, reason: `unknown option; did you mean ${style === 'long' ? '--' : ''}${near}?` };
  return { option, value, reason: `unknown option (known: ${knownOptions(style)})` };
}
