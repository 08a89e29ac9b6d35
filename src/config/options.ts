/**
 * The plugin's options: one table of option specs, and the two ways users write options
 * (a Traffic Server options string, or an object) read into the same validated TcpinfoOptions.
 *
 *   text or object -> text per option -> each spec parses its text (or its default) -> TcpinfoOptions
 *
 * Every problem found on the way is collected, and all of them are thrown together as one
 * TcpinfoConfigError, so a user fixes a configuration in one pass instead of one error per start.
 */
import { lstatSync } from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import yargsParser from 'yargs-parser';
import { stdioName } from '../logger/stream-sink.js';
import { TCP_INFO_FIELD_NAMES } from '../tcpinfo/layout.js';
import { HOOK_NAMES, type HookName, type TcpinfoOptions, type TcpinfoOptionsInput } from './types.js';

// ---------------------------------------------------------------------------------------------
// Errors

/** One thing wrong with a configuration. */
export interface ConfigProblem {
  /** The option at fault in long form (`--log-level`), or the unknown option or stray word as written. */
  option: string;
  /** The value given, as text; `''` when there was none (or it was empty). */
  value: string;
  /** Why it was refused and what is allowed, e.g. `must be 1 or 2`. */
  allowed: string;
  /** 1-based line of plugin.config the problem is on. */
  line?: number;
  /** The file the configuration came from (for plugin.config), or undefined for an options string. */
  source?: string;
}

/** Thrown for a configuration a user got wrong; `problems` lists everything wrong with it, not just the first. */
export class TcpinfoConfigError extends Error {
  readonly code = 'ERR_TCPINFO_CONFIG';
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
  return `  ${[where, subject, problem.allowed].filter((part) => part !== '').join(': ')}`;
}

/** Values are shown as given, quoted only where a reader could not otherwise see where they start and end. */
function showText(text: string): string {
  return text !== text.trim() || /\p{Cc}/u.test(text) ? JSON.stringify(text) : text;
}

/** Thrown by an option's parse function; caught and turned into a ConfigProblem naming the option and value. */
class InvalidValue extends Error {
  /** Why, when the option's generic `must be <allowed>` would not say enough. */
  constructor(readonly reason?: string) {
    super(reason);
  }
}

// ---------------------------------------------------------------------------------------------
// The option table

/** What the option specs produce: every TcpinfoOptions field, plus `logDir`, which only serves `logFile`. */
export type OptionValues = Omit<TcpinfoOptions, 'notices' | 'metricsRegistry'> & { logDir: string };

/** What a parse function may use besides its own text. */
export interface ParseContext {
  /** Values of the options above this one in OPTION_SPECS (undefined where that value was invalid). */
  readonly values: Readonly<Partial<OptionValues>>;
  /** Where a parse function tells the user about a value it adjusted. */
  readonly notices: string[];
}

/** One option: how it is written, its default, and how its text becomes a value. */
export interface OptionSpec<K extends keyof OptionValues = keyof OptionValues> {
  /** Long name, as in plugin.config: `log-level` for `--log-level=2`. */
  long: string;
  /** Traffic Server's getopt letter (`l` for `-l 2`), if it has one. */
  short: string | undefined;
  /** The camelCase name: the field of TcpinfoOptions and a key of the object form. */
  key: K;
  /** The default, written as a user would write it, and parsed like one; undefined means no value. */
  default: string | undefined;
  /** What is allowed, completing "must be ...": `1 or 2`. */
  allowed: string;
  /** One line for `tcpinfo check` and the docs. */
  description: string;
  /** Text to value; throws InvalidValue for text that is not allowed. */
  parse(text: string, context: ParseContext): OptionValues[K];
  /** Value back to option text, where String(value) would not read well. */
  show?(value: OptionValues[K]): string;
  /** A switch: written alone (`--log-url`) it means on; `=1`/`=0` (or true/false) also work. */
  flag?: boolean;
}

