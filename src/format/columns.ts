/**
 * The columns of a log line, for the writer (line-format.ts) and the reader (log-record.ts) alike: names,
 * the struct field each shows, the header line, and units (the kernel's: the log never converts).
 */
import { EXPLAIN_NUMBER_COLUMNS } from '../explain/transaction-timing.js';
import { fieldSpec, type FieldSpec } from '../tcpinfo/layout.js';

/** The columns every text line starts with, as its header names them. */
export const FIXED_COLUMNS = ['timestamp', 'event', 'client', 'server'] as const;
/** The same four in a JSON line. */
export const JSON_FIXED_KEYS = ['time', 'event', 'client', 'server'] as const;

/** Traffic Server's level-2 columns, in its order: its column names and the struct fields they show. Level 1 is the first. */
export const LEVEL2_COLUMNS: ReadonlyArray<{ readonly name: string; readonly field: string }> = [
  { name: 'rtt', field: 'rtt' },
  { name: 'rttvar', field: 'rttvar' },
  { name: 'last_sent', field: 'last_data_sent' },
  { name: 'last_recv', field: 'last_data_recv' },
  { name: 'snd_cwnd', field: 'snd_cwnd' },
  { name: 'snd_ssthresh', field: 'snd_ssthresh' },
  { name: 'rcv_ssthresh', field: 'rcv_ssthresh' },
  { name: 'unacked', field: 'unacked' },
  { name: 'sacked', field: 'sacked' },
  { name: 'lost', field: 'lost' },
  { name: 'retrans', field: 'retrans' },
  { name: 'fackets', field: 'fackets' },
  { name: 'all_retrans', field: 'total_retrans' },
  { name: 'data_segs_in', field: 'data_segs_in' },
  { name: 'data_segs_out', field: 'data_segs_out' },
];

const FIELD_OF_COLUMN = new Map(LEVEL2_COLUMNS.map((c) => [c.name, c.field]));

/** The struct field a column shows: a level-2 column's, or the field a --fields column is named after. */
export function columnSpec(name: string): FieldSpec | undefined {
  return fieldSpec(FIELD_OF_COLUMN.get(name) ?? name);
}

/** The unit of a column's values (the kernel's); undefined for a column that is no struct field. */
export function columnUnit(name: string): FieldSpec['unit'] | undefined {
  return columnSpec(name)?.unit;
}

/** The header line of a text file whose lines have these columns after the fixed ones (with its newline). */
export function headerLine(columns: readonly string[]): string {
  return [...FIXED_COLUMNS, ...columns].join(' ') + '\n';
}

/** True when a text line is a header line (it names the columns). */
export function isHeaderLine(line: string): boolean {
  return line.startsWith('timestamp ') || line.startsWith('timestamp\t');
}

/**
 * The columns --explain adds to every line (after the level's or --fields' columns), in this order: a
 * transaction's times, its shares, the kernel's accounting for it, how its delivery ended and its verdict
 * (docs/explain.md). Filled on the txn_delivered line, `-` on the others. Each is a key of TransactionTiming.
 * Their names differ from every struct field's.
 */
export const EXPLAIN_COLUMNS = [...EXPLAIN_NUMBER_COLUMNS, 'ended', 'shared', 'verdict'] as const;
export { EXPLAIN_NUMBER_COLUMNS };
