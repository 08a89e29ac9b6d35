/**
 * Reading the lines of a tcpinfo log, either format, told apart by content: ATS text (columns found by the
 * header's names, never by position: `--fields=` makes any header) or JSON lines (a line starting with `{`).
 * Formats: docs/log-format.md
 */
import { FIXED_COLUMNS, JSON_FIXED_KEYS, LEVEL2_COLUMNS, isHeaderLine } from './columns.js';
import { parseAtsTimestamp, parseIsoTime } from './timestamp.js';

/** One reading from the log, whichever format it came in. */
export interface LogRecord {
  readonly format: 'text' | 'json';
  /** When the reading was taken, in ms since the epoch. */
  readonly time: number;
  /** The time as the log wrote it (ATS timestamp or ISO). */
  readonly timeText: string;
  readonly event: string;
  readonly client: string;
  readonly server: string;
  /** A column's value when it is a number; `undefined` when the column is absent or `-`. */
  number(name: string): number | undefined;
  /** A column's value as text (a string in JSON); `undefined` when the column is absent, `-` or null. */
  text(name: string): string | undefined;
  /** The columns after time, event, client and server, in log order; `null` for a field the kernel lacked. */
  fields(): Array<[name: string, value: string | number | null]>;
  /** The reading as one JSON-lines object. */
  toJSON(): Record<string, unknown>;
}

/** Column names of a text file, from its header line (or guessed, when a file has none). */
export interface ColumnLayout {
  readonly columns: readonly string[];
  readonly index: ReadonlyMap<string, number>;
  /** True when no header was seen and the Traffic Server column order was assumed. */
  readonly guessed: boolean;
}

/** The Traffic Server level-2 header; level 1 is its first five columns, older kernels lack the last two. */
const ATS_COLUMNS: readonly string[] = [...FIXED_COLUMNS, ...LEVEL2_COLUMNS.map((c) => c.name)];
const FIXED_COUNT = FIXED_COLUMNS.length;

const SEPARATOR = /[ \t]+/;

function makeLayout(columns: readonly string[], guessed: boolean): ColumnLayout {
  const index = new Map<string, number>();
  columns.forEach((name, i) => {
    if (!index.has(name)) index.set(name, i);
  });
  return { columns, index, guessed };
}

/** A layout for a text line of `count` columns when no header was seen: the Traffic Server order. */
function guessLayout(count: number): ColumnLayout {
  const columns = ATS_COLUMNS.slice(0, count);
  for (let i = columns.length; i < count; i++) columns.push(`col${i + 1}`);
  return makeLayout(columns, true);
}

/** The columns of a text line. The plugin separates them by one space; tabs and runs of blanks are read too. */
function splitColumns(line: string): string[] {
  const tokens = line.split(' ');
  for (const token of tokens) {
    if (token === '' || token.includes('\t')) {
      const trimmed = line.trim();
      return trimmed === '' ? [] : trimmed.split(SEPARATOR);
    }
  }
  return tokens;
}

/** A numeric token as a number, `null` for the kernel's "absent" `-`, else the text itself. */
function typedValue(token: string | number): string | number | null {
  if (typeof token === 'number') return token;
  if (token === '-') return null;
  const n = Number(token);
  return token !== '' && Number.isFinite(n) ? n : token;
}

class TextRecord implements LogRecord {
  readonly format = 'text';
  readonly time: number;
  private readonly layout: ColumnLayout;
  private readonly tokens: string[];

  constructor(layout: ColumnLayout, tokens: string[], time: number) {
    this.layout = layout;
    this.tokens = tokens;
    this.time = time;
  }

  get timeText(): string {
    return this.tokens[0];
  }
  get event(): string {
    return this.tokens[1];
  }
  get client(): string {
    return this.tokens[2];
  }
  get server(): string {
    return this.tokens[3];
  }

  number(name: string): number | undefined {
    const i = this.layout.index.get(name);
    if (i === undefined) return undefined;
    const token = this.tokens[i];
    if (token === undefined || token === '-') return undefined;
    const n = Number(token);
    return Number.isFinite(n) ? n : undefined;
  }

  text(name: string): string | undefined {
    const i = this.layout.index.get(name);
    const token = i === undefined ? undefined : this.tokens[i];
    return token === '-' ? undefined : token;
  }

  fields(): Array<[string, string | number | null]> {
    const out: Array<[string, string | number | null]> = [];
    const { columns } = this.layout;
    for (let i = FIXED_COUNT; i < columns.length && i < this.tokens.length; i++) {
      out.push([columns[i], this.tokens[i] === '-' ? null : this.tokens[i]]);
    }
    return out;
  }

  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {
      time: new Date(this.time).toISOString(),
      event: this.event,
      client: this.client,
      server: this.server,
    };
    for (const [name, value] of this.fields()) out[name] = value === null ? null : typedValue(value);
    return out;
  }
}

