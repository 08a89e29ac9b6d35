/** `tcpinfo summary FILE...`: per-event rtt percentiles, retransmissions, cwnd, top clients, a histogram. */
import { parseArgs } from 'node:util';
import { EXIT_FAILURE, EXIT_OK, nonNegativeInteger, pluginOptionNote, usageErrors } from './args.js';
import { DEFAULT_TOP, defaultLogs, readLogs, REPORT_OPTIONS } from './log-input.js';
import type { Output } from './output.js';
import { accepts, recordFilter, type RecordFilter } from './record-filter.js';
import { renderSummaryJson, renderSummaryText } from './summary-render.js';
import { SummaryStats } from './summary-stats.js';

export const SUMMARY_HELP = `Usage: tcpinfo summary [options] [FILE...]

Summarise tcpinfo logs: per event, the number of readings, rtt p50/p90/p99/max, rttvar p50, the
share of readings with retransmissions and snd_cwnd p50; the clients with the highest rtt p90; and
a histogram of rtt. Reads the Traffic Server text format and JSON lines, plain or gzipped (.gz).

Rolled files (<logfile>_<host>.<start>-<end>[.<n>].old) are read in time order, then the live files.
With no FILE: ./tcpinfo.log, and with --since/--until also its rolled files here of that time.
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
  tcpinfo summary --since=2h
  tcpinfo summary /var/log/tcpinfo.log* --since=2h
  tcpinfo summary tcpinfo.log_web1.*.old tcpinfo.log --event=txn_close --top=20 --min-count=5
  tcpinfo summary --json tcpinfo.log | jq '.events.txn_close.rtt_us.p99'

Exit status: 0 when every file was read, 1 when a file could not be read (or, with no FILE,
./tcpinfo.log does not exist), 2 for a usage error.
`;

interface SummaryArgs {
  files: string[];
  filter: RecordFilter;
  top: number;
  minCount: number;
  json: boolean;
}

const SUMMARY_OPTIONS = { ...REPORT_OPTIONS, 'min-count': { type: 'string' } } as const;

function summaryArgs(argv: string[]): SummaryArgs {
  const { values, positionals } = usageErrors(() =>
    parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: SUMMARY_OPTIONS,
    }),
    SUMMARY_OPTIONS,
    pluginOptionNote('summary'),
  );
  const filter = recordFilter(values);
  return {
    files: positionals,
    filter,
    top: values.top === undefined ? DEFAULT_TOP : nonNegativeInteger('--top', values.top),
    minCount: values['min-count'] === undefined ? 1 : nonNegativeInteger('--min-count', values['min-count']),
    json: values.json === true,
  };
}

export async function runSummary(argv: string[], out: Output, err: NodeJS.WritableStream & { isTTY?: boolean }): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    out.write(SUMMARY_HELP);
    return EXIT_OK;
  }
  const args = summaryArgs(argv);
  const files = args.files.length > 0 ? args.files : await defaultLogs('summary', args.filter, err);
  if (files === undefined) return EXIT_FAILURE;
  const stats = new SummaryStats(args.top > 0);
  const report = await readLogs({
    command: 'summary',
    files,
    out,
    err,
    record: (record) => {
      if (accepts(args.filter, record)) stats.add(record);
    },
    kept: () => stats.readings,
  });
  out.write(args.json ? renderSummaryJson(stats, report, args) : renderSummaryText(stats, report, args, out));
  return report.unreadable.length > 0 ? EXIT_FAILURE : EXIT_OK;
}
