/** `tcpinfo tail [FILE]`: the last lines of the log, then each new one as it is written, across rolls. */
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { EVENT_NAMES } from '../events.js';
import { VERDICTS } from '../explain/verdict.js';
import {
  EXIT_FAILURE,
  EXIT_OK,
  nonNegativeDecimal,
  nonNegativeInteger,
  pluginOptionNote,
  usageErrors,
  UsageError,
  verdictList,
} from './args.js';
import { escapeControls } from './escape.js';
import { LogFollower } from './follow.js';
import { LogLineParser, type LogRecord } from '../format/log-record.js';
import type { Output } from './output.js';
import { accepts, recordFilter, type RecordFilter } from './record-filter.js';
import { AlignedRenderer, JsonRenderer, PlainRenderer, type RecordRenderer } from './tail-render.js';

export const TAIL_HELP = `Usage: tcpinfo tail [options] [FILE]

Show the last lines of a tcpinfo log, then follow it as it grows, like tail -F: when the log rolls
(the file is renamed to its .old name and a new one is created), tail reads the rest of the old
file and goes on with the new one. FILE defaults to ./tcpinfo.log; if it does not exist yet, tail
waits for it.

On a terminal, columns are aligned, times are local, rtt and other times are in ms (the --explain
columns' _us as _ms) and bytes in KiB/MiB. When the terminal is too narrow, the --explain verdict,
judged time, shares and ended are kept before rtt, cwnd and retransmissions, TCP_INFO detail first
to go. In a pipe, output is tab-separated with no padding or colour, values in the log's own
units (rtt in microseconds), with a title line whenever the columns change.

Options:
  -n, --lines=N        show the last N matching lines first (default 10; 0 for only new lines)
      --event=LIST     only these events, comma-separated: ${EVENT_NAMES.join(', ')}
      --client=LIST    only these clients: addresses or subnets, comma-separated (127.0.0.1, 10.0.0.0/8, ::1)
      --verdict=LIST   only verdict lines (--explain logs) with these verdicts: ${VERDICTS.join(', ')}
      --min-rtt=MS     only readings with rtt of at least MS milliseconds (decimals allowed)
      --fields=LIST    show only these columns after time, event, client, server (e.g. rtt,snd_cwnd)
      --json           write JSON lines (one object per reading) instead of columns
      --pretty         aligned columns even when not writing to a terminal
      --plain          tab-separated columns even on a terminal
      --no-follow      print the last lines and exit
      --poll=MS        how often to look for new lines and rolls (default 250)
  -h, --help           show this help

Stops cleanly on Ctrl-C (SIGINT), SIGTERM, or when the reader of its output goes away.

Examples:
  tcpinfo tail
  tcpinfo tail /var/log/tcpinfo.log --event=txn_close --min-rtt=50
  tcpinfo tail -n 0 --client=10.0.0.0/8 --fields=rtt,rttvar,snd_cwnd,all_retrans
  tcpinfo tail --verdict=server,network
  tcpinfo tail --json | jq 'select(.all_retrans > 0)'

Exit status: 0 when stopped or done, 1 when FILE cannot be read (or does not exist with --no-follow),
2 for a usage error.
`;

const DEFAULT_FILE = 'tcpinfo.log';
const DEFAULT_LINES = 10;
const DEFAULT_POLL_MS = 250;

