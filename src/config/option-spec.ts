/** What an option table entry is: its names, its default, and how its text becomes a value. */
import type { OptionInputs, TcpinfoOptions } from './types.js';

/** What the option specs produce: every TcpinfoOptions field, plus `logDir`, which only serves `logFile`. */
export type OptionValues = Omit<TcpinfoOptions, 'notices' | 'metricsRegistry'> & { logDir: string };

/** An option's key: a field of OptionValues that TcpinfoOptionsInput accepts too (a compile error otherwise). */
export type OptionKey = keyof OptionValues & keyof OptionInputs;

/** What a parse function may use besides its own text. */
export interface ParseContext {
  /** Values of the options above this one in OPTION_SPECS (undefined where that value was invalid). */
  readonly values: Readonly<Partial<OptionValues>>;
  /** Where a parse function tells the user about a value it adjusted. */
  readonly notices: string[];
}

/** One option: how it is written, its default, and how its text becomes a value. */
export interface OptionSpec<K extends OptionKey = OptionKey> {
  /** Long name, as in plugin.config: `log-level` for `--log-level=2`. */
  long: string;
  /** Traffic Server's getopt letter (`l` for `-l 2`), if it has one. */
  short: string | undefined;
  /** The camelCase name: the field of TcpinfoOptions and a key of the object form. */
  key: K;
  /** The default, written as a user would write it, and parsed like one; undefined means no value. */
  default: string | undefined;
  /** What is allowed, completing "must be ...": `1 or 2`. */
  allowed: string;
  /** One line for `tcpinfo check` and the docs. */
  description: string;
  /** Text to value; throws InvalidValue for text that is not allowed. */
  parse(text: string, context: ParseContext): OptionValues[K];
  /** Value back to option text, where String(value) would not read well. */
  show?(value: OptionValues[K]): string;
  /** A switch: written alone (`--log-url`) it means on; `=1`/`=0` (or true/false) also work. */
  flag?: boolean;
}

/** Keeps each entry's parse and show checked against the type of its own key. */
export function defineOption<K extends OptionKey>(spec: OptionSpec<K>): OptionSpec<K> {
  return spec;
}

/** Thrown by an option's parse function; caught and turned into a ConfigProblem naming the option and value. */
export class InvalidValue extends Error {
  /** Why, when the option's generic `must be <allowed>` would not say enough. */
  constructor(readonly reason?: string) {
    super(reason);
  }
}
