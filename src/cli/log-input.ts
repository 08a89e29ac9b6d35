/**
 * The input of the commands that read whole logs (summary, explain): each file once, in time order
 * (rolled files first), plain or gzipped, streamed line by line into records; files that cannot be read
 * and lines that are not readings are reported on stderr, never fatal.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { createGunzip } from 'node:zlib';
import { escapeControls as esc } from './escape.js';
import { LineSplitter } from './line-splitter.js';
import { LogLineParser, type LogRecord } from '../format/log-record.js';
import type { Output } from './output.js';
import { Progress } from './progress.js';
import type { RecordFilter } from './record-filter.js';
import { inTimeOrder } from './rolled-files.js';
import { parseRolledName } from '../format/rolled-name.js';

/** The options of the commands that report on whole logs: the record filter, --top, --json, --help. */
export const REPORT_OPTIONS = {
  since: { type: 'string' },
  until: { type: 'string' },
  event: { type: 'string' },
  client: { type: 'string' },
  top: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/** What --top means when it is not given. */
export const DEFAULT_TOP = 10;

/** What was read: files in the order read, and lines that were not readings. */
export interface InputReport {
  files: string[];
  unreadable: string[];
  malformed: number;
  overlong: number;
  /** Files read with a guessed column order because they had no header line. */
  headerless: string[];
}

/** "N files", as the reports begin. */
export function fileCount(report: InputReport): string {
  return `${report.files.length} file${report.files.length === 1 ? '' : 's'}`;
}

/** The part of a report's JSON that says what was read: the files, and `count` records under `countKey` from `first` to `last`. */
export function inputJson(report: InputReport, countKey: string, count: number, first: number, last: number): Record<string, unknown> {
  return {
    files: report.files,
    unreadable: report.unreadable,
    skipped_lines: report.malformed + report.overlong,
    [countKey]: count,
    first: count > 0 ? new Date(first).toISOString() : null,
    last: count > 0 ? new Date(last).toISOString() : null,
  };
}

/** The live log read when no FILE is given, as `tail` does. */
export const DEFAULT_LOG = 'tcpinfo.log';
/** A line may be logged a little after its file's period ended (the roll waits for the queue). */
const ROLL_SLACK_MS = 60_000;

/**
 * The files to read when none is named: ./tcpinfo.log, and with --since or --until also its rolled files
 * here whose period meets that window (the last 2 hours may have rolled). Undefined, after saying what to
 * pass, when ./tcpinfo.log does not exist.
 */
export async function defaultLogs(command: string, filter: RecordFilter, err: NodeJS.WritableStream): Promise<string[] | undefined> {
  try {
    await stat(DEFAULT_LOG);
  } catch (error) {
    const why = reason(error) === 'ENOENT' ? 'does not exist' : `cannot be read (${reason(error)})`;
    err.write(
      `tcpinfo ${command}: no FILE given, and ./${DEFAULT_LOG} ${why} here; ` +
        `name the log, e.g. tcpinfo ${command} /var/log/app/${DEFAULT_LOG} (its rolled files too: ${DEFAULT_LOG}_*.old)\n`,
    );
    return undefined;
  }
  const rolled = (await readdir('.').catch(() => [] as string[])).filter((name) => parseRolledName(name)?.logFile === DEFAULT_LOG);
  const windowed = filter.since !== undefined || filter.until !== undefined;
  const inWindow = rolled.filter((name) => {
    const period = parseRolledName(name)!;
    return (filter.since === undefined || period.end + ROLL_SLACK_MS > filter.since) && (filter.until === undefined || period.start < filter.until);
  });
  if (!windowed && rolled.length > 0) {
    err.write(
      `tcpinfo ${command}: read ./${DEFAULT_LOG} only; ${rolled.length} rolled file${rolled.length === 1 ? '' : 's'} beside it ` +
        `(name them, e.g. ${DEFAULT_LOG}_*.old ${DEFAULT_LOG}, or give --since to read those of that time)\n`,
    );
  }
  return [...(windowed ? inWindow : []), DEFAULT_LOG];
}

const READ_CHUNK = 256 * 1024;

/** The errno code of a failed read (ENOENT, EACCES), or its message. */
function reason(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}

/**
 * Read a file (gunzipped when its name ends in .gz) as lines, a chunk at a time: `lines` gets each
 * chunk's complete lines, `bytes` the bytes of the file read. Returns the lines dropped as overlong.
 */
async function streamLines(path: string, bytes: (count: number) => void, lines: (lines: string[]) => void): Promise<number> {
  const splitter = new LineSplitter();
  const batch: string[] = [];
  const raw = createReadStream(path, { highWaterMark: READ_CHUNK });
  const gzipped = path.endsWith('.gz');
  let source: NodeJS.ReadableStream = raw;
  if (gzipped) {
    const gunzip = raw.pipe(createGunzip({ chunkSize: READ_CHUNK }));
    raw.on('data', (chunk: Buffer | string) => bytes(chunk.length));
    raw.on('error', (error) => gunzip.destroy(error));
    source = gunzip;
  }
  for await (const chunk of source as AsyncIterable<Buffer>) {
    if (!gzipped) bytes(chunk.length);
    splitter.push(chunk, batch);
    lines(batch);
    batch.length = 0;
  }
  splitter.end(batch);
  lines(batch);
  return splitter.overlong;
}

export interface ReadLogsOptions {
  /** The command's name, for its messages (`tcpinfo summary: ...`). */
  command: string;
  files: readonly string[];
  out: Output;
  err: NodeJS.WritableStream & { isTTY?: boolean };
  /** Each record of the files, in order, with the path of its file. */
  record(record: LogRecord, path: string): void;
  /** How many readings the command kept so far, for the progress line. */
  kept(): number;
}

/** Reads every file of `files` through `record`; reports on stderr what could not be read. */
export async function readLogs(options: ReadLogsOptions): Promise<InputReport> {
  const { command, err } = options;
  const report: InputReport = { files: [], unreadable: [], malformed: 0, overlong: 0, headerless: [] };

  // Each file once, in time order, with its size for the progress line.
  const seen = new Set<string>();
  const inputs: Array<{ path: string; size: number }> = [];
  for (const path of inTimeOrder([...options.files])) {
    const key = resolve(path);
    if (seen.has(key)) continue;
    seen.add(key);
    try {
      const info = await stat(path);
      if (!info.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
      inputs.push({ path, size: info.size });
    } catch (error) {
      report.unreadable.push(path);
      err.write(`tcpinfo ${command}: ${esc(path)}: cannot read (${reason(error)})\n`);
    }
  }

  const parser = new LogLineParser();
  const progress = new Progress(err, inputs.reduce((sum, input) => sum + input.size, 0));
  for (const [i, input] of inputs.entries()) {
    if (options.out.closed.aborted) break;
    parser.startFile();
    const guessedBefore = parser.guessedLines;
    const label = `${esc(input.path)} (${i + 1}/${inputs.length})`;
    try {
      report.overlong += await streamLines(
        input.path,
        (bytes) => progress.advance(bytes, label, options.kept()),
        (lines) => {
          for (const line of lines) {
            const record = parser.parse(line);
            if (record !== undefined) options.record(record, input.path);
          }
        },
      );
      report.files.push(input.path);
    } catch (error) {
      report.unreadable.push(input.path);
      progress.clear();
      err.write(`tcpinfo ${command}: ${esc(input.path)}: cannot read (${reason(error)})\n`);
    }
    if (parser.guessedLines > guessedBefore) report.headerless.push(input.path);
  }
  progress.clear();
  report.malformed = parser.malformed;

  for (const path of report.headerless) {
    err.write(`tcpinfo ${command}: ${esc(path)}: no header line; assumed the Traffic Server column order\n`);
  }
  if (report.malformed + report.overlong > 0) {
    err.write(`tcpinfo ${command}: skipped ${report.malformed + report.overlong} lines that are not tcpinfo readings\n`);
  }
  return report;
}
