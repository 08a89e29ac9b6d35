/**
 * How `tcpinfo tail` shows a record: aligned (a terminal: padded, readable units), plain (a pipe: tabs,
 * values as logged) or json. All escape control characters (escape.ts).
 */
import { escapeControls as esc, safeJson } from './escape.js';
import type { LogRecord } from '../format/log-record.js';
import { BOLD, RESET } from './output.js';
import { fieldTitle, localTime, readableValue } from './units.js';

export interface RecordRenderer {
  /** The record's text, ending in a newline; a title line before it when the columns changed. */
  render(record: LogRecord): string;
}

type Field = [name: string, value: string | number | null];

/** The record's columns after the fixed four: all of them, or only `only`, in its order. */
function shownFields(record: LogRecord, only: readonly string[] | undefined): Field[] {
  const fields = record.fields();
  if (only === undefined) return fields;
  const byName = new Map(fields);
  return only.map((name): Field => [name, byName.get(name) ?? null]);
}

export class JsonRenderer implements RecordRenderer {
  private readonly only: readonly string[] | undefined;

  constructor(only?: readonly string[]) {
    this.only = only;
  }

  render(record: LogRecord): string {
    if (this.only === undefined) return safeJson(record) + '\n';
    const { time, event, client, server } = record.toJSON();
    const object: Record<string, unknown> = { time, event, client, server };
    for (const [name, value] of shownFields(record, this.only)) object[name] = record.number(name) ?? value;
    return safeJson(object) + '\n';
  }
}

export class PlainRenderer implements RecordRenderer {
  private readonly only: readonly string[] | undefined;
  private signature = '';

  constructor(only?: readonly string[]) {
    this.only = only;
  }

  render(record: LogRecord): string {
    const fields = shownFields(record, this.only);
    const names = [record.format === 'text' ? 'timestamp' : 'time', 'event', 'client', 'server'];
    for (const [name] of fields) names.push(esc(name));
    const signature = names.join('\t');
    let text = '';
    if (signature !== this.signature) {
      this.signature = signature;
      text += signature + '\n';
    }
    text += esc(record.timeText) + '\t' + esc(record.event) + '\t' + esc(record.client) + '\t' + esc(record.server);
    for (const [, value] of fields) text += '\t' + (value === null ? '-' : typeof value === 'number' ? value : esc(value));
    return text + '\n';
  }
}

/** Columns before the kernel's fields: time, event, client, server; left-aligned. */
const FIXED_TITLES = ['time', 'event', 'client', 'server'];
/** Their usual widths: a local time, `send_resp_hdr`, an IPv4 address. */
const FIXED_WIDTHS = [19, 13, 15, 15];
const MIN_FIELD_WIDTH = 6;
const GAP = '  ';

/**
 * Fields kept first when a terminal is too narrow for all of them, in this order (docs/cli.md says it): an
 * --explain verdict and its shares, the connection's rtt, window and retransmissions, the transaction's
 * times and accounting. The others (TCP_INFO detail: snd_ssthresh, fackets, ...) give way first.
 */
const PRIORITY = [
  'verdict', 'judged_us', 'server_us', 'client_us', 'network_us', 'ended',
  'rtt', 'rttvar', 'snd_cwnd', 'all_retrans', 'total_retrans',
  'ttfb_us', 'duration_us', 'resp_bytes', 'txn_retrans', 'shared',
  'retrans', 'lost', 'unacked', 'min_rtt', 'min_rtt_us', 'delivery_rate', 'bytes_acked', 'bytes_received',
  'delivered_us', 'end_us', 'upload_us', 'ack_delay_us', 'wnd_limited_us', 'flow_held_us', 'unsent_bytes',
  'txn_busy_us', 'txn_rwnd_limited_us', 'txn_sndbuf_limited_us',
];
/** Values wider than their title and MIN_FIELD_WIDTH (`gave_up`), for the fit. */
const VALUE_WIDTHS: ReadonlyMap<string, number> = new Map([['ended', 7]]);

export class AlignedRenderer implements RecordRenderer {
  private readonly only: readonly string[] | undefined;
  private readonly color: boolean;
  private readonly width: number | undefined;
  private readonly onHidden: (names: string[]) => void;
  private signature = '';
  private shown: readonly string[] | undefined;
  private widths: number[] = [];

  /** `width`: the terminal's; without `only`, the PRIORITY columns that fit are shown, `onHidden` told the rest. */
  constructor(color: boolean, only?: readonly string[], width?: number, onHidden: (names: string[]) => void = () => {}) {
    this.color = color;
    this.only = only;
    this.width = width;
    this.onHidden = onHidden;
  }

  render(record: LogRecord): string {
    let text = '';
    const signature = record.fields().map(([name]) => name).join(' ');
    if (signature !== this.signature || this.widths.length === 0) {
      this.signature = signature;
      this.shown = this.only ?? this.fitting(record.fields().map(([name]) => name));
      const titles = [...FIXED_TITLES, ...this.shown.map((name) => esc(fieldTitle(name)))];
      this.widths = titles.map((title, i) => Math.max(title.length, i < FIXED_WIDTHS.length ? FIXED_WIDTHS[i] : MIN_FIELD_WIDTH));
      const line = this.line(titles);
      text += this.color ? BOLD + line + RESET + '\n' : line + '\n';
    }
    const cells = [localTime(record.time), esc(record.event), esc(record.client), esc(record.server)];
    for (const [name, value] of shownFields(record, this.shown)) cells.push(esc(readableValue(name, value)));
    // Columns only grow: a wide value widens its column for the lines after it.
    return text + this.line(cells) + '\n';
  }

  /** The fields that fit the terminal, in log order; all of them when they fit or the width is unknown. */
  private fitting(names: string[]): string[] {
    const columnWidth = (name: string): number => GAP.length + Math.max(fieldTitle(name).length, MIN_FIELD_WIDTH, VALUE_WIDTHS.get(name) ?? 0);
    let used = FIXED_WIDTHS.reduce((sum, w) => sum + w, 0) + GAP.length * (FIXED_WIDTHS.length - 1);
    const all = names.reduce((sum, name) => sum + columnWidth(name), used);
    // A pseudo-terminal may report no width (0): then every column is shown.
    if (this.width === undefined || this.width < 40 || all <= this.width) return names;
    const ranked = [...PRIORITY.filter((name) => names.includes(name)), ...names.filter((name) => !PRIORITY.includes(name))];
    const keep = new Set<string>();
    for (const name of ranked) {
      if (used + columnWidth(name) > this.width) break;
      used += columnWidth(name);
      keep.add(name);
    }
    const hidden = names.filter((name) => !keep.has(name));
    if (hidden.length > 0) this.onHidden(hidden.map(esc));
    return names.filter((name) => keep.has(name));
  }

  private line(cells: string[]): string {
    let line = '';
    for (let i = 0; i < cells.length; i++) {
      this.widths[i] = Math.max(this.widths[i] ?? 0, cells[i].length);
      const cell = i < FIXED_TITLES.length ? cells[i].padEnd(this.widths[i]) : cells[i].padStart(this.widths[i]);
      line += (i === 0 ? '' : GAP) + cell;
    }
    return line.trimEnd();
  }
}
