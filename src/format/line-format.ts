/**
 * The line for an event: `ats` (Traffic Server's text, under a header naming the columns) or `json` (one
 * object a line). Formats: docs/log-format.md. The path is the only free text: at most MAX_URL_CHARS,
 * control characters escaped, so a line never carries a terminal escape or a line break of its own.
 * A formatter allocates only the line; where each column sits in the struct is layout.ts's business.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { TcpinfoOptions } from '../config/types.js';
import { Http2Exchange, type Transaction } from '../events.js';
import { connectionId } from '../tcpinfo/connection-id.js';
import { endpointsOf } from '../tcpinfo/endpoints.js';
import { fieldSpec, fieldText, type FieldSpec } from '../tcpinfo/layout.js';
import type { Reading } from '../tcpinfo/read.js';
import type { ExplainedTransaction } from '../explain/transaction-state.js';
import { EXPLAIN_COLUMNS, EXPLAIN_NUMBER_COLUMNS, LEVEL2_COLUMNS, headerLine } from './columns.js';
import { EVENT_NAMES } from '../events.js';
import { atsTimestampNow, isoNow } from './timestamp.js';

export interface LineFormatter {
  /** The header line at the top of a new file (with its newline); '' for JSON lines, which have none. */
  readonly header: string;
  /** The most bytes formatInto writes for a line; 0 for a formatter that makes strings only (format; JSON). */
  readonly maxLineBytes: number;
  /** The line of `format`, written as bytes into `buf` from `at` (room for maxLineBytes): the offset after its newline. */
  formatInto?(buf: Buffer, at: number, event: number, socket: Socket, res: Transaction | null, reading: Reading, explained?: ExplainedTransaction | null): number;
  /** The line (with its newline) for an event on `socket`, showing `reading`; with --explain, a txn_close line also shows
   * `explained` (its columns are `-` on other lines of the text format, absent in JSON). */
  format(event: string, socket: Socket, res: Transaction | null, reading: Reading, explained?: ExplainedTransaction | null): string;
}

/** The --explain columns' values, space-separated after a space (text) or as `,"key":value` (JSON); `missing` for what is not known. */
function explainedText(explained: ExplainedTransaction, json: boolean): string {
  const t = explained.timing;
  const m = json ? 'null' : '-';
  const sep = json ? EXPLAIN_KEYS : EXPLAIN_SPACES;
  let text = '';
  for (let i = 0; i < EXPLAIN_NUMBER_COLUMNS.length; i++) text += sep[i] + num(t[EXPLAIN_NUMBER_COLUMNS[i]], m);
  const n = EXPLAIN_NUMBER_COLUMNS.length;
  const q = json ? '"' : '';
  return text + sep[n] + q + t.ended + q + sep[n + 1] + (json ? String(t.shared) : t.shared ? '1' : '0') + sep[n + 2] + q + explained.verdict + q;
}

/** A number as text; `missing` for NaN (not known). */
function num(n: number, missing: string): string {
  return Number.isNaN(n) ? missing : String(n);
}
const EXPLAIN_KEYS = EXPLAIN_COLUMNS.map((name) => ',"' + name + '":');
const EXPLAIN_SPACES = EXPLAIN_COLUMNS.map(() => ' ');
/** The --explain columns of a text line that has none (events other than txn_close). */
const NO_EXPLAIN_TEXT = EXPLAIN_COLUMNS.map(() => ' -').join('');

/** A column of a line: its name and the struct field it shows. */
interface Column {
  readonly name: string;
  readonly spec: FieldSpec;
}

const LEVEL2: readonly Column[] = LEVEL2_COLUMNS.map((c) => ({ name: c.name, spec: fieldSpec(c.field)! }));

function columnsOf(options: TcpinfoOptions, kernelLength: number): readonly Column[] {
  if (options.fields !== undefined) return options.fields.map((name) => ({ name, spec: fieldSpec(name)! }));
  if (options.logLevel === 1) return LEVEL2.slice(0, 1);
  return LEVEL2.filter((c) => c.spec.offset + c.spec.size <= kernelLength);
}

