/**
 * The `tcpinfo` command line: read the plugin's logs (tail, summary, explain) and check its configuration.
 * Each command lives in its own module; this one picks it and turns what it returns or throws into
 * the documented exit status. main.ts runs it on the process's arguments and streams (tests, in-process).
 */
import { createRequire } from 'node:module';
import { EXIT_OK, EXIT_USAGE, UsageError } from './args.js';
import { CHECK_HELP, runCheck } from './check.js';
import { escapeControls } from './escape.js';
import { EXPLAIN_HELP, runExplain } from './explain.js';
import { Output } from './output.js';
import { REPORT_HELP, runReport } from './report.js';
import { runSummary, SUMMARY_HELP } from './summary.js';
import { runTail, TAIL_HELP } from './tail.js';

const HELP = `Usage: tcpinfo <command> [options]

Read the logs of the tcpinfo plugin (TCP_INFO of client connections, the Traffic Server way) and
check its configuration.

Commands:
  tail [FILE]        show the last readings, then follow the log across rolls
  summary [FILE...]  per event rtt percentiles, retransmissions, cwnd; top clients; rtt histogram
  explain [FILE...]  slow transactions: was it the server, the network or the client? (--explain logs)
  report [FILE...]   one self-contained HTML page of charts and tables (-o FILE)
  check [CONFIG]     validate a plugin.config or --options string; print the effective options

Run 'tcpinfo <command> --help' for each command's options and examples.

Examples:
  tcpinfo tail --event=txn_close --min-rtt=20
  tcpinfo summary tcpinfo.log_*.old tcpinfo.log --since=24h
  tcpinfo explain tcpinfo.log --since=2h
  tcpinfo report tcpinfo.log_*.old tcpinfo.log -o report.html
  tcpinfo check --options '--hooks=ssn_start,txn_close --log-level=2'

Exit status: 0 success; 1 invalid configuration, or input that cannot be read; 2 usage error.
`;

const COMMAND_HELP: Record<string, string> = { tail: TAIL_HELP, summary: SUMMARY_HELP, explain: EXPLAIN_HELP, report: REPORT_HELP, check: CHECK_HELP };

function version(): string {
  const require = createRequire(import.meta.url);
  return (require('../../package.json') as { version: string }).version;
}

/** Runs `tcpinfo <argv>` writing to `stdout` and `stderr`; resolves with the exit status. */
export async function runCli(
  argv: string[],
  stdout: NodeJS.WritableStream & { isTTY?: boolean } = process.stdout,
  stderr: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
): Promise<number> {
  const out = new Output(stdout);
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'tail':
        return await runTail(rest, out, stderr);
      case 'summary':
        return await runSummary(rest, out, stderr);
      case 'explain':
        return await runExplain(rest, out, stderr);
      case 'report':
        return await runReport(rest, out, stderr);
      case 'check':
        return runCheck(rest, out);
      case 'help':
        out.write(COMMAND_HELP[rest[0]] ?? HELP);
        return EXIT_OK;
      case '-h':
      case '--help':
        out.write(HELP);
        return EXIT_OK;
      case '-V':
      case '--version':
        out.write(version() + '\n');
        return EXIT_OK;
      case undefined:
        stderr.write(HELP);
        return EXIT_USAGE;
      default:
        throw new UsageError(`unknown command "${command}"; commands: tail, summary, explain, report, check`);
    }
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    const name = command !== undefined && command in COMMAND_HELP ? `tcpinfo ${command}` : 'tcpinfo';
    // The message may quote arguments: file names from a glob are anyone's choice.
    stderr.write(`${name}: ${escapeControls(err.message)}\nRun '${name} --help' for usage.\n`);
    return EXIT_USAGE;
  }
}