const JSON_FIXED: ReadonlySet<string> = new Set(JSON_FIXED_KEYS);

class JsonRecord implements LogRecord {
  readonly format = 'json';
  readonly time: number;
  private readonly object: Record<string, unknown>;
  private readonly line: string;

  constructor(object: Record<string, unknown>, time: number, line: string) {
    this.object = object;
    this.time = time;
    this.line = line;
  }

  get timeText(): string {
    return String(this.object.time);
  }
  get event(): string {
    return String(this.object.event);
  }
  get client(): string {
    return typeof this.object.client === 'string' ? this.object.client : '';
  }
  get server(): string {
    return typeof this.object.server === 'string' ? this.object.server : '';
  }

  number(name: string): number | undefined {
    const value = this.object[name];
    return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
  }

  text(name: string): string | undefined {
    const value = this.object[name];
    return typeof value === 'string' ? value : undefined;
  }

  fields(): Array<[string, string | number | null]> {
    const out: Array<[string, string | number | null]> = [];
    for (const [name, value] of Object.entries(this.object)) {
      if (JSON_FIXED.has(name)) continue;
      if (value === null || typeof value === 'number' || typeof value === 'string') out.push([name, value]);
      else out.push([name, JSON.stringify(value)]);
    }
    return out;
  }

  toJSON(): Record<string, unknown> {
    return this.object;
  }

  toString(): string {
    return this.line;
  }
}

/**
 * Deepest a reading's values may nest. The plugin writes none nested; JSON.parse takes a line nested
 * 500,000 deep, but JSON.stringify (showing it) would overflow the stack.
 */
const MAX_NESTING = 64;

/** True when a value of `record` nests deeper than MAX_NESTING; iterative, so any depth is safe to look at. */
function nestsTooDeep(record: Record<string, unknown>): boolean {
  let stack: Array<[value: object, depth: number]> | undefined;
  for (const key in record) {
    const value = record[key];
    if (typeof value === 'object' && value !== null) (stack ??= []).push([value, 1]);
  }
  while (stack !== undefined && stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (depth > MAX_NESTING) return true;
    for (const inner of Object.values(value)) {
      if (typeof inner === 'object' && inner !== null) stack.push([inner as object, depth + 1]);
    }
  }
  return false;
}

/** Turns lines into records; a header line sets the columns after it. Call `startFile()` at each new file. */
export class LogLineParser {
  private layout: ColumnLayout | undefined;
  /** Lines that were neither a header, a record nor blank. */
  malformed = 0;
  /** Text lines read with a guessed layout because their file had no header line. */
  guessedLines = 0;

  startFile(): void {
    this.layout = undefined;
  }

  /** True when the line is a text header line (it names the columns). */
  static isHeader(line: string): boolean {
    return isHeaderLine(line);
  }

  /** The record of a line, or `undefined` for a header, a blank or a malformed line (counted). */
  parse(line: string): LogRecord | undefined {
    if (line.charCodeAt(0) === 0x7b /* { */) return this.parseJson(line);
    const tokens = splitColumns(line);
    if (tokens.length === 0) return undefined;
    if (tokens[0] === FIXED_COLUMNS[0]) {
      // A header mid-stream (several workers on one stdout) names the columns after it; not a reading.
      this.layout = makeLayout(tokens, false);
      return undefined;
    }
    const time = parseAtsTimestamp(tokens[0]);
    if (tokens.length < FIXED_COUNT || Number.isNaN(time)) {
      this.malformed++;
      return undefined;
    }
    let layout = this.layout;
    if (layout === undefined || (layout.guessed && layout.columns.length !== tokens.length)) {
      layout = this.layout = guessLayout(tokens.length);
    }
    if (layout.guessed) this.guessedLines++;
    return new TextRecord(layout, tokens, time);
  }

  private parseJson(line: string): LogRecord | undefined {
    let object: unknown;
    try {
      object = JSON.parse(line);
    } catch {
      this.malformed++;
      return undefined;
    }
    if (object === null || typeof object !== 'object' || Array.isArray(object)) {
      this.malformed++;
      return undefined;
    }
    const record = object as Record<string, unknown>;
    const time = parseIsoTime(record.time);
    if (Number.isNaN(time) || typeof record.event !== 'string' || nestsTooDeep(record)) {
      this.malformed++;
      return undefined;
    }
    return new JsonRecord(record, time, line);
  }
}
