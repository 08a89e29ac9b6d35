/** `tcpinfo summary FILE...`: per-event rtt percentiles, retransmissions, cwnd, top clients, a histogram. */
import { parseArgs } from 'node:util';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createGunzip } from 'node:zlib';
import {
  EXIT_FAILURE,
  EXIT_OK,
  eventList,
  nonNegativeInteger,
  usageErrors,
  pointInTime,
  UsageError,
} from './args.js';
import { escapeControls as esc } from './escape.js';
import { LineSplitter } from './line-splitter.js';
import { LogLineParser } from '../format/log-record.js';
import type { Output } from './output.js';
import { Progress } from './progress.js';
import { accepts, clientList, type RecordFilter } from './record-filter.js';
import { inTimeOrder } from './rolled-files.js';
import { renderSummaryJson, renderSummaryText, type InputReport } from './summary-render.js';
import { SummaryStats } from './summary-stats.js';

export const SUMMARY_HELP = `Usage: tcpinfo summary [options] FILE...

Summarise tcpinfo logs: per event, the number of readings, rtt p50/p90/p99/max, rttvar p50, the
share of readings with retransmissions and snd_cwnd p50; the clients with the highest rtt p90; and
a histogram of rtt. Reads the Traffic Server text format and JSON lines, plain or gzipped (.gz).

Rolled files (<logfile>_<host>.<start>-<end>[.<n>].old) are read in time order, then the live files.
Input streams through line by line: memory grows with the number of distinct values and clients,
not with the size of the logs.

Percentiles are nearest-rank: the p-th percentile of N readings is the reading at rank
ceil(p/100 * N) in ascending order, always a value that was logged. Times are shown in ms.
Retransmissions: the share of readings whose all_retrans (the connection's cumulative count) is
above 0; for logs without it (level 1 has neither), the share whose retrans (segments being
retransmitted at that moment) is above 0, and the output says which.

Options:
      --since=TIME     only readings at or after TIME
      --until=TIME     only readings before TIME
                       TIME: 20261123.14h05m09s (the log's format), 2026-11-23 (local midnight),
                       2026-11-23T14:05:09 (local; or with Z / +01:00), or a duration ago: 90s, 15m, 2h, 7d
      --event=LIST     only these events, comma-separated
      --client=LIST    only these clients: addresses or subnets, comma-separated
      --top=N          how many clients to list (default 10; 0 for none, which also saves memory)
      --min-count=N    list only clients with at least N readings (default 1)
      --json           one JSON object instead of text (rtt values in microseconds)
  -h, --help           show this help

A progress line is written to stderr while reading, only when stderr is a terminal.

Examples:
  tcpinfo summary tcpinfo.log
  tcpinfo summary /var/log/tcpinfo.log* --since=2h
  tcpinfo summary tcpinfo.log_web1.*.old tcpinfo.log --event=txn_close --top=20 --min-count=5
  tcpinfo summary --json tcpinfo.log | jq '.events.txn_close.rtt_us.p99'

Exit status: 0 when every file was read, 1 when a file could not be read, 2 for a usage error.
`;

const DEFAULT_TOP = 10;
const READ_CHUNK = 256 * 1024;

interface SummaryArgs {
  files: string[];
  filter: RecordFilter;
  top: number;
  minCount: number;
  json: boolean;
}