/** A column's value as text: u32 fields straight from the words, others decoded; `missing` when not returned. */
function columnText(spec: FieldSpec, reading: Reading, missing: string): string {
  if (spec.offset + spec.size > reading.length) return missing;
  if (spec.size === 4) return String(reading.words[spec.offset >> 2]);
  return fieldText(spec, reading.bytes, reading.length);
}

/** Bytes of an ASCII string written at `at` (addresses, decoded fields, the --explain columns): the offset after it. */
function writeAscii(buf: Buffer, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) buf[at + i] = text.charCodeAt(i);
  return at + text.length;
}

/** A u32 (or any integer below 2^53) in decimal at `at`: the offset after it. No string made. */
function writeUint(buf: Buffer, at: number, n: number): number {
  let digits = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
  const end = at + digits;
  for (let i = end - 1; i >= at; i--) {
    const q = Math.floor(n / 10);
    buf[i] = 48 + n - q * 10;
    n = q;
  }
  return end;
}

/** A column of the --explain ones: a space, then the number, or `-` when it is not known (explainedText's text). */
function writeNumberColumn(buf: Buffer, at: number, n: number): number {
  buf[at++] = SPACE;
  if (Number.isNaN(n)) {
    buf[at] = DASH;
    return at + 1;
  }
  return Number.isInteger(n) && n >= 0 ? writeUint(buf, at, n) : writeAscii(buf, at, String(n));
}

/** The --explain columns of a text line, as explainedText(explained, false) has them. */
function writeExplained(buf: Buffer, at: number, explained: ExplainedTransaction): number {
  const t = explained.timing;
  let p = at;
  for (let i = 0; i < EXPLAIN_NUMBER_COLUMNS.length; i++) p = writeNumberColumn(buf, p, t[EXPLAIN_NUMBER_COLUMNS[i]]);
  buf[p++] = SPACE;
  p = writeAscii(buf, p, t.ended);
  buf[p++] = SPACE;
  buf[p++] = t.shared ? 0x31 : 0x30;
  buf[p++] = SPACE;
  return writeAscii(buf, p, explained.verdict);
}

const SPACE = 0x20;
const DASH = 0x2d;
const NEWLINE = 0x0a;
/** Bytes an address may take: the longest IPv6 text (45), or '-'. */
const MAX_ADDRESS_BYTES = 45;
/** Bytes a column may take: a space and a u64 in decimal (20 digits). */
const MAX_COLUMN_BYTES = 21;

class AtsFormatter implements LineFormatter {
  readonly header: string;
  readonly maxLineBytes: number;
  private readonly specs: FieldSpec[];
  /** Per column, made once: the u32 word it is (-1 for other sizes), and the struct length it needs. */
  private readonly words: Int32Array;
  private readonly ends: Int32Array;

  constructor(columns: readonly Column[], private readonly explain: boolean) {
    this.specs = columns.map((c) => c.spec);
    this.words = Int32Array.from(this.specs, (spec) => (spec.size === 4 ? spec.offset >> 2 : -1));
    this.ends = Int32Array.from(this.specs, (spec) => spec.offset + spec.size);
    this.header = headerLine([...columns.map((c) => c.name), ...(explain ? EXPLAIN_COLUMNS : [])]);
    const longestEvent = Math.max(...EVENT_NAMES.map((name) => name.length));
    // Timestamp (18), event, two addresses, the columns (the --explain ones too, a verdict at most 7), a newline.
    this.maxLineBytes = 18 + 1 + longestEvent + 2 * (1 + MAX_ADDRESS_BYTES) + MAX_COLUMN_BYTES * (columns.length + (explain ? EXPLAIN_COLUMNS.length : 0)) + 1;
  }