/** Keeps each entry's parse and show checked against the type of its own key. */
function defineOption<K extends keyof OptionValues>(spec: OptionSpec<K>): OptionSpec<K> {
  return spec;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const SECONDS_PER_DAY = 86_400;
const MIN_ROLLING_SIZE = 10 * MiB;

/**
 * Every option, in the order they are parsed, listed and documented.
 * A new option is one entry here (and its field in TcpinfoOptions).
 * `log-dir` comes before `log-file` because a relative log file resolves against it.
 */
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
    parse: (text) => {
      if (text !== 'ats' && text !== 'json') throw new InvalidValue();
      return text;
    },
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
    show: (on) => (on ? '1' : '0'),
  }),
  defineOption({
    long: 'sample-by',
    short: undefined,
    key: 'sampleBy',
    default: 'event',
    allowed: 'event or session',
    description: 'event: each event is sampled on its own (as ATS); session: a connection is sampled whole.',
    parse: (text) => {
      if (text !== 'event' && text !== 'session') throw new InvalidValue();
      return text;
    },
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
    show: (on) => (on ? '1' : '0'),
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
];

const SPEC_BY_LONG = new Map(OPTION_SPECS.map((spec) => [spec.long, spec]));
const SPEC_BY_KEY = new Map(OPTION_SPECS.map((spec) => [spec.key as string, spec]));
const SPEC_BY_SHORT = new Map(OPTION_SPECS.filter((spec) => spec.short !== undefined).map((spec) => [spec.short, spec]));

/** Every option at its default, as an options string. */
export const DEFAULT_OPTIONS_STRING = OPTION_SPECS.filter((spec) => spec.default !== undefined)
  .map((spec) => `--${spec.long}=${spec.default}`)
  .join(' ');

// ---------------------------------------------------------------------------------------------
// Parse functions of the table

/** Decimal digits only: Traffic Server's strtoul would also take `0x10`, `-5` or `12abc` (via atoi). */
function decimalInteger(text: string, min: number, max: number): number {
  if (!/^[0-9]+$/.test(text)) throw new InvalidValue();
  const value = Number(text);
  if (value < min || value > max) throw new InvalidValue();
  return value;
}

function parseSwitch(text: string): boolean {
  if (text === '1' || text === 'true') return true;
  if (text === '0' || text === 'false') return false;
  throw new InvalidValue();
}

function parseFields(text: string): string[] {
  if (text === 'all') return [...TCP_INFO_FIELD_NAMES];
  const names = text.split(',').map((name) => name.trim());
  if (names.includes('')) throw new InvalidValue('empty field name; must be "all" or a comma list of struct tcp_info fields');
  const unknown = names.filter((name) => !TCP_INFO_FIELD_NAMES.includes(name));
  if (unknown.length > 0) {
    const quoted = unknown.map((name) => `"${name}"`).join(', ');
    throw new InvalidValue(`unknown field${unknown.length > 1 ? 's' : ''} ${quoted} (allowed: all, ${TCP_INFO_FIELD_NAMES.join(', ')})`);
  }
  return [...new Set(names)];
}

function isHookName(name: string): name is HookName {
  return (HOOK_NAMES as readonly string[]).includes(name);
}

function parseHooks(text: string): HookName[] {
  const names = text.split(',').map((name) => name.trim());
  if (names.includes('')) throw new InvalidValue(`empty hook name (allowed: ${HOOK_NAMES.join(', ')})`);
  const unknown = names.filter((name) => !isHookName(name));
  if (unknown.length > 0) {
    const quoted = unknown.map((name) => `"${name}"`).join(', ');
    const why = unknown.includes('periodic') ? '; periodic reads are turned on by --update-period=SECONDS' : '';
    throw new InvalidValue(`unknown hook${unknown.length > 1 ? 's' : ''} ${quoted} (allowed: ${HOOK_NAMES.join(', ')})${why}`);
  }
  return [...new Set(names as HookName[])];
}

/** Refuses text that cannot be a path at all; whether the path exists is the log writer's business. */
function checkPathText(text: string): string {
  if (text.includes('\0')) throw new InvalidValue('contains a NUL character');
  return text;
}

/** Octal, as chmod takes it (`640`, `0640`, or `0o640` as JavaScript writes it); permission bits only, the owner's read and write included. */
function parseFileMode(text: string): number {
  const match = /^(?:0o|0*)([0-7]{3})$/.exec(text);
  if (match === null) throw new InvalidValue();
  const mode = parseInt(match[1], 8);
  if ((mode & 0o600) !== 0o600) throw new InvalidValue();
  return mode;
}

function parseLogFile(text: string, context: ParseContext): string {
  // The process's own output (ATS's `stdout`; `/dev/stdout` and `/proc/self/fd/1` are the same, and are
  // never opened as paths: they are symlinks, and appending `.log` to one made /dev/stdout.log).
  const stdio = stdioName(text);
  if (stdio !== undefined) return stdio;
  const base = path.basename(checkPathText(text));
  if (text.endsWith('/') || base === '.' || base === '..') throw new InvalidValue('names a directory; must name a file');
  // An invalid --log-dir is reported on its own; the working directory stands in meanwhile.
  const dir = context.values.logDir ?? process.cwd();
  const resolved = path.resolve(dir, text);
  const stdioInDir = stdioName(resolved);
  if (stdioInDir !== undefined) return stdioInDir;
  // Traffic Server's rule, applied to the file's own name so a dotted directory does not count; but never
  // to something that exists and can be written though it is not a file (a FIFO, /dev/null, a socket).
  const name = base.includes('.') || isWritableSpecial(resolved) ? text : `${text}.log`;
  return path.resolve(dir, name);
}

/** A FIFO, a character device or a socket is at `file` (not following a symlink there). */
function isWritableSpecial(file: string): boolean {
  try {
    const st = lstatSync(file);
    return st.isFIFO() || st.isCharacterDevice() || st.isSocket();
  } catch {
    return false;
  }
}

function parseRollingInterval(text: string, context: ParseContext): number {
  const asked = decimalInteger(text, 60, SECONDS_PER_DAY);
  let seconds = asked;
  // Boundaries must fall at the same times every day, so the interval must divide the day.
  while (SECONDS_PER_DAY % seconds !== 0) seconds++;
  if (seconds !== asked) {
    context.notices.push(`--rolling-interval-sec=${asked} does not divide ${SECONDS_PER_DAY}: using ${seconds}`);
  }
  return seconds;
}

const SIZE_UNITS: Record<string, number> = { K: KiB, M: MiB, G: GiB };

/** Bytes of a size option's text: a plain number is MiB, as in Traffic Server; a suffix names its own unit. */
function parseByteSize(text: string): { bytes: number; plain: boolean; number: number } {
  const match = /^([0-9]+)([KMG])?$/i.exec(text);
  if (match === null) throw new InvalidValue();
  const number = Number(match[1]);
  const bytes = number * SIZE_UNITS[(match[2] ?? 'M').toUpperCase()];
  if (!Number.isSafeInteger(bytes)) throw new InvalidValue('too large');
  return { bytes, plain: match[2] === undefined, number };
}

/** Above this, a --rolling-size in MiB was surely meant as bytes (ATS reads 10485760 as 10 TiB too). */
const PLAIN_ROLLING_SIZE_WARN = 64 * GiB;

function parseRollingSize(text: string, context: ParseContext): number {
  const { bytes, plain, number } = parseByteSize(text);
  if (bytes < MIN_ROLLING_SIZE) throw new InvalidValue(`below the minimum of 10 MiB (${MIN_ROLLING_SIZE} bytes)`);
  if (plain && bytes > PLAIN_ROLLING_SIZE_WARN) {
    context.notices.push(
      `--rolling-size=${text} is in MiB, as in Traffic Server: the file rolls at ${showLargeSize(bytes)}; ` +
        `for ${number} bytes write --rolling-size=${bytesWithSuffix(number)}` +
        (number < MIN_ROLLING_SIZE ? ` (the least allowed is 10M)` : ''),
    );
  }
  return bytes;
}

const MIN_QUEUE_BYTES = MiB;
const MAX_QUEUE_BYTES = 16 * GiB;

function parseQueueBytes(text: string): number {
  const { bytes } = parseByteSize(text);
  if (bytes < MIN_QUEUE_BYTES || bytes > MAX_QUEUE_BYTES) throw new InvalidValue();
  return bytes;
}

/** `n` bytes with the suffix that writes them exactly, K rounded up where none does. */
function bytesWithSuffix(n: number): string {
  if (n % GiB === 0) return `${n / GiB}G`;
  if (n % MiB === 0) return `${n / MiB}M`;
  return `${Math.ceil(n / KiB)}K`;
}

/** 10 TiB, 96 GiB: a large size for a reader. */
function showLargeSize(bytes: number): string {
  const TiB = 1024 * GiB;
  return bytes >= TiB ? `${+(bytes / TiB).toFixed(1)} TiB` : `${+(bytes / GiB).toFixed(1)} GiB`;
}

/** Bytes in the largest unit that divides them, so `tcpinfo check` shows `1024M` rather than 1073741824. */
function showByteSize(bytes: number): string {
  if (bytes % GiB === 0) return `${bytes / GiB}G`;
  if (bytes % MiB === 0) return `${bytes / MiB}M`;
  return `${bytes / KiB}K`;
}

// ---------------------------------------------------------------------------------------------
// Reading an options string

/** A word of an options string, quotes removed, with where it starts and ends in the text. */
export interface OptionWord {
  text: string;
  start: number;
  end: number;
}

/**
 * Splits an options string into words as a shell would, minus escapes and variables: whitespace
 * separates, '...' and "..." may quote any part of a word, and `#` at the start of a word begins a
 * comment to the end of the line. Traffic Server only honours a double quote opening a whole word,
 * so `--log-file="my logs/tcp.log"` works here and not there.
 * We split ourselves because yargs-parser's own tokenizer splits on spaces only (not tabs) and
 * removes quotes only around a whole value.
 */
export function splitWords(text: string): { words: OptionWord[]; unclosedQuote?: OptionWord } {
  const words: OptionWord[] = [];
  let i = 0;
  while (i < text.length) {
    if (/\s/.test(text[i])) {
      i++;
      continue;
    }
    if (text[i] === '#') {
      const lineEnd = text.indexOf('\n', i);
      i = lineEnd < 0 ? text.length : lineEnd;
      continue;
    }
    const start = i;
    let word = '';
    while (i < text.length && !/\s/.test(text[i])) {
      const c = text[i];
      if (c === '"' || c === "'") {
        const close = text.indexOf(c, i + 1);
        if (close < 0) {
          const lineEnd = text.indexOf('\n', start);
          return { words, unclosedQuote: { text: text.slice(start, lineEnd < 0 ? undefined : lineEnd), start, end: text.length } };
        }
        word += text.slice(i + 1, close);
        i = close + 1;
      } else {
        word += c;
        i++;
      }
    }
    words.push({ text: word, start, end: i });
  }
  return { words };
}

/**
 * yargs-parser set to read getopt-style options and nothing more: every value stays text (we
 * validate it), no camelCase or dotted keys, no --no- negation, repeats kept (to report them),
 * and unknown options left as words (to report them as written).
 */
const YARGS_OPTIONS: yargsParser.Options = {
  string: OPTION_SPECS.map((spec) => spec.long),
  alias: Object.fromEntries(OPTION_SPECS.filter((spec) => spec.short !== undefined).map((spec) => [spec.long, [spec.short as string]])),
  configuration: {
    'camel-case-expansion': false,
    'dot-notation': false,
    'boolean-negation': false,
    'parse-numbers': false,
    'parse-positional-numbers': false,
    'duplicate-arguments-array': true,
    'flatten-duplicate-arrays': false,
    'greedy-arrays': false,
    'unknown-options-as-args': true,
    'strip-aliased': true,
    'populate--': true,
  },
};

/**
 * getopt reads `-ffoo.log` as `-f foo.log`; yargs-parser would read it as a group of flags -f -f -o...
 * so an attached value is split off first (for known letters; `-f=x` is left to yargs-parser).
 */
function splitAttachedShortValues(words: string[]): string[] {
  return words.flatMap((word) => {
    const match = /^-([A-Za-z])([^=][\s\S]*)$/.exec(word);
    return match !== null && SPEC_BY_SHORT.has(match[1]) ? [`-${match[1]}`, match[2]] : [word];
  });
}

function knownOptions(style: 'long' | 'key'): string {
  return OPTION_SPECS.map((spec) => (style === 'long' ? `--${spec.long}` : spec.key)).join(', ');
}

function unknownOption(option: string, value: string, style: 'long' | 'key'): ConfigProblem {
  return { option, value, allowed: `unknown option (known: ${knownOptions(style)})` };
}

function strayWord(word: string): ConfigProblem {
  return { option: word, value: '', allowed: 'unexpected word: options are written --name=value or -x value' };
}

/** yargs-parser leaves unknown options among the plain words; tell them apart as getopt would. */
function unknownOptionOrStrayWord(word: string): ConfigProblem {
  if (!word.startsWith('-') || word === '-') return strayWord(word);
  const eq = word.indexOf('=');
  return eq < 0 ? unknownOption(word, '', 'long') : unknownOption(word.slice(0, eq), word.slice(eq + 1), 'long');
}

/** The text given for each option in an options string. */
function readOptionsString(text: string, problems: ConfigProblem[]): Map<OptionSpec, string> {
  const { words, unclosedQuote } = splitWords(text);
  if (unclosedQuote !== undefined) {
    problems.push({ option: unclosedQuote.text, value: '', allowed: 'unclosed quote' });
  }
  const parsed = yargsParser.detailed(splitAttachedShortValues(words.map((word) => word.text)), YARGS_OPTIONS);
  if (parsed.error !== null) problems.push({ option: '', value: '', allowed: parsed.error.message });

  const texts = new Map<OptionSpec, string>();
  for (const [name, value] of Object.entries(parsed.argv)) {
    if (name === '_' || name === '--') continue;
    const spec = SPEC_BY_LONG.get(name);
    if (spec === undefined) {
      // Only --no-<name> gets here: yargs-parser keeps it as a key even with negation off.
      problems.push(unknownOption(`--${name}`, typeof value === 'string' ? value : '', 'long'));
    } else if (Array.isArray(value)) {
      const given = value.map((v) => JSON.stringify(String(v))).join(', ');
      problems.push({ option: `--${spec.long}`, value: '', allowed: `given ${value.length} times (${given}); give it once` });
    } else {
      texts.set(spec, String(value));
    }
  }
  for (const word of parsed.argv._) problems.push(unknownOptionOrStrayWord(String(word)));
  // After `--` even a word that looks like an option is a plain word.
  for (const word of (parsed.argv['--'] as unknown[] | undefined) ?? []) problems.push(strayWord(String(word)));
  return texts;
}

// ---------------------------------------------------------------------------------------------
// Reading an options object

/** The value of one key of the object form as option text, or undefined when its type is not allowed. */
function objectValueText(spec: OptionSpec, value: unknown): string | undefined {
  // A number in code is a mode as written in JavaScript (0o640); its text is its octal digits.
  if (spec.key === 'logFileMode' && typeof value === 'number') return Number.isInteger(value) && value >= 0 ? `0${value.toString(8)}` : String(value);
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (spec.flag === true && typeof value === 'boolean') return value ? '1' : '0';
  if (spec.key === 'metrics' && isRegistry(value)) return '1';
  if ((spec.key === 'hooks' || spec.key === 'fields') && Array.isArray(value) && value.every((item) => typeof item === 'string')) return value.join(',');
  return undefined;
}

/** The text given for each option in an options object, by camelCase or Traffic Server name. */
function readOptionsObject(input: object, problems: ConfigProblem[]): Map<OptionSpec, string> {
  const texts = new Map<OptionSpec, string>();
  const keyGiven = new Map<OptionSpec, string>();
  for (const [key, value] of Object.entries(input)) {
    // `{ logLevel: undefined }` is how code says "not set".
    if (value === undefined) continue;
    const spec = SPEC_BY_KEY.get(key) ?? SPEC_BY_LONG.get(key);
    if (spec === undefined) {
      problems.push(unknownOption(key, showAny(value), 'key'));
      continue;
    }
    const earlier = keyGiven.get(spec);
    if (earlier !== undefined) {
      problems.push({ option: `--${spec.long}`, value: '', allowed: `given twice (as ${earlier} and ${key}); give it once` });
      texts.delete(spec);
      continue;
    }
    keyGiven.set(spec, key);
    const text = objectValueText(spec, value);
    if (text === undefined) {
      const types = spec.key === 'hooks' ? 'an array of hook names or a comma list' : 'a string or a number';
      problems.push({ option: `--${spec.long}`, value: showAny(value), allowed: `must be ${types}` });
    } else {
      texts.set(spec, text);
    }
  }
  return texts;
}

/** A prom-client Registry, recognised by shape so this module need not load prom-client. */
function isRegistry(value: unknown): value is object {
  return typeof value === 'object' && value !== null && typeof (value as { registerMetric?: unknown }).registerMetric === 'function';
}

function showAny(value: unknown): string {
  return typeof value === 'string' ? value : inspect(value, { breakLength: Infinity, depth: 1 });
}

// ---------------------------------------------------------------------------------------------
// From texts to options

/** What `describeOptions` returns per option. */
export interface OptionRow {
  /** `--log-level` */
  option: string;
  /** The effective value, written as the option would take it (`1024M`, an absolute log file path). */
  value: string;
  /** True when the user did not give this option. */
  isDefault: boolean;
  description: string;
}

/** Options this module produced, with their rows for describeOptions; also how parseOptions knows them again. */
const produced = new WeakMap<TcpinfoOptions, OptionRow[]>();

function evaluate(texts: Map<OptionSpec, string>, problems: ConfigProblem[], metricsRegistry?: object): TcpinfoOptions {
  const values: Partial<Record<keyof OptionValues, unknown>> = {};
  const notices: string[] = [];
  const rows: OptionRow[] = [];
  for (const spec of OPTION_SPECS) {
    const given = texts.get(spec);
    const text = given === '' && spec.flag === true ? '1' : (given ?? spec.default);
    let value: unknown;
    try {
      if (text === '') throw new InvalidValue(`empty value; must be ${spec.allowed}`);
      value = text === undefined ? undefined : spec.parse(text, { values: values as Partial<OptionValues>, notices });
    } catch (err) {
      if (!(err instanceof InvalidValue)) throw err;
      problems.push({ option: `--${spec.long}`, value: text ?? '', allowed: err.reason ?? `must be ${spec.allowed}` });
    }
    values[spec.key] = value;
    const shown = value === undefined ? '' : spec.show !== undefined ? spec.show(value as never) : String(value);
    rows.push({ option: `--${spec.long}`, value: shown, isDefault: !texts.has(spec), description: spec.description });
  }
  if (problems.length > 0) throw new TcpinfoConfigError(problems);

  // Every spec has run without a problem, so every field is set; logDir has done its job in logFile.
  const { logDir: _logDir, ...fields } = values as OptionValues;
  if (fields.metricsPort !== undefined && !fields.metrics) {
    throw new TcpinfoConfigError([{ option: '--metrics-port', value: String(fields.metricsPort), allowed: 'needs --metrics' }]);
  }
  if (stdioName(fields.logFile) !== undefined) {
    // As in Traffic Server, the process's own output is never rolled (nor is a file it was redirected to:
    // renaming the file under the shell's `>` would take the app's own output with it). The rolling options
    // are not errors, since a shared plugin.config may carry them, but are named so none is silently lost.
    const given = OPTION_SPECS.filter((spec) => spec.long.startsWith('rolling-') && texts.has(spec) && !(spec.key === 'rollingEnabled' && fields.rollingEnabled === 0));
    if (given.length > 0) {
      notices.push(`--log-file=${fields.logFile} is never rolled: ${given.map((spec) => `--${spec.long}`).join(', ')} ignored`);
    }
  } else if (fields.rollingMaxCount > 0 && fields.rollingEnabled === 0) {
    notices.push(`--rolling-max-count=${fields.rollingMaxCount} has no effect with --rolling-enabled=0: the log never rolls`);
  }
  const options: TcpinfoOptions = { ...fields, metricsRegistry, notices };
  produced.set(options, rows);
  return options;
}

/**
 * Validates options given as a Traffic Server options string (`--hooks=ssn_start,txn_close -l 2`)
 * or as an object (camelCase or kebab-case keys, numbers or strings), and fills in the defaults.
 * Throws one TcpinfoConfigError listing every problem. Options this function returned before are
 * returned as they are, so the result can be handed on (to `attach`) without being read twice.
 */
export function parseOptions(input?: string | TcpinfoOptionsInput | TcpinfoOptions | null): TcpinfoOptions {
  if (input !== null && typeof input === 'object' && produced.has(input as TcpinfoOptions)) return input as TcpinfoOptions;
  const problems: ConfigProblem[] = [];
  let texts: Map<OptionSpec, string>;
  if (input === undefined || input === null) texts = new Map();
  else if (typeof input === 'string') texts = readOptionsString(input, problems);
  else if (typeof input === 'object' && !Array.isArray(input)) texts = readOptionsObject(input, problems);
  else throw new TypeError(`tcpinfo: options must be an options string or an object, not ${showAny(input)}`);
  const registry = typeof input === 'object' && input !== null && isRegistry((input as { metrics?: unknown }).metrics)
    ? ((input as { metrics: object }).metrics)
    : undefined;
  return evaluate(texts, problems, registry);
}

/** Every option with its effective value, for `tcpinfo check`. Throws what parseOptions throws. */
export function describeOptions(input?: string | TcpinfoOptionsInput | TcpinfoOptions | null): OptionRow[] {
  const rows = produced.get(parseOptions(input)) as OptionRow[];
  return rows.map((row) => ({ ...row }));
}