const TAIL_OPTIONS = {
  lines: { type: 'string', short: 'n' },
  event: { type: 'string' },
  client: { type: 'string' },
  verdict: { type: 'string' },
  'min-rtt': { type: 'string' },
  fields: { type: 'string' },
  json: { type: 'boolean' },
  pretty: { type: 'boolean' },
  plain: { type: 'boolean' },
  'no-follow': { type: 'boolean' },
  poll: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

interface TailArgs {
  file: string;
  lines: number;
  filter: RecordFilter;
  fields: string[] | undefined;
  output: 'aligned' | 'plain' | 'json';
  follow: boolean;
  pollMs: number;
}

function tailArgs(args: string[], out: Output): TailArgs {
  const { values, positionals } = usageErrors(
    () => parseArgs({ args, strict: true, allowPositionals: true, options: TAIL_OPTIONS }),
    TAIL_OPTIONS,
    pluginOptionNote('tail'),
  );
  if (positionals.length > 1) throw new UsageError(`tail follows one file; got ${positionals.length}: ${positionals.join(' ')}`);
  if ([values.json, values.pretty, values.plain].filter(Boolean).length > 1) {
    throw new UsageError('--json, --pretty and --plain exclude each other; give one');
  }
  const filter = recordFilter(values);
  if (values.verdict !== undefined) filter.verdicts = verdictList('--verdict', values.verdict);
  if (values['min-rtt'] !== undefined) {
    // Rounded to the nanosecond: 0.011 ms must be 11 µs, not 11.000000000000002.
    filter.minRttUs = Math.round(nonNegativeDecimal('--min-rtt', values['min-rtt']) * 1e6) / 1e3;
  }
  let fields: string[] | undefined;
  if (values.fields !== undefined) {
    fields = values.fields.split(',').map((name) => name.trim()).filter((name) => name !== '');
    if (fields.length === 0) throw new UsageError(`--fields=${values.fields}: name at least one column, e.g. rtt,snd_cwnd`);
  }
  const pollMs = values.poll === undefined ? DEFAULT_POLL_MS : nonNegativeInteger('--poll', values.poll);
  if (pollMs < 10 || pollMs > 60_000) throw new UsageError(`--poll=${values.poll}: must be 10 to 60000 ms`);
  return {
    file: positionals[0] ?? DEFAULT_FILE,
    lines: values.lines === undefined ? DEFAULT_LINES : nonNegativeInteger('--lines', values.lines),
    filter,
    fields,
    output: values.json ? 'json' : values.pretty ? 'aligned' : values.plain ? 'plain' : out.isTTY ? 'aligned' : 'plain',
    follow: !values['no-follow'],
    pollMs,
  };
}

function makeRenderer(args: TailArgs, out: Output, err: NodeJS.WritableStream): RecordRenderer {
  if (args.output === 'json') return new JsonRenderer(args.fields);
  if (args.output === 'plain') return new PlainRenderer(args.fields);
  return new AlignedRenderer(out.color, args.fields, out.columns, (hidden) => {
    err.write(`tcpinfo tail: not shown, for the terminal's width: ${hidden.join(',')}; choose columns with --fields=\n`);
  });
}

export async function runTail(argv: string[], out: Output, err: NodeJS.WritableStream): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    out.write(TAIL_HELP);
    return EXIT_OK;
  }
  const args = tailArgs(argv, out);
  const renderer = makeRenderer(args, out, err);
  const parser = new LogLineParser();
  const stop = new AbortController();
  const onStop = (): void => stop.abort();
  out.closed.addEventListener('abort', onStop);
  process.once('SIGINT', onStop);
  process.once('SIGTERM', onStop);

  /** The line's record when it is one that passes the filters; `again`: already read once (and counted). */
  const pick = (line: string, again = false): LogRecord | undefined => {
    const malformed = parser.malformed;
    const record = parser.parse(line);
    if (again) parser.malformed = malformed;
    return record !== undefined && accepts(args.filter, record) ? record : undefined;
  };
  const show = (records: LogRecord[]): void => {
    let text = '';
    for (const record of records) text += renderer.render(record);
    out.write(text);
  };
  const follower = new LogFollower(args.file, {
    lines(lines) {
      const records: LogRecord[] = [];
      for (const line of lines) {
        const record = pick(line);
        if (record !== undefined) records.push(record);
      }
      show(records);
    },
    newFile() {
      parser.startFile();
    },
    notice(message) {
      err.write(`tcpinfo tail: ${escapeControls(message)}\n`);
    },
  });

  try {
    if (await follower.openAtEnd(args.follow)) {
      const header = await follower.firstLine();
      if (header !== undefined && LogLineParser.isHeader(header)) parser.parse(header);
      await follower.lastLines(args.lines, pick, show, stop.signal);
    } else if (!args.follow) {
      err.write(`tcpinfo tail: ${escapeControls(args.file)}: no such file\n`);
      return EXIT_FAILURE;
    } else {
      err.write(`tcpinfo tail: ${escapeControls(args.file)} does not exist yet; waiting for it\n`);
    }
    while (args.follow && !stop.signal.aborted) {
      const more = await follower.poll();
      if (!more) await sleep(args.pollMs, undefined, { signal: stop.signal }).catch(() => undefined);
    }
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    err.write(`tcpinfo tail: ${escapeControls(args.file)}: cannot read (${escapeControls(e.code ?? e.message)})\n`);
    return EXIT_FAILURE;
  } finally {
    process.removeListener('SIGINT', onStop);
    process.removeListener('SIGTERM', onStop);
    out.closed.removeEventListener('abort', onStop);
    await follower.close();
  }
  if (parser.malformed > 0) err.write(`tcpinfo tail: skipped ${parser.malformed} lines that are not tcpinfo readings\n`);
  return EXIT_OK;
}