  formatInto(buf: Buffer, at: number, event: number, socket: Socket, _res: Transaction | null, reading: Reading, explained?: ExplainedTransaction | null): number {
    const ends = endpointsOf(socket);
    // The second's timestamp is one cached string (atsTimestampNow): its 18 characters copied as bytes.
    let p = writeAscii(buf, at, atsTimestampNow());
    buf[p++] = SPACE;
    p = writeAscii(buf, p, EVENT_NAMES[event]);
    buf[p++] = SPACE;
    p = ends.remoteAddress === undefined ? ((buf[p] = DASH), p + 1) : writeAscii(buf, p, ends.remoteAddress);
    buf[p++] = SPACE;
    p = ends.localAddress === undefined ? ((buf[p] = DASH), p + 1) : writeAscii(buf, p, ends.localAddress);
    const { words, ends: needs } = this;
    const { length, words: values } = reading;
    for (let i = 0; i < words.length; i++) {
      buf[p++] = SPACE;
      const word = words[i];
      if (needs[i] > length) buf[p++] = DASH;
      else if (word >= 0) p = writeUint(buf, p, values[word]);
      else p = writeAscii(buf, p, fieldText(this.specs[i], reading.bytes, length));
    }
    if (this.explain) p = explained != null ? writeExplained(buf, p, explained) : writeAscii(buf, p, NO_EXPLAIN_TEXT);
    buf[p++] = NEWLINE;
    return p;
  }

  format(event: string, socket: Socket, _res: Transaction | null, reading: Reading, explained?: ExplainedTransaction | null): string {
    // Bare IP text as ATS writes it (no port or brackets, `::ffff:1.2.3.4` for v4-mapped); `-` when unreadable (early reset).
    const ends = endpointsOf(socket);
    let line = atsTimestampNow() + ' ' + event + ' ' + (ends.remoteAddress ?? '-') + ' ' + (ends.localAddress ?? '-');
    const { words, ends: needs } = this;
    const { length, words: values } = reading;
    for (let i = 0; i < words.length; i++) {
      const word = words[i];
      line += ' ' + (needs[i] > length ? '-' : word >= 0 ? values[word] : fieldText(this.specs[i], reading.bytes, length));
    }
    if (this.explain) line += explained != null ? explainedText(explained, false) : NO_EXPLAIN_TEXT;
    return line + '\n';
  }
}

const TRANSACTION_EVENTS = new Set(['txn_start', 'send_resp_hdr', 'txn_close', 'txn_delivered']);

class JsonFormatter implements LineFormatter {
  readonly header = '';
  /** JSON lines are strings (format): the path is free text, escaped as a string. */
  readonly maxLineBytes = 0;
  private readonly specs: FieldSpec[];
  /** `,"name":` for each column, made once. */
  private readonly keys: string[];

  constructor(columns: readonly Column[], private readonly logUrl: boolean) {
    this.specs = columns.map((c) => c.spec);
    this.keys = columns.map((c) => ',' + JSON.stringify(c.name) + ':');
  }

