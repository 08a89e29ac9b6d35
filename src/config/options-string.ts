/**
 * Reading a Traffic Server options string (`--hooks=ssn_start,txn_close -l 2`) into the text given for
 * each option: words split here, options read by yargs-parser set up as getopt, problems collected.
 */
import yargsParser from 'yargs-parser';
import type { ConfigProblem } from '../errors.js';
import type { OptionSpec } from './option-spec.js';
import { OPTION_SPECS, SPEC_BY_LONG, SPEC_BY_SHORT, unknownOption } from './option-table.js';

/** A word of an options string, quotes removed, with where it starts and ends in the text. */
export interface OptionWord {
  text: string;
  start: number;
  end: number;
}

/**
 * Splits an options string into words as a shell would, minus escapes and variables (`#` starts a comment).
 * Not yargs-parser's tokenizer: it splits on spaces only and unquotes only whole values.
 */
export function splitWords(text: string): { words: OptionWord[]; unclosedQuote?: OptionWord } {
  const words: OptionWord[] = [];
  let i = 0;
  while (i < text.length) {
    if (/\s/.test(text[i])) {
      i++;
      continue;
    }
    if (text[i] === '#') {
      const lineEnd = text.indexOf('\n', i);
      i = lineEnd < 0 ? text.length : lineEnd;
      continue;
    }
    const start = i;
    let word = '';
    while (i < text.length && !/\s/.test(text[i])) {
      const c = text[i];
      if (c === '"' || c === "'") {
        const close = text.indexOf(c, i + 1);
        if (close < 0) {
          const lineEnd = text.indexOf('\n', start);
          return { words, unclosedQuote: { text: text.slice(start, lineEnd < 0 ? undefined : lineEnd), start, end: text.length } };
        }
        word += text.slice(i + 1, close);
        i = close + 1;
      } else {
        word += c;
        i++;
      }
    }
    words.push({ text: word, start, end: i });
  }
  return { words };
}

/** yargs-parser as getopt and nothing more: values stay text, no camelCase/dotted keys or --no-, repeats kept. */
const YARGS_OPTIONS: yargsParser.Options = {
  string: OPTION_SPECS.map((spec) => spec.long),
  alias: Object.fromEntries(OPTION_SPECS.filter((spec) => spec.short !== undefined).map((spec) => [spec.long, [spec.short as string]])),
  configuration: {
    'camel-case-expansion': false,
    'dot-notation': false,
    'boolean-negation': false,
    'parse-numbers': false,
    'parse-positional-numbers': false,
    'duplicate-arguments-array': true,
    'flatten-duplicate-arrays': false,
    'greedy-arrays': false,
    'unknown-options-as-args': true,
    'strip-aliased': true,
    'populate--': true,
  },
};

/** getopt reads `-ffoo.log` as `-f foo.log`, yargs-parser as flags -f -f -o...: split it off first. */
function splitAttachedShortValues(words: string[]): string[] {
  return words.flatMap((word) => {
    const match = /^-([A-Za-z])([^=][\s\S]*)$/.exec(word);
    return match !== null && SPEC_BY_SHORT.has(match[1]) ? [`-${match[1]}`, match[2]] : [word];
  });
}

function strayWord(word: string): ConfigProblem {
  return { option: word, value: '', reason: 'unexpected word: options are written --name=value or -x value' };
}

/** yargs-parser leaves unknown options among the plain words; tell them apart as getopt would. */
function unknownOptionOrStrayWord(word: string): ConfigProblem {
  if (!word.startsWith('-') || word === '-') return strayWord(word);
  const eq = word.indexOf('=');
  return eq < 0 ? unknownOption(word, '', 'long') : unknownOption(word.slice(0, eq), word.slice(eq + 1), 'long');
}

/** The text given for each option in an options string. */
export function readOptionsString(text: string, problems: ConfigProblem[]): Map<OptionSpec, string> {
  const { words, unclosedQuote } = splitWords(text);
  if (unclosedQuote !== undefined) {
    problems.push({ option: unclosedQuote.text, value: '', reason: 'unclosed quote' });
  }
  const parsed = yargsParser.detailed(splitAttachedShortValues(words.map((word) => word.text)), YARGS_OPTIONS);
  if (parsed.error !== null) problems.push({ option: '', value: '', reason: parsed.error.message });

  const texts = new Map<OptionSpec, string>();
  for (const [name, value] of Object.entries(parsed.argv)) {
    if (name === '_' || name === '--') continue;
    const spec = SPEC_BY_LONG.get(name);
    if (spec === undefined) {
      // Only --no-<name> gets here: yargs-parser keeps it as a key even with negation off.
      problems.push(unknownOption(`--${name}`, typeof value === 'string' ? value : '', 'long'));
    } else if (Array.isArray(value)) {
      const given = value.map((v) => JSON.stringify(String(v))).join(', ');
      problems.push({ option: `--${spec.long}`, value: '', reason: `given ${value.length} times (${given}); give it once` });
    } else {
      texts.set(spec, String(value));
    }
  }
  for (const word of parsed.argv._) problems.push(unknownOptionOrStrayWord(String(word)));
  // After `--` even a word that looks like an option is a plain word.
  for (const word of (parsed.argv['--'] as unknown[] | undefined) ?? []) problems.push(strayWord(String(word)));
  return texts;
}

