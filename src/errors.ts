/**
 * The errors tcpinfo throws at a user. A configuration with problems is one TcpinfoConfigError listing
 * every problem found, so a user fixes it in one pass instead of one error per start.
 */

/** One thing wrong with a configuration. */
export interface ConfigProblem {
  /** The option at fault in long form (`--log-level`), or the unknown option or stray word as written. */
  option: string;
  /** The value given, as text; `''` when there was none (or it was empty). */
  value: string;
  /** Why it was refused and what is allowed, e.g. `must be 1 or 2`. */
  allowed: string;
  /** 1-based line of plugin.config the problem is on. */
  line?: number;
  /** The file the configuration came from (for plugin.config), or undefined for an options string. */
  source?: string;
}

/** Thrown for a configuration a user got wrong; `problems` lists everything wrong with it, not just the first. */
export class TcpinfoConfigError extends Error {
  readonly code = 'ERR_TCPINFO_CONFIG';
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[], options?: ErrorOptions) {
    super(['tcpinfo: invalid configuration', ...problems.map(formatProblem)].join('\n'), options);
    this.name = 'TcpinfoConfigError';
    this.problems = problems;
  }
}

/** `  plugin.config:3: --log-level=0: must be 1 or 2`, leaving out the parts a problem does not have. */
export function formatProblem(problem: ConfigProblem): string {
  const where = problem.source === undefined ? '' : problem.line === undefined ? problem.source : `${problem.source}:${problem.line}`;
  const subject = problem.value === '' ? problem.option : `${problem.option}=${showText(problem.value)}`;
  return `  ${[where, subject, problem.allowed].filter((part) => part !== '').join(': ')}`;
}

/** Values are shown as given, quoted only where a reader could not otherwise see where they start and end. */
function showText(text: string): string {
  return text !== text.trim() || /\p{Cc}/u.test(text) ? JSON.stringify(text) : text;
}
