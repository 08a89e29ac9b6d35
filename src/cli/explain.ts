/** `tcpinfo explain FILE...`: for each slow transaction of a log written with --explain, server, network or client? */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EXIT_FAILURE, EXIT_OK, nonNegativeInteger, pluginOptionNote, usageErrors, UsageError, verdictList } from './args.js';
import { escapeControls as esc } from './escape.js';
import { VERDICTS } from '../explain/verdict.js';
import { NO_ROUTES, renderExplainJson, renderExplainText } from './explain-render.js';
import { ExplainStats, explainedTransaction, GROUP_BYS, type GroupBy } from './explain-stats.js';
import { DEFAULT_TOP, defaultLogs, readLogs, REPORT_OPTIONS } from './log-input.js';
import type { Output } from './output.js';
import { accepts, recordFilter, type RecordFilter } from './record-filter.js';

export const EXPLAIN_HELP = `Usage: tcpinfo explain [options] [FILE...]

For the transactions of logs written with --explain (text or JSON lines, plain or gzipped; the
verdicts of txn_delivered lines, and of txn_close lines in logs written before): per verdict
(server, network, client, mixed, unknown, ok), how many and their share of the slow time; the slow
time by cause (server, client, network); the slowest transactions with their timeline (ttfb, end,
hand-off, delivered, judged) and the evidence in words; then, --by=verdict, the client networks
(/24 for IPv4, /48 for IPv6) with the most network or client verdicts, or, --by=route|client, per
route or client network: transactions, slow ones, slow time and its causes. The verdicts and how
they are judged: docs/explain.md. With no FILE: ./tcpinfo.log, and with --since/--until also its
rolled files here of that time.

Options:
      --since=TIME     only transactions that ended at or after TIME
      --until=TIME     only transactions that ended before TIME
                       TIME: 20261123.14h05m09s (the log's format), 2026-11-23 (local midnight),
                       2026-11-23T14:05:09 (local; or with Z / +01:00), or a duration ago: 90s, 15m, 2h, 7d
      --event=LIST     only these events, comma-separated (verdicts are on txn_delivered lines;
                       on txn_close lines in logs written before)
      --client=LIST    only these clients: addresses or subnets, comma-separated
      --verdict=LIST   only these verdicts, comma-separated: ${VERDICTS.join(', ')}
      --by=WHAT        group by verdict (the default), route or client (network: /24, /48); routes:
                       the framework's route, else the path with ids as :id (--format=json --log-url)
      --top=N          how many slowest transactions and groups to list (default 10)
      --json           one JSON object instead of text (times in microseconds)
  -h, --help           show this help

Examples:
  tcpinfo explain --since=2h
  tcpinfo explain /var/log/tcpinfo.log* --since=2h --client=203.0.113.0/24
  tcpinfo explain --by=route --verdict=server,mixed tcpinfo.json.log
  tcpinfo explain --json tcpinfo.log | jq '.causes'

Exit status: 0 when every file was read and has explained transactions; 1 when a file could not be
read or has none (the log was written without --explain), or with no FILE ./tcpinfo.log does not
exist; 2 for a usage error.
`;

interface ExplainArgs {
  files: string[];
  filter: RecordFilter;
  verdicts?: ReadonlySet<string>;
  by: GroupBy;
  top: number;
  json: boolean;
}

const EXPLAIN_OPTIONS = {
  ...REPORT_OPTIONS,
  verdict: { type: 'string' },
  by: { type: 'string' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

function groupBy(text: string | undefined): GroupBy {
  if (text === undefined) return 'verdict';
  const known: readonly string[] = GROUP_BYS;
  if (!known.includes(text)) throw new UsageError(`--by=${text}: allowed: ${GROUP_BYS.join(', ')}`);
  return text as GroupBy;
}

function explainArgs(argv: string[]): ExplainArgs {
  const { values, positionals } = usageErrors(() =>
    parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: EXPLAIN_OPTIONS,
    }),
    EXPLAIN_OPTIONS,
    pluginOptionNote('explain'),
  );
  return {
    files: positionals,
    filter: recordFilter(values),
    verdicts: values.verdict === undefined ? undefined : verdictList('--verdict', values.verdict),
    by: groupBy(values.by),
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
  const files = args.files.length > 0 ? args.files : await defaultLogs('explain', args.filter, err);
  if (files === undefined) return EXIT_FAILURE;
  const stats = new ExplainStats(args.top, [args.by]);
  // Explained transactions per file, before the filters: a file with none was written without --explain.
  const explained = new Set<string>();
  const report = await readLogs({
    command: 'explain',
    files,
    out,
    err,
    record: (record, path) => {
      const txn = explainedTransaction(record);
      if (txn === undefined) return;
      explained.add(path);
      if (accepts(args.filter, record) && (args.verdicts === undefined || args.verdicts.has(txn.verdict))) stats.add(txn);
    },
    kept: () => stats.transactions,
  });
  const without = report.files.filter((path) => !explained.has(path));
  for (const path of without) {
    err.write(
      `tcpinfo explain: ${esc(path)}: no explained transactions (txn_delivered lines with a verdict); ` +
        `write the log with --explain (and the txn_close hook) to have them\n`,
    );
  }
  if (stats.clamped > 0) {
    err.write(`tcpinfo explain: ${stats.clamped} transaction${stats.clamped === 1 ? '' : 's'} had negative times (duration, ttfb, chronographs or rtt), counted as 0\n`);
  }
  // Text says it in the report.
  if (args.json && args.by === 'route' && stats.routed === 0 && stats.transactions > 0) err.write(`tcpinfo explain: --by=route: ${NO_ROUTES}\n`);
  out.write(args.json ? renderExplainJson(stats, report, args.top, args.by) : renderExplainText(stats, report, args.top, out, args.by));
  return report.unreadable.length > 0 || without.length > 0 ? EXIT_FAILURE : EXIT_OK;
}
