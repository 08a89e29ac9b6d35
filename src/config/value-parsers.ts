/** The parse and show functions of the option table: an option's text to its value and back. */
import { lstatSync } from 'node:fs';
import path from 'node:path';
import { TCP_INFO_FIELD_NAMES } from '../tcpinfo/layout.js';
import { InvalidValue, type ParseContext } from './option-spec.js';
import { closest } from './closest.js';
import { stdioName } from './stdio-name.js';
import { HOOK_NAMES, type HookName } from '../events.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
export const SECONDS_PER_DAY = 86_400;
const MIN_ROLLING_SIZE = 10 * MiB;

/** Decimal digits only: Traffic Server's strtoul would also take `0x10`, `-5` or `12abc` (via atoi). */
export function decimalInteger(text: string, min: number, max: number): number {
  if (!/^[0-9]+$/.test(text)) throw new InvalidValue();
  const value = Number(text);
  if (value < min || value > max) throw new InvalidValue();
  return value;
}

export function parseSwitch(text: string): boolean {
  if (text === '1' || text === 'true') return true;
  if (text === '0' || text === 'false') return false;
  throw new InvalidValue();
}

/** A switch as the options string writes it. */
export function showSwitch(on: boolean): string {
  return on ? '1' : '0';
}

/** The parser of an option that takes one of `choices`. */
export function oneOf<const T extends string>(...choices: T[]): (text: string) => T {
  return (text) => {
    if (!(choices as readonly string[]).includes(text)) throw new InvalidValue();
    return text as T;
  };
}

export function parseFields(text: string): string[] {
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

export function parseHooks(text: string): HookName[] {
  const names = text.split(',').map((name) => name.trim());
  if (names.includes('')) throw new InvalidValue(`empty hook name (allowed: ${HOOK_NAMES.join(', ')})`);
  const unknown = names.filter((name) => !isHookName(name));
  if (unknown.length > 0) {
    const quoted = unknown.map((name) => `"${name}"`).join(', ');
    const why = unknown.includes('periodic') ? '; periodic reads are turned on by --update-period=SECONDS' : '';
    const near = unknown.flatMap((name) => {
      const hook = closest(name, HOOK_NAMES);
      return hook === undefined ? [] : [unknown.length === 1 ? hook : `${hook} for "${name}"`];
    });
    const meant = near.length > 0 ? `; did you mean ${near.join(', ')}?` : '';
    throw new InvalidValue(`unknown hook${unknown.length > 1 ? 's' : ''} ${quoted}${meant} (allowed: ${HOOK_NAMES.join(', ')})${why}`);
  }
  return [...new Set(names as HookName[])];
}

/** Refuses text that cannot be a path at all; whether the path exists is the log writer's business. */
export function checkPathText(text: string): string {
  if (text.includes('\0')) throw new InvalidValue('contains a NUL character');
  return text;
}

/** Octal, as chmod takes it (`640`, `0640`, or `0o640` as JavaScript writes it); permission bits only, the owner's read and write included. */
export function parseFileMode(text: string): number {
  const match = /^(?:0o|0*)([0-7]{3})$/.exec(text);
  if (match === null) throw new InvalidValue();
  const mode = parseInt(match[1], 8);
  if ((mode & 0o600) !== 0o600) throw new InvalidValue();
  return mode;
}

export function parseLogFile(text: string, context: ParseContext): string {
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

export function parseRollingInterval(text: string, context: ParseContext): number {
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

export function parseRollingSize(text: string, context: ParseContext): number {
  const { bytes, plain, number } = parseByteSize(text);
  if (bytes < MIN_ROLLING_SIZE) throw new InvalidValue(`below the minimum of 10 MiB (${MIN_ROLLING_SIZE} bytes)`);
  if (plain && bytes > PLAIN_ROLLING_SIZE_WARN) {
    context.notices.push(
      `--rolling-size=${text} is in MiB, as in Traffic Server: the file rolls at ${showLargeSize(bytes)}; ` +
        `for ${number} bytes write --rolling-size=${showByteSize(number)}` +
        (number < MIN_ROLLING_SIZE ? ` (the least allowed is 10M)` : ''),
    );
  }
  return bytes;
}

const MIN_QUEUE_BYTES = MiB;
const MAX_QUEUE_BYTES = 16 * GiB;

export function parseQueueBytes(text: string): number {
  const { bytes } = parseByteSize(text);
  if (bytes < MIN_QUEUE_BYTES || bytes > MAX_QUEUE_BYTES) throw new InvalidValue();
  return bytes;
}

/** 10 TiB, 96 GiB: a large size for a reader. */
function showLargeSize(bytes: number): string {
  const TiB = 1024 * GiB;
  return bytes >= TiB ? `${+(bytes / TiB).toFixed(1)} TiB` : `${+(bytes / GiB).toFixed(1)} GiB`;
}

/**
 * Bytes in the largest unit that divides them, so `tcpinfo check` shows `1024M` rather than 1073741824; K
 * rounded up where none does.
 */
export function showByteSize(bytes: number): string {
  if (bytes % GiB === 0) return `${bytes / GiB}G`;
  if (bytes % MiB === 0) return `${bytes / MiB}M`;
  return `${Math.ceil(bytes / KiB)}K`;
}

/** `*`, or a comma list of origins as a browser serializes them (`https://app.example`, `http://127.0.0.1:8080`). */
export function parseOrigins(text: string): string {
  const items = text.split(',').map((item) => item.trim());
  if (items.length === 1 && items[0] === '*') return '*';
  for (const item of items) {
    if (item === '*') throw new InvalidValue('* stands alone; give * or a list of origins');
    let origin: string;
    try {
      origin = new URL(item).origin;
    } catch {
      throw new InvalidValue(`${item === '' ? 'an empty item' : item} is not an origin; must be * or a comma list of origins (scheme://host[:port])`);
    }
    if (origin !== item) {
      throw new InvalidValue(origin === 'null' ? `${item} is not an origin (scheme://host[:port])` : `${item} is not an origin as browsers send it; did you mean ${origin}?`);
    }
  }
  return items.join(', ');
}
