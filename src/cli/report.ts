/** `tcpinfo report [FILE...] [-o FILE]`: one self-contained HTML page of charts and tables from the logs. */
import { writeFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EXIT_FAILURE, EXIT_OK, nonNegativeInteger, usageErrors } from './args.js';
import { escapeControls as esc } from './escape.js';
import { explainJson } from './explain-render.js';
import { ExplainStats, explainedTransaction } from './explain-stats.js';
import { DEFAULT_TOP, readLogs, REPORT_OPTIONS } from './log-input.js';
import type { Output } from './output.js';
import { accepts, recordFilter, type RecordFilter } from './record-filter.js';
import { renderReportHtml } from './report-render.js';
import { LogShape, TimeSeries } from './report-stats.js';

export const DEFAULT_REPORT_FILE = 'tcpinfo-report.html';

export const REPORT_HELP = `Usage: tcpinfo report [options] [FILE...]

One self-contained HTML page from tcpinfo logs (text or JSON lines, plain or gzipped, rolled files in
time order; default FILE: tcpinfo.log): what the lines tell of how the logs were written; rtt
percentiles (and min_rtt) and retransmissions over time; for logs written with --explain, the
transactions by verdict over time, the slow time by cause, the slowest routes and client networks and
the slowest transactions with their evidence: the numbers of tcpinfo explain --json. It opens offline:
no script, nothing fetched (its Content-Security-Policy forbids it).

Options:
  -o, --output=FILE    where to write the page (default ${DEFAULT_REPORT_FILE}; - for stdout)
      --since=TIME     only readings at or after TIME
      --until=TIME     only readings before TIME
                       TIME: 20261123.14h05m09s (the log's format), 2026-11-23 (local midnight),
                       2026-11-23T14:05:09 (local; or with Z / +01:00), or a duration ago: 90s, 15m, 2h, 7d
      --event=LIST     only these events, comma-separated
      --client=LIST    only these clients: addresses or subnets, comma-separated
      --top=N          how many slowest transactions, routes and client networks to list (default 10)
  -h, --help           show this help

A progress line is written to stderr while reading, only when stderr is a terminal.

Examples:
  tcpinfo report
  tcpinfo report /var/log/tcpinfo.log* --since=24h -o /tmp/tcpinfo.html
  tcpinfo report tcpinfo.json.log --client=203.0.113.0/24 -o - > report.html

Exit status: 0 when every file was read, 1 when a file could not be read or the page not written,
2 for a usage error.
`;

const OPTIONS = {
  since: REPORT_OPTIONS.since,
  until: REPORT_OPTIONS.until,
  event: REPORT_OPTIONS.event,
  client: REPORT_OPTIONS.client,
  top: REPORT_OPTIONS.top,
  help: REPORT_OPTIONS.help,
  output: { type: 'string', short: 'o' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

interface ReportArgs {
  files: string[];
  filter: RecordFilter;
  /** The filters as given, for the page's header. */
  filters: string[];
  top: number;
  output: string;
}

function reportArgs(argv: string[]): ReportArgs {
  const { values, positionals } = usageErrors(() => parseArgs({ args: argv, strict: true, allowPositionals: true, options: OPTIONS }));
  const filters = (['since', 'until', 'event', 'client'] as const).filter((k) => values[k] !== undefined).map((k) => `--${k}=${values[k]}`);
  return {
    files: positionals.length > 0 ? positionals : ['tcpinfo.log'],
    filter: recordFilter(values),
    filters,
    top: values.top === undefined ? DEFAULT_TOP : nonNegativeInteger('--top', values.top),
    output: values.output ?? DEFAULT_REPORT_FILE,
  };
}

export async function runReport(argv: string[], out: Output, err: NodeJS.WritableStream & { isTTY?: boolean }): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    out.write(REPORT_HELP);
    return EXIT_OK;
  }
  const args = reportArgs(argv);
  const stats = new ExplainStats(args.top, ['route', 'client']);
  const series = new TimeSeries();
  const shape = new LogShape();
  let readings = 0;
  let first = Infinity;
  let last = -Infinity;
  let file: string | undefined;
  const report = await readLogs({
    command: 'report',
    files: args.files,
    out,
    err,
    record: (record, path) => {
      if (path !== file) {
        file = path;
        shape.startFile();
      }
      shape.addRecord(record);
      const txn = explainedTransaction(record);
      if (txn !== undefined) shape.addExplained(txn);
      // The filters as summary and explain apply them: explain's numbers are those of the same records.
      if (!accepts(args.filter, record)) return;
      readings++;
      if (record.time < first) first = record.time;
      if (record.time > last) last = record.time;
      series.addReading(record);
      if (txn !== undefined) {
        stats.add(txn);
        series.addTransaction(txn);
      }
    },
    kept: () => readings,
  });
  if (stats.clamped > 0) {
    err.write(`tcpinfo report: ${stats.clamped} transaction${stats.clamped === 1 ? '' : 's'} had negative times (duration, ttfb, chronographs or rtt), counted as 0\n`);
  }
  const page = renderReportHtml({
    report,
    shape,
    series,
    shared: {
      explain: explainJson(stats, report, args.top, 'verdict'),
      routes: explainJson(stats, report, args.top, 'route').groups as unknown[],
      clients: explainJson(stats, report, args.top, 'client').groups as unknown[],
    },
    readings,
    first,
    last,
    filters: args.filters,
    top: args.top,
    generated: new Date(),
  });
  if (args.output === '-') {
    out.write(page);
  } else {
    try {
      await writeFile(args.output, page);
    } catch (error) {
      err.write(`tcpinfo report: ${esc(args.output)}: cannot write (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})\n`);
      return EXIT_FAILURE;
    }
    err.write(`tcpinfo report: wrote ${esc(args.output)} (${Math.ceil(Buffer.byteLength(page) / 1024)} KiB)\n`);
  }
  return report.unreadable.length > 0 ? EXIT_FAILURE : EXIT_OK;
}
