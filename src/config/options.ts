/**
 * The plugin's options, from an ATS options string or an object; every problem thrown at once.
 *
 *   text or object -> text per option -> each spec parses its text (or its default) -> TcpinfoOptions
 */
import { TcpinfoConfigError, withCode, type ConfigProblem } from '../errors.js';
import { InvalidValue, type OptionSpec, type OptionValues } from './option-spec.js';
import { OPTION_SPECS } from './option-table.js';
import { stdioName } from './stdio-name.js';
import { isRegistry, readOptionsObject, showValue } from './options-object.js';
import { readOptionsString } from './options-string.js';
import type { TcpinfoOptions, TcpinfoOptionsInput } from './types.js';

export { TcpinfoConfigError, formatProblem, type ConfigProblem } from '../errors.js';
export { DEFAULT_OPTIONS_STRING, OPTION_SPECS } from './option-table.js';
export type { OptionSpec, OptionValues, ParseContext } from './option-spec.js';
export { splitWords, type OptionWord } from './options-string.js';

/** What `describeOptions` returns per option. */
export interface OptionRow {
  /** `--log-level` */
  option: string;
  /** The effective value, written as the option would take it (`1024M`, an absolute log file path). */
  value: string;
  /** True when the user did not give this option. */
  isDefault: boolean;
  description: string;
}

/** Each TcpinfoOptions this module made, with its rows for describeOptions; also how parseOptions knows them again. */
const rowsByOptions = new WeakMap<TcpinfoOptions, OptionRow[]>();

/** The text given for each option (or its default), parsed by its spec, into TcpinfoOptions; throws every problem at once. */
function optionsFromTexts(texts: Map<OptionSpec, string>, problems: ConfigProblem[], metricsRegistry?: object): TcpinfoOptions {
  const values: Partial<Record<keyof OptionValues, unknown>> = {};
  const notices: string[] = [];
  const rows: OptionRow[] = [];
  for (const spec of OPTION_SPECS) {
    const given = texts.get(spec);
    const text = given === '' && spec.flag === true ? '1' : (given ?? spec.default);
    let value: unknown;
    try {
      if (text === '') throw new InvalidValue(`empty value; must be ${spec.allowed}`);
      value = text === undefined ? undefined : spec.parse(text, { values: values as Partial<OptionValues>, notices });
    } catch (err) {
      if (!(err instanceof InvalidValue)) throw err;
      problems.push({ option: `--${spec.long}`, value: text ?? '', reason: err.reason ?? `must be ${spec.allowed}` });
    }
    values[spec.key] = value;
    // An option without a show function has a string, number or boolean value.
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- see the line above
    const shown = value === undefined ? '' : spec.show !== undefined ? spec.show(value as never) : String(value);
    rows.push({ option: `--${spec.long}`, value: shown, isDefault: !texts.has(spec), description: spec.description });
  }
  if (problems.length > 0) throw new TcpinfoConfigError(problems);

  // Every spec has run without a problem, so every field is set; logDir has done its job in logFile.
  const { logDir: _logDir, ...fields } = values as OptionValues;
  if (fields.metricsPort !== undefined && !fields.metrics) {
    throw new TcpinfoConfigError([{ option: '--metrics-port', value: String(fields.metricsPort), reason: 'needs --metrics' }]);
  }
  if (fields.otel && !fields.explain) {
    throw new TcpinfoConfigError([{ option: '--otel', value: '1', reason: 'needs --explain (what it sends is each transaction\'s verdict)' }]);
  }
  if (fields.timingAllowOrigin !== undefined && !fields.serverTiming) {
    throw new TcpinfoConfigError([{ option: '--timing-allow-origin', value: fields.timingAllowOrigin, reason: 'needs --server-timing' }]);
  }
  if (fields.explain && !fields.hooks.includes('txn_close') && !fields.metrics && !fields.otel) {
    throw new TcpinfoConfigError([
      { option: '--explain', value: '1', reason: `needs txn_close in --hooks (its verdict is on the txn_close line), or --metrics or --otel; --hooks=${fields.hooks.join(',')}` },
    ]);
  }
  if (stdioName(fields.logFile) !== undefined) {
    // The process's own output is never rolled (as ATS). Rolling options are a notice, not an error: a
    // shared plugin.config may carry them.
    const given = OPTION_SPECS.filter((spec) => spec.long.startsWith('rolling-') && texts.has(spec) && !(spec.key === 'rollingEnabled' && fields.rollingEnabled === 0));
    if (given.length > 0) {
      notices.push(`--log-file=${fields.logFile} is never rolled: ${given.map((spec) => `--${spec.long}`).join(', ')} ignored`);
    }
  } else if (fields.rollingMaxCount > 0 && fields.rollingEnabled === 0) {
    notices.push(`--rolling-max-count=${fields.rollingMaxCount} has no effect with --rolling-enabled=0: the log never rolls`);
  }
  const options: TcpinfoOptions = { ...fields, metricsRegistry, notices };
  rowsByOptions.set(options, rows);
  return options;
}

/**
 * Validates options given as a Traffic Server options string (`--hooks=ssn_start,txn_close -l 2`) or as an
 * object (camelCase or kebab-case keys), and fills in the defaults. Throws one TcpinfoConfigError listing
 * every problem. Options it returned before are returned as they are.
 */
export function parseOptions(input?: string | TcpinfoOptionsInput | TcpinfoOptions | null): TcpinfoOptions {
  if (input !== null && typeof input === 'object' && rowsByOptions.has(input as TcpinfoOptions)) return input as TcpinfoOptions;
  const problems: ConfigProblem[] = [];
  let texts: Map<OptionSpec, string>;
  if (input === undefined || input === null) texts = new Map();
  else if (typeof input === 'string') texts = readOptionsString(input, problems);
  else if (typeof input === 'object' && !Array.isArray(input)) texts = readOptionsObject(input, problems);
  else throw withCode(new TypeError(`tcpinfo: options must be an options string or an object, not ${showValue(input)}`), 'ERR_TCPINFO_INVALID_ARGUMENT');
  const registry = typeof input === 'object' && input !== null && isRegistry((input as { metrics?: unknown }).metrics)
    ? ((input as { metrics: object }).metrics)
    : undefined;
  return optionsFromTexts(texts, problems, registry);
}

/** Every option with its effective value, for `tcpinfo check`. Throws what parseOptions throws. */
export function describeOptions(input?: string | TcpinfoOptionsInput | TcpinfoOptions | null): OptionRow[] {
  const rows = rowsByOptions.get(parseOptions(input)) as OptionRow[];
  return rows.map((row) => ({ ...row }));
}
