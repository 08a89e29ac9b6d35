/** Reading an options object (camelCase or kebab-case keys) into the text given for each option. */
import { inspect } from 'node:util';
import type { ConfigProblem } from '../errors.js';
import type { OptionSpec } from './option-spec.js';
import { SPEC_BY_KEY, SPEC_BY_LONG, unknownOption } from './option-table.js';

/** The value of one key of the object form as option text, or undefined when its type is not allowed. */
function objectValueText(spec: OptionSpec, value: unknown): string | undefined {
  // A number in code is a mode as written in JavaScript (0o640); its text is its octal digits.
  if (spec.key === 'logFileMode' && typeof value === 'number') return Number.isInteger(value) && value >= 0 ? `0${value.toString(8)}` : String(value);
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (spec.flag === true && typeof value === 'boolean') return value ? '1' : '0';
  if (spec.key === 'metrics' && isRegistry(value)) return '1';
  if ((spec.key === 'hooks' || spec.key === 'fields') && Array.isArray(value) && value.every((item) => typeof item === 'string')) return value.join(',');
  return undefined;
}

/** The text given for each option in an options object, by camelCase or Traffic Server name. */
export function readOptionsObject(input: object, problems: ConfigProblem[]): Map<OptionSpec, string> {
  const texts = new Map<OptionSpec, string>();
  const keyGiven = new Map<OptionSpec, string>();
  for (const [key, value] of Object.entries(input)) {
    // `{ logLevel: undefined }` is how code says "not set".
    if (value === undefined) continue;
    const spec = SPEC_BY_KEY.get(key) ?? SPEC_BY_LONG.get(key);
    if (spec === undefined) {
      problems.push(unknownOption(key, showValue(value), 'key'));
      continue;
    }
    const earlier = keyGiven.get(spec);
    if (earlier !== undefined) {
      problems.push({ option: `--${spec.long}`, value: '', reason: `given twice (as ${earlier} and ${key}); give it once` });
      texts.delete(spec);
      continue;
    }
    keyGiven.set(spec, key);
    const text = objectValueText(spec, value);
    if (text === undefined) {
      const types = spec.key === 'hooks' ? 'an array of hook names or a comma list' : 'a string or a number';
      problems.push({ option: `--${spec.long}`, value: showValue(value), reason: `must be ${types}` });
    } else {
      texts.set(spec, text);
    }
  }
  return texts;
}

/** A prom-client Registry, recognised by shape so this module need not load prom-client. */
export function isRegistry(value: unknown): value is object {
  return typeof value === 'object' && value !== null && typeof (value as { registerMetric?: unknown }).registerMetric === 'function';
}

export function showValue(value: unknown): string {
  return typeof value === 'string' ? value : inspect(value, { breakLength: Infinity, depth: 1 });
}

