/** `tcpinfo check [plugin.config | --options '...']`: validate a configuration and show what it means. */
import { parseArgs } from 'node:util';
import { accessSync, constants, lstatSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { closest } from '../config/closest.js';
import { describeOptions, formatProblem, OPTION_SPECS, parseOptions, TcpinfoConfigError, type ConfigProblem, type OptionRow } from '../config/options.js';
import { loadConfig } from '../config/plugin-config.js';
import type { TcpinfoOptions } from '../config/types.js';
import { stdioName } from '../config/stdio-name.js';
import { refusedFile } from '../logger/live-file.js';
import { SYMLINK_REASON } from '../logger/writer.js';
import { EXIT_FAILURE, EXIT_OK, usageErrors, UsageError } from './args.js';
import { BOLD, RESET, type Output } from './output.js';

export const CHECK_HELP = `Usage: tcpinfo check [options] [PLUGIN_CONFIG]
       tcpinfo check --options 'OPTIONS'

Validate the plugin's configuration and print the effective value of every option, and whether it
is the default. PLUGIN_CONFIG is a Traffic Server plugin.config whose tcpinfo.so line holds the
options (default: ./plugin.config; when there is none, and no --options, it says so and exits 2);
--options takes an options string as attach() does.

When the configuration is wrong, every problem is listed (file and line included), not only the
first. Output goes to stdout in both cases.

Options:
      --options=TEXT   check this options string instead of a file
      --json           print {"valid", "ready", "source", "options", "problems", "notices"} as JSON
  -h, --help           show this help

Examples:
  tcpinfo check /etc/trafficserver/plugin.config
  tcpinfo check --options '--hooks=ssn_start,txn_close --log-level=2 --rolling-interval-sec=3600'
  tcpinfo check --options='' --json

The log file is looked at as start-up would: its directory must exist, be a directory and be
writable here, and the log path must not be a symbolic link (never followed), a directory, a file
with other names (a hard link) or, run as root, another user's file. When start-up would refuse,
the problems are listed (--json: "ready": false and "problems") and the exit status is 1, so
'tcpinfo check && deploy' is a real gate. Run it where the app runs, as its user.

Exit status: 0 when the configuration is valid and tcpinfo could start with it here, 1 when it is
not valid, start-up would refuse it (or the file cannot be read), 2 for a usage error (also: no
PLUGIN_CONFIG, no --options and no ./plugin.config).
`;

const DEFAULT_CONFIG = 'plugin.config';

const CHECK_OPTIONS = {
  options: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `tcpinfo check --hooks=...`: the plugin's option (or the closest), which goes in --options. */
function pluginOptionHint(name: string): string | undefined {
  const option = closest(name, OPTION_SPECS.map((spec) => spec.long));
  return option === undefined ? undefined : `--${option} is the plugin's: check it with --options '--${option}=...'`;
}

/** A missing ./plugin.config when none was named: nothing to check, rather than an invalid configuration. */
function noDefaultConfig(): boolean {
  try {
    statSync(DEFAULT_CONFIG);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** `--options VALUE` as `--options=VALUE`: the value starts with a dash, which parseArgs refuses to take. */
function joinOptionsValue(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--options' && i + 1 < argv.length) out.push(`--options=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}

/** What would stop start-up here, looked at as start-up does: the log's directory, and what sits at its path. */
function startupProblems(options: TcpinfoOptions): ConfigProblem[] {
  const file = options.logFile;
  if (stdioName(file) !== undefined) return []; // the process's own output: never opened as a path
  const problem = (reason: string): ConfigProblem[] => [{ option: '--log-file', value: file, reason }];
  const dir = dirname(file);
  try {
    if (!statSync(dir).isDirectory()) return problem(`${dir} is not a directory`);
    accessSync(dir, constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return problem(`the directory ${dir} does not exist`);
    if (code === 'ENOTDIR') return problem(`${dir} is not a directory`);
    return problem(`the directory ${dir} is not writable here (${code})`);
  }
  let info;
  try {
    info = lstatSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? [] : problem(`cannot be looked at (${code})`);
  }
  if (info.isSymbolicLink()) return problem(SYMLINK_REASON);
  if (info.isDirectory()) return problem('is a directory; name a file (the .log name in it, e.g. --log-dir for the directory)');
  if (info.isFile()) {
    const refused = refusedFile(info);
    if (refused !== undefined) return problem(refused);
    try {
      accessSync(file, constants.W_OK);
    } catch (err) {
      return problem(`the file is not writable here (${(err as NodeJS.ErrnoException).code})`);
    }
  }
  return [];
}

function textReport(source: string, rows: OptionRow[], notices: string[], refused: ConfigProblem[], out: Output): string {
  const titles = ['option', 'value', 'default', 'description'];
  const cells = rows.map((row) => [row.option, row.value === '' ? '(none)' : row.value, row.isDefault ? 'yes' : 'no', row.description]);
  const widths = titles.map((title, i) => Math.max(title.length, ...cells.map((row) => row[i].length)));
  const line = (row: string[]): string => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ');
  const title = line(titles);
  const status = refused.length === 0
    ? `${source}: valid`
    : `${source}: valid, but tcpinfo would not start here: ${refused.length} problem${refused.length === 1 ? '' : 's'}\n${refused.map(formatProblem).join('\n')}`;
  const lines = [status, '', out.color ? BOLD + title + RESET : title, ...cells.map(line)];
  if (notices.length > 0) lines.push('', ...notices.map((notice) => `note: ${notice}`));
  return lines.join('\n') + '\n';
}

export function runCheck(argv: string[], out: Output): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    out.write(CHECK_HELP);
    return EXIT_OK;
  }
  const { values, positionals } = usageErrors(
    () => parseArgs({ args: joinOptionsValue(argv), strict: true, allowPositionals: true, options: CHECK_OPTIONS }),
    CHECK_OPTIONS,
    pluginOptionHint,
  );
  if (positionals.length > 1) throw new UsageError(`check takes one plugin.config; got ${positionals.length}: ${positionals.join(' ')}`);
  if (positionals.length === 1 && values.options !== undefined) {
    throw new UsageError('give either a plugin.config or --options, not both');
  }
  if (values.options === undefined && positionals.length === 0 && noDefaultConfig()) {
    throw new UsageError(
      `no configuration to check: no ${DEFAULT_CONFIG} here; pass a plugin.config path ` +
        `(tcpinfo check /etc/trafficserver/plugin.config) or an options string (tcpinfo check --options '--hooks=ssn_start,txn_close')`,
    );
  }
  const source = values.options !== undefined ? 'options' : (positionals[0] ?? DEFAULT_CONFIG);

  let options: TcpinfoOptions;
  let rows: OptionRow[];
  try {
    options = values.options !== undefined ? parseOptions(values.options) : loadConfig(source);
    rows = describeOptions(options);
  } catch (err) {
    if (!(err instanceof TcpinfoConfigError)) throw err;
    if (values.json) {
      out.write(JSON.stringify({ valid: false, source, problems: err.problems }, null, 2) + '\n');
    } else {
      const problems = err.problems.map(formatProblem);
      out.write(`${source}: invalid, ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${problems.join('\n')}\n`);
    }
    return EXIT_FAILURE;
  }
  const notices = [...options.notices];
  const refused = startupProblems(options);
  if (values.json) {
    const shown = rows.map(({ option, value, isDefault, description }) => ({ option, value, isDefault, description }));
    const report = { valid: true, ready: refused.length === 0, source, options: shown, notices, ...(refused.length > 0 ? { problems: refused } : {}) };
    out.write(JSON.stringify(report, null, 2) + '\n');
  } else {
    out.write(textReport(source, rows, notices, refused, out));
  }
  return refused.length === 0 ? EXIT_OK : EXIT_FAILURE;
}
