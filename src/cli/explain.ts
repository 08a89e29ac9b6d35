/** `tcpinfo explain FILE...`: for each slow transaction of a log written with --explain, server, network or client? */
import { parseArgs } from 'node:util';
import { EXIT_FAILURE, EXIT_OK, nonNegativeInteger, usageErrors, UsageError } from './args.js';
import { escapeControls as esc } from './escape.js';
import { renderExplainJson, renderExplainText } from './explain-render.js';
import { ExplainStats, explainedTransaction } from './explain-stats.js';
import { DEFAULT_TOP, readLogs, REPORT_OPTIONS } from './log-input.js';
import type { Output } from './output.js';
import { accepts, recordFilter, type RecordFilter } from './record-filter.js';

export const EXPLAIN_HELP = `Usage: tcpinfo explain [options] FILE...

For the transactions of logs written with --explain (text or JSON lines, plain or gzipped): per
verdict (server, network, client, mixed, unknown, ok), how many and their share of the slow time;
the slowest transactions with their timeline (ttfb, transfer) and the evidence for their verdict in
words; the client networks (/24 for IPv4, /48 for IPv6) with the most network or client verdicts.
The verdicts and their rule table: docs/explain.md.

Options:
      --since=TIME     only transactions that ended at or after TIME
      --until=TIME     only transactions that ended before TIME
                       TIME: 20261123.14h05m09s (the log's format), 2026-11-23 (local midnight),
                       2026-11-23T14:05:09 (local; or with Z / +01:00), or a duration ago: 90s, 15m, 2h, 7d
      --event=LIST     only these events, comma-separated (verdicts are on txn_close lines)
      --client=LIST    only these clients: addresses or subnets, comma-separated
      --top=N          how many slowest transactions and client networks to list (default 10)
      --json           one JSON object instead of text (times in microseconds)
  -h, --help           show this help

Examples:
  tcpinfo explain tcpinfo.log
  tcpinfo explain /var/log/tcpinfo.log* --since=2h --client=203.0.113.0/24
  tcpinfo explain --json tcpinfo.log | jq '.verdicts.network'

Exit status: 0 when every file was read and has explained transactions; 1 when a file could not be
read or has none (the log was written without --explain); 2 for a usage error.
`;

interface ExplainArgs {
  files: string[];
  filter: RecordFilter;
  top: number;
  json: boolean;
}

function explainArgs(argv: string[]): ExplainArgs {
  const { values, positionals } = usageErrors(() =>
    parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: REPORT_OPTIONS,
    }),
  );
  if (positionals.length === 0) throw new UsageError('explain needs at least one FILE, e.g. tcpinfo explain tcpinfo.log');
  return {
    files: positionals,
    filter: recordFilter(values),
    top: values.top === undefined ? DEFAULT_TOP : nonNegativeInteger('--top', values.top),
    json: values.json === true,
  };
}

export async function runExplain(argv: string[], out: Output, err: NodeJS.WritableStream & { isTTY?: boolean }): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    out.write(EXPLAIN_HELP);
    return EXIT_OK;
  }
  const args = explainArgs(argv);
  const stats = new ExplainStats(args.top);
  // Explained transactions per file, before the filters: a file with none was written without --explain.
  const explained = new Set<string>();
  const report = await readLogs({
    command: 'explain',
    files: args.files,
    out,
    err,
    record: (record, path) => {
      const txn = explainedTransaction(record);
      if (txn === undefined) return;
      explained.add(path);
      if (accepts(args.filter, record)) stats.add(txn);
    },
    kept: () => stats.transactions,
  });
  const without = report.files.filter((path) => !explained.has(path));
  for (const path of without) {
    err.write(
      `tcpinfo explain: ${esc(path)}: no explained transactions (txn_close lines with a verdict); ` +
        `write the log with --explain (and the txn_close hook) to have them\n`,
    );
  }
  if (stats.clamped > 0) {
    err.write(`tcpinfo explain: ${stats.clamped} transaction${stats.clamped === 1 ? '' : 's'} had negative times (duration, ttfb, chronographs or rtt), counted as 0\n`);
  }
  out.write(args.json ? renderExplainJson(stats, report, args.top) : renderExplainText(stats, report, args.top, out));
  return report.unreadable.length > 0 || without.length > 0 ? EXIT_FAILURE : EXIT_OK;
}