function summaryArgs(argv: string[]): SummaryArgs {
  const { values, positionals } = usageErrors(() =>
    parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        since: { type: 'string' },
        until: { type: 'string' },
        event: { type: 'string' },
        client: { type: 'string' },
        top: { type: 'string' },
        'min-count': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  if (positionals.length === 0) throw new UsageError('summary needs at least one FILE, e.g. tcpinfo summary tcpinfo.log');
  const now = Date.now();
  const filter: RecordFilter = {};
  if (values.since !== undefined) filter.since = pointInTime('--since', values.since, now);
  if (values.until !== undefined) filter.until = pointInTime('--until', values.until, now);
  if (filter.since !== undefined && filter.until !== undefined && filter.until <= filter.since) {
    throw new UsageError(`--until=${values.until} is not after --since=${values.since}`);
  }
  if (values.event !== undefined) filter.events = eventList('--event', values.event);
  if (values.client !== undefined) filter.clients = clientList('--client', values.client);
  return {
    files: positionals,
    filter,
    top: values.top === undefined ? DEFAULT_TOP : nonNegativeInteger('--top', values.top),
    minCount: values['min-count'] === undefined ? 1 : nonNegativeInteger('--min-count', values['min-count']),
    json: values.json === true,
  };
}

/** The errno code of a failed read (ENOENT, EACCES), or its message. */
function reason(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}

/** Read a file (.gz gunzipped) as lines, a chunk at a time; returns the lines dropped as overlong. */
async function streamLines(path: string, bytes: (count: number) => void, lines: (lines: string[]) => void): Promise<number> {
  const splitter = new LineSplitter();
  const batch: string[] = [];
  const raw = createReadStream(path, { highWaterMark: READ_CHUNK });
  const gzipped = path.endsWith('.gz');
  let source: NodeJS.ReadableStream = raw;
  if (gzipped) {
    const gunzip = raw.pipe(createGunzip());
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

export async function runSummary(argv: string[], out: Output, err: NodeJS.WritableStream & { isTTY?: boolean }): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    out.write(SUMMARY_HELP);
    return EXIT_OK;
  }
  const args = summaryArgs(argv);
  const report: InputReport = { files: [], unreadable: [], malformed: 0, overlong: 0, headerless: [] };

  // Each file once, in time order, with its size for the progress line.
  const seen = new Set<string>();
  const inputs: Array<{ path: string; size: number }> = [];
  for (const path of inTimeOrder(args.files)) {
    const key = resolve(path);
    if (seen.has(key)) continue;
    seen.add(key);
    try {
      const info = await stat(path);
      if (!info.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
      inputs.push({ path, size: info.size });
    } catch (error) {
      report.unreadable.push(path);
      err.write(`tcpinfo summary: ${esc(path)}: cannot read (${reason(error)})\n`);
    }
  }

  const stats = new SummaryStats(args.top > 0);
  const parser = new LogLineParser();
  const progress = new Progress(err, inputs.reduce((sum, input) => sum + input.size, 0));
  for (const [i, input] of inputs.entries()) {
    if (out.closed.aborted) break;
    parser.startFile();
    const guessedBefore = parser.guessedLines;
    const label = `${esc(input.path)} (${i + 1}/${inputs.length})`;
    try {
      report.overlong += await streamLines(
        input.path,
        (bytes) => progress.advance(bytes, label, stats.readings),
        (lines) => {
          for (const line of lines) {
            const record = parser.parse(line);
            if (record !== undefined && accepts(args.filter, record)) stats.add(record);
          }
        },
      );
      report.files.push(input.path);
    } catch (error) {
      report.unreadable.push(input.path);
      progress.clear();
      err.write(`tcpinfo summary: ${esc(input.path)}: cannot read (${reason(error)})\n`);
    }
    if (parser.guessedLines > guessedBefore) report.headerless.push(input.path);
  }
  progress.clear();
  report.malformed = parser.malformed;

  for (const path of report.headerless) {
    err.write(`tcpinfo summary: ${esc(path)}: no header line; assumed the Traffic Server column order\n`);
  }
  if (report.malformed + report.overlong > 0) {
    err.write(`tcpinfo summary: skipped ${report.malformed + report.overlong} lines that are not tcpinfo readings\n`);
  }
  out.write(args.json ? renderSummaryJson(stats, report, args) : renderSummaryText(stats, report, args, out));
  return report.unreadable.length > 0 ? EXIT_FAILURE : EXIT_OK;
}
