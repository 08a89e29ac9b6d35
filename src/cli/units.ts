/** Readable units for the kernel's fields and the --explain columns (ms, KiB/MiB/GiB, per second); the log keeps the kernel's. */
import { columnUnit, EXPLAIN_COLUMNS } from '../format/columns.js';

type Unit = 'us' | 'ms' | 'bytes' | 'rate' | 'count';

const EXPLAIN_NAMES: ReadonlySet<string> = new Set(EXPLAIN_COLUMNS);

/** How a column is shown, from its kernel unit (an --explain column's, from its name): amounts of bytes scaled, sizes (MSS, windows) kept as numbers. */
function unitOf(field: string): Unit {
  if (EXPLAIN_NAMES.has(field)) return field.endsWith('_us') ? 'us' : field.endsWith('_bytes') ? 'bytes' : 'count';
  switch (columnUnit(field)) {
    case 'us':
      return 'us';
    case 'ms':
      return 'ms';
    case 'bytes/s':
      return 'rate';
    case 'bytes':
      return field.startsWith('bytes_') || field.endsWith('_bytes') ? 'bytes' : 'count';
    default:
      return 'count';
  }
}

/** The column title a person reads: times say they are in ms (an --explain column's `_us` becomes `_ms`). */
export function fieldTitle(field: string): string {
  const unit = unitOf(field);
  if (unit === 'us' && EXPLAIN_NAMES.has(field)) return `${field.slice(0, -3)}_ms`;
  return unit === 'us' || unit === 'ms' ? `${field}(ms)` : field;
}

/** Microseconds as milliseconds with three decimals: exact, and aligned in a column. */
export function microsAsMs(us: number): string {
  return (us / 1000).toFixed(3);
}

const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** Bytes as B, KiB, MiB, GiB or TiB, one decimal above bytes. */
export function bytes(n: number): string {
  let value = n;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < BINARY_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value}B` : `${value.toFixed(1)}${BINARY_UNITS[unit]}`;
}

/** The kernel's "no slow-start threshold yet" (TCP_INFINITE_SSTHRESH). */
const INFINITE_SSTHRESH = 0x7fffffff;

/** A field's value for a person: numbers in the unit of `fieldTitle`, `-` for absent. */
export function readableValue(field: string, value: string | number | null): string {
  if (value === null) return '-';
  const n = typeof value === 'number' ? value : Number(value);
  if (value === '' || !Number.isFinite(n)) return String(value);
  if (n === INFINITE_SSTHRESH && field === 'snd_ssthresh') return 'inf';
  switch (unitOf(field)) {
    case 'us':
      return microsAsMs(n);
    case 'bytes':
      return bytes(n);
    case 'rate':
      return `${bytes(n)}/s`;
    default:
      return String(value);
  }
}

/** Integer with thousands separators (`12,345`), independent of the locale. */
export function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function two(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

/** Local time as `2026-11-23 14:05:09`. */
export function localTime(ms: number): string {
  const d = new Date(ms);
  return (
    `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`
  );
}
