/**
 * Reading the plugin's options from a Traffic Server plugin.config: the one line that loads
 * tcpinfo.so, written as an ATS admin writes it, with the rest of the file ignored.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TcpinfoConfigError } from '../errors.js';
import { parseOptions } from './options.js';
import { splitWords } from './options-string.js';
import type { TcpinfoOptions } from './types.js';

/** First words that load this plugin, by their last path component. */
const PLUGIN_FILE_NAMES = new Set(['tcpinfo.so', 'tcpinfo']);

/** The line of plugin.config that loads tcpinfo. */
export interface TcpinfoLine {
  /** 1-based line number. */
  line: number;
  /** The line after the plugin path: the options string. */
  args: string;
}

/**
 * Finds the one line whose first word is tcpinfo.so (or a path to it, or plain `tcpinfo`).
 * Comment lines, blank lines and other plugins' lines are skipped. None, or more than one, is an error.
 */
export function findTcpinfoLine(text: string, source = 'plugin.config'): TcpinfoLine {
  const found: TcpinfoLine[] = [];
  // A BOM from a Windows editor would otherwise stick to the first word.
  text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/).forEach((lineText, index) => {
    const [first] = splitWords(lineText).words;
    if (first !== undefined && PLUGIN_FILE_NAMES.has(path.posix.basename(first.text))) {
      found.push({ line: index + 1, args: lineText.slice(first.end) });
    }
  });
  if (found.length === 0) {
    throw new TcpinfoConfigError([
      { option: '', value: '', source, reason: 'no line loads tcpinfo.so (expected a line like "tcpinfo.so --hooks=ssn_start,txn_close")' },
    ]);
  }
  if (found.length > 1) {
    throw new TcpinfoConfigError(
      found.slice(1).map(({ line }) => ({
        option: '',
        value: '',
        source,
        line,
        reason: `tcpinfo.so is loaded again (first on line ${found[0].line}); load it once`,
      })),
    );
  }
  return found[0];
}

/**
 * The options of the tcpinfo line of a plugin.config text. `source` names the file in errors and
 * notices: `plugin.config:3: --log-level=0: must be 1 or 2`.
 */
export function parseConfig(text: string, source = 'plugin.config'): TcpinfoOptions {
  const { line, args } = findTcpinfoLine(text, source);
  let options: TcpinfoOptions;
  try {
    options = parseOptions(args);
  } catch (err) {
    if (!(err instanceof TcpinfoConfigError)) throw err;
    throw new TcpinfoConfigError(err.problems.map((problem) => ({ ...problem, source, line })));
  }
  options.notices = options.notices.map((notice) => `${source}:${line}: ${notice}`);
  return options;
}

/**
 * Reads and parses a plugin.config file. Synchronous: it runs once, at start-up.
 * A relative --log-file still resolves against --log-dir (default: the working directory), not the file's directory.
 */
export function loadConfig(file: string): TcpinfoOptions {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = `cannot read the file: ${(err as Error).message}`;
    throw new TcpinfoConfigError([{ option: '', value: '', source: file, reason }], { cause: err });
  }
  return parseConfig(text, file);
}
