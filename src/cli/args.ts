/** Command-line arguments (node:util parseArgs), exit codes, option values; a bad value is a `UsageError`. */
import { closest } from '../config/closest.js';
import { OPTION_SPECS } from '../config/option-table.js';
import { EVENT_NAMES } from '../events.js';
import { VERDICTS } from '../explain/verdict.js';
import { parseAtsTimestamp } from '../format/timestamp.js';

/** Exit codes of every command. */
export const EXIT_OK = 0;
/** The configuration is invalid, or the input cannot be read. */
export const EXIT_FAILURE = 1;
/** The command line is wrong: unknown option, bad value, missing operand. */
export const EXIT_USAGE = 2;

export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * Run parseArgs (or any parse of the command line), turning its errors into `UsageError`s; an unknown
 * `--name` gets the closest of `known` (the command's options), else what `elsewhere` says of it.
 */
export function usageErrors<T>(parse: () => T, known: object = {}, elsewhere?: (name: string) => string | undefined): T {
  try {
    return parse();
  } catch (err) {
    // parseArgs goes on to explain how to pass a positional starting with '-': the first sentence says it.
    const message = (err as Error).message.split('\n')[0];
    if ((err as NodeJS.ErrnoException).code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(message);
    const first = message.split('. ')[0];
    const name = /^Unknown option '--([^'=]+)/.exec(first)?.[1];
    if (name === undefined) throw new UsageError(first);
    const near = closest(name, Object.keys(known));
    const hint = near !== undefined ? `did you mean --${near}?` : elsewhere?.(name);
    throw new UsageError(hint === undefined ? first : `${first}; ${hint}`);
  }
}

export function nonNegativeInteger(option: string, text: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${option}=${text}: must be a whole number, 0 or more`);
  }
  return Number(text);
}

export function nonNegativeDecimal(option: string, text: string): number {
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !Number.isFinite(n)) {
    throw new UsageError(`${option}=${text}: must be a number, 0 or more (e.g. 2.5)`);
  }
  return n;
}

/** A comma list of event names; each must be one the plugin writes. */
export function eventList(option: string, text: string): Set<string> {
  const names = text.split(',').map((name) => name.trim()).filter((name) => name !== '');
  const known: readonly string[] = EVENT_NAMES;
  const unknown = names.filter((name) => !known.includes(name));
  if (names.length === 0 || unknown.length > 0) {
    throw new UsageError(`${option}=${text}: unknown event ${unknown.join(', ') || '(none given)'}; allowed: ${EVENT_NAMES.join(', ')}`);
  }
  return new Set(names);
}

/** A comma list of verdicts, each one the plugin writes. */
export function verdictList(option: string, text: string): Set<string> {
  const names = text.split(',').map((name) => name.trim()).filter((name) => name !== '');
  const known: readonly string[] = VERDICTS;
  const unknown = names.filter((name) => !known.includes(name));
  if (names.length === 0 || unknown.length > 0) {
    throw new UsageError(`${option}=${text}: unknown verdict ${unknown.join(', ') || '(none given)'}; allowed: ${VERDICTS.join(', ')}`);
  }
  return new Set(names);
}

/** For a log reader (tail, summary, explain): an unknown `--name` close to a plugin option, what it may have meant. */
export function pluginOptionNote(command: string): (name: string) => string | undefined {
  return (name) => {
    const option = closest(name, OPTION_SPECS.map((spec) => spec.long));
    if (option === undefined) return undefined;
    return option === 'hooks' ? `did you mean --event? (--hooks is the plugin's option)` : `--${option} is the plugin's option, not ${command}'s`;
  };
}

const DURATION = /^(\d+)(s|m|h|d)$/;
const DURATION_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A point in time (ms): an ATS timestamp, an ISO date or date-time (local unless `Z`/offset), or `90s`/`2h`/`7d` ago. */
export function pointInTime(option: string, text: string, now = Date.now()): number {
  const duration = DURATION.exec(text);
  if (duration !== null) return now - Number(duration[1]) * DURATION_MS[duration[2]];
  const ats = parseAtsTimestamp(text);
  if (!Number.isNaN(ats)) return ats;
  const date = DATE_ONLY.exec(text);
  if (date !== null) {
    const [year, month, day] = date.slice(1).map(Number);
    const local = new Date(year, month - 1, day);
    if (local.getMonth() === month - 1 && local.getDate() === day) return local.getTime();
  } else if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(text)) {
    const ms = Date.parse(text.replace(' ', 'T'));
    if (!Number.isNaN(ms)) return ms;
  }
  throw new UsageError(
    `${option}=${text}: not a time; use 20261123.14h05m09s, 2026-11-23, 2026-11-23T14:05:09, or a duration ago like 15m, 2h, 7d`,
  );
}