  format(event: string, socket: Socket, res: Transaction | null, reading: Reading, explained?: ExplainedTransaction | null): string {
    const ends = endpointsOf(socket);
    let line =
      '{"time":"' + isoNow() + '","event":"' + event +
      '","client":' + quotedOrNull(ends.remoteAddress) + ',"client_port":' + (ends.remotePort ?? null) +
      ',"server":' + quotedOrNull(ends.localAddress) + ',"server_port":' + (ends.localPort ?? null) +
      ',"conn":"' + connectionId(socket) + '"';
    if (res !== null && TRANSACTION_EVENTS.has(event)) {
      // HTTP/2: the stream's id (the connection carries many at once).
      if (res instanceof Http2Exchange) line += ',"stream":' + res.streamId;
      const req = res.req as RequestWithOriginalUrl;
      // null for a request Node could not parse (its 400 is logged all the same).
      line += ',"method":' + jsonTextOrNull(req.method);
      // At txn_start no status has been chosen yet; null: an HTTP/2 stream that ended with no response.
      if (event !== 'txn_start') line += ',"status":' + res.statusCode;
      if (this.logUrl) {
        // The path the client asked for: Express keeps it in originalUrl while routers rewrite req.url.
        const url = typeof req.originalUrl === 'string' ? req.originalUrl : req.url;
        line += ',"url":' + (typeof url === 'string' ? '"' + jsonText(boundedPath(url)) + '"' : 'null');
        // The framework's route template, on the verdict line (tcpinfo explain --by=route).
        if (explained?.route !== undefined) line += ',"route":"' + jsonText(boundedPath(explained.route)) + '"';
      }
    }
    const specs = this.specs;
    const keys = this.keys;
    for (let i = 0; i < specs.length; i++) line += keys[i] + columnText(specs[i], reading, 'null');
    if (explained != null) line += explainedText(explained, true);
    return line + '}\n';
  }
}

/** An address as a JSON string (IP text needs no escaping), or null when it could not be read. */
function quotedOrNull(address: string | undefined): string {
  return address === undefined ? 'null' : '"' + address + '"';
}

type RequestWithOriginalUrl = IncomingMessage & { originalUrl?: unknown };

/** The most characters of a path written with --log-url; a longer one is cut there and ends with URL_CUT_MARK. */
export const MAX_URL_CHARS = 1024;
/** Marks a cut path: Node decodes a received path as Latin-1 at most (and refuses non-ASCII), so it cannot be part of one. */
export const URL_CUT_MARK = '\u2026';

/** The path without its query string (may hold tokens or personal data), at most MAX_URL_CHARS; the same string when nothing is cut. */
export function boundedPath(url: string): string {
  const q = url.indexOf('?');
  const end = q < 0 ? url.length : q;
  if (end <= MAX_URL_CHARS) return end === url.length ? url : url.slice(0, end);
  // Never cut between the halves of a surrogate pair.
  const cut = isHighSurrogate(url.charCodeAt(MAX_URL_CHARS - 1)) ? MAX_URL_CHARS - 1 : MAX_URL_CHARS;
  return url.slice(0, cut) + URL_CUT_MARK;
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

/** Whether a UTF-16 unit must be escaped in the log: a quote, a backslash, C0 or C1 controls, DEL, a surrogate. */
function mustEscape(c: number): boolean {
  return c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xdfff);
}

/** `text` as the inside of a JSON string: C0/C1 controls and DEL as `\u00XX` (JSON.stringify leaves DEL and C1 raw), a lone
 * surrogate as `\uXXXX`. The same string, not a copy, when nothing needs escaping. */
export function jsonText(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (mustEscape(c)) {
      if (isHighSurrogate(c) && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1))) {
        i++;
        continue;
      }
      return escapeFrom(text, i);
    }
  }
  return text;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

function escapeFrom(text: string, first: number): string {
  let out = text.slice(0, first);
  let from = first;
  for (let i = first; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (!mustEscape(c)) continue;
    if (isHighSurrogate(c) && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1))) {
      i++;
      continue;
    }
    out += text.slice(from, i) + (c === 0x22 ? '\\"' : c === 0x5c ? '\\\\' : '\\u' + c.toString(16).padStart(4, '0'));
    from = i + 1;
  }
  return out + text.slice(from);
}

/** A JSON string of `text` (escaped as jsonText), or null when it is not a string. */
function jsonTextOrNull(text: unknown): string {
  return typeof text === 'string' ? '"' + jsonText(text) + '"' : 'null';
}

export function createLineFormatter(options: TcpinfoOptions, kernelLength: number): LineFormatter {
  const columns = columnsOf(options, kernelLength);
  return options.format === 'json' ? new JsonFormatter(columns, options.logUrl) : new AtsFormatter(columns, options.explain);
}
