/**
 * The line for an event, in the format the options ask for:
 *   ats + level 1/2   Traffic Server's columns (format.ts), exactly as ATS writes them
 *   ats + fields      the same prefix, then the chosen struct fields, `-` where this kernel has none
 *   json              one object a line: time, event, addresses and ports, connection id, method and
 *                     status for transaction events, the path with --log-url, then the same columns
 * Each formatter reads the struct last read into `rawInfo` (length bytes) and allocates only the line.
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TcpinfoOptions } from '../config/types.js';
import { connectionId } from '../hooks/connection-id.js';
import { fieldSpec, fieldText, type FieldSpec } from '../tcpinfo/layout.js';
import { rawInfo, rawWords } from '../tcpinfo/read.js';
import { hasDataSegs, headerLine, level1Columns, level2ColumnOffsets, level2Columns, linePrefix } from './format.js';
import { atsTimestampNow } from './timestamp.js';

export interface LineFormatter {
  /** The header line at the top of a new file (with its newline); '' for JSON lines, which have none. */
  readonly header: string;
  /** The line (with its newline) for an event, from the struct last read. */
  format(event: string, socket: Socket, res: ServerResponse | null, length: number): string;
}

/** A column of a line: its name and the struct field it shows. */
interface Column {
  readonly name: string;
  readonly spec: FieldSpec;
}

function columnsOf(options: TcpinfoOptions, kernelLength: number): Column[] {
  if (options.fields !== undefined) return options.fields.map((name) => ({ name, spec: fieldSpec(name)! }));
  if (options.logLevel === 1) return [{ name: 'rtt', spec: fieldSpec('rtt')! }];
  return level2ColumnOffsets(hasDataSegs(kernelLength)).map(([name, offset]) => ({
    name,
    spec: { name, offset, size: 4, unit: 'count', since: '2.6' },
  }));
}

/** A column's value as text: u32 fields straight from the words, others decoded; `missing` when not returned. */
function columnText(spec: FieldSpec, length: number, missing: string): string {
  if (spec.offset + spec.size > length) return missing;
  if (spec.size === 4) return String(rawWords[spec.offset >> 2]);
  return fieldText(spec, rawInfo, length);
}

class AtsFieldsFormatter implements LineFormatter {
  readonly header: string;
  private readonly specs: FieldSpec[];

  constructor(columns: Column[]) {
    this.specs = columns.map((c) => c.spec);
    this.header = 'timestamp event client server ' + columns.map((c) => c.name).join(' ') + '\n';
  }

  format(event: string, socket: Socket, _res: ServerResponse | null, length: number): string {
    let line = linePrefix(atsTimestampNow(), event, socket);
    const specs = this.specs;
    for (let i = 0; i < specs.length; i++) line += (i === 0 ? '' : ' ') + columnText(specs[i], length, '-');
    return line + '\n';
  }
}

class AtsLevelFormatter implements LineFormatter {
  readonly header: string;
  constructor(private readonly level: 1 | 2, kernelLength: number) {
    this.header = headerLine(level, hasDataSegs(kernelLength));
  }

  format(event: string, socket: Socket, _res: ServerResponse | null, length: number): string {
    return linePrefix(atsTimestampNow(), event, socket) + (this.level === 1 ? level1Columns() : level2Columns(length));
  }
}

let isoMs = -1;
let isoText = '';

/** ISO-8601 UTC with milliseconds; formatted once per millisecond. */
function isoNow(): string {
  const now = Date.now();
  if (now !== isoMs) {
    isoMs = now;
    isoText = new Date(now).toISOString();
  }
  return isoText;
}

const TRANSACTION_EVENTS = new Set(['txn_start', 'send_resp_hdr', 'txn_close']);

class JsonFormatter implements LineFormatter {
  readonly header = '';
  private readonly specs: FieldSpec[];
  /** `,"name":` for each column, made once. */
  private readonly keys: string[];

  constructor(columns: Column[], private readonly logUrl: boolean) {
    this.specs = columns.map((c) => c.spec);
    this.keys = columns.map((c) => ',' + JSON.stringify(c.name) + ':');
  }

  format(event: string, socket: Socket, res: ServerResponse | null, length: number): string {
    let line =
      '{"time":"' + isoNow() + '","event":"' + event +
      '","client":"' + socket.remoteAddress + '","client_port":' + (socket.remotePort ?? null) +
      ',"server":"' + socket.localAddress + '","server_port":' + (socket.localPort ?? null) +
      ',"conn":"' + connectionId(socket) + '"';
    if (res !== null && TRANSACTION_EVENTS.has(event)) {
      const req = res.req;
      line += ',"method":' + JSON.stringify(req.method);
      // At txn_start no status has been chosen yet.
      if (event !== 'txn_start') line += ',"status":' + res.statusCode;
      if (this.logUrl) line += ',"url":' + JSON.stringify(pathOnly(req.url ?? ''));
    }
    const specs = this.specs;
    const keys = this.keys;
    for (let i = 0; i < specs.length; i++) line += keys[i] + columnText(specs[i], length, 'null');
    return line + '}\n';
  }
}

/** The path of a request target, without its query string (which may hold tokens or personal data). */
function pathOnly(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

export function createLineFormatter(options: TcpinfoOptions, kernelLength: number): LineFormatter {
  const columns = columnsOf(options, kernelLength);
  if (options.format === 'json') return new JsonFormatter(columns, options.logUrl);
  if (options.fields !== undefined) return new AtsFieldsFormatter(columns);
  return new AtsLevelFormatter(options.logLevel, kernelLength);
}
