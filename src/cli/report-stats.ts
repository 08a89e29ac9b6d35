/**
 * What `tcpinfo report` gathers besides the explain aggregation (explain-stats.ts): the readings over time
 * in at most MAX_BUCKETS time buckets (rtt and min_rtt percentiles, retransmissions, verdicts) and what the
 * lines tell of how the log was written (format, columns, events). Memory is bounded whatever the logs'
 * length: a bucket holds counts and two fixed-size histograms; when the span outgrows the buckets, they
 * are merged into wider ones.
 */
import { EXPLAIN_COLUMNS, LEVEL2_COLUMNS } from '../format/columns.js';
import type { LogRecord } from '../format/log-record.js';
import type { Verdict } from '../explain/verdict.js';
import { VERDICT_ORDER, type ExplainedTransaction } from './explain-stats.js';

/** Time buckets on the charts, at most. */
export const MAX_BUCKETS = 120;
/** Bucket widths in seconds, each a multiple of the one before (buckets merge exactly); past the last, doubled. */
const WIDTHS_S = [1, 2, 10, 30, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86_400, 7 * 86_400, 28 * 86_400];

/** Values below this are their own bin; above, bins grow by STEP (values within 0.5% of their bin's middle). */
const EXACT_BELOW = 128;
const STEP = 1.01;
const LOG_STEP = Math.log(STEP);
const BINS = 2048;

/** Counts of microsecond values in bins: exact below EXACT_BELOW, within 0.5% above; percentiles nearest-rank by bin. */
export class LogHistogram {
  private readonly bins = new Uint32Array(BINS);
  total = 0;

  add(value: number): void {
    const v = value < 0 ? 0 : value;
    const bin = v < EXACT_BELOW ? Math.floor(v) : Math.min(BINS - 1, EXACT_BELOW + Math.floor(Math.log(v / EXACT_BELOW) / LOG_STEP));
    this.bins[bin]++;
    this.total++;
  }

  merge(other: LogHistogram): void {
    for (let i = 0; i < BINS; i++) this.bins[i] += other.bins[i];
    this.total += other.total;
  }

  /** Nearest-rank percentiles (`ps` ascending, 0..100) as each bin's middle value; NaN when empty. */
  percentiles(ps: readonly number[]): number[] {
    if (this.total === 0) return ps.map(() => NaN);
    const out: number[] = [];
    let seen = 0;
    let bin = -1;
    for (const p of ps) {
      const rank = Math.min(this.total, Math.max(1, Math.ceil((p * this.total) / 100 - 1e-9)));
      while (seen < rank) seen += this.bins[++bin];
      out.push(bin < EXACT_BELOW ? bin : Math.round(EXACT_BELOW * STEP ** (bin - EXACT_BELOW + 0.5)));
    }
    return out;
  }
}

/** The readings of one span of time. */
export class Bucket {
  readings = 0;
  rtt: LogHistogram | undefined;
  minRtt: LogHistogram | undefined;
  /** Readings with the connection's cumulative retransmissions (all_retrans, total_retrans), and those above 0. */
  cumulativeLines = 0;
  cumulativeWith = 0;
  /** Readings with only `retrans` (segments being retransmitted then), and those above 0. */
  currentLines = 0;
  currentWith = 0;
  /** Explained transactions per verdict, in VERDICT_ORDER; those with txn_retrans, and with it above 0. */
  readonly verdicts = new Array<number>(VERDICT_ORDER.length).fill(0);
  txnRetransLines = 0;
  txnRetransWith = 0;

  merge(other: Bucket): void {
    this.readings += other.readings;
    if (other.rtt !== undefined) (this.rtt ??= new LogHistogram()).merge(other.rtt);
    if (other.minRtt !== undefined) (this.minRtt ??= new LogHistogram()).merge(other.minRtt);
    this.cumulativeLines += other.cumulativeLines;
    this.cumulativeWith += other.cumulativeWith;
    this.currentLines += other.currentLines;
    this.currentWith += other.currentWith;
    for (let i = 0; i < this.verdicts.length; i++) this.verdicts[i] += other.verdicts[i];
    this.txnRetransLines += other.txnRetransLines;
    this.txnRetransWith += other.txnRetransWith;
  }
}

const VERDICT_INDEX = new Map<Verdict, number>(VERDICT_ORDER.map((v, i) => [v, i]));

/** Readings in time buckets of a width from WIDTHS_S, at most MAX_BUCKETS from the first to the last. */
export class TimeSeries {
  private widthIndex = 0;
  widthMs = WIDTHS_S[0] * 1000;
  private readonly buckets = new Map<number, Bucket>();
  private low = Infinity;
  private high = -Infinity;

  private bucketAt(time: number): Bucket {
    let index = Math.floor(time / this.widthMs);
    let bucket = this.buckets.get(index);
    if (bucket !== undefined) return bucket;
    while (Math.max(this.high, index) - Math.min(this.low, index) + 1 > MAX_BUCKETS) {
      this.widen();
      index = Math.floor(time / this.widthMs);
    }
    bucket = this.buckets.get(index);
    if (bucket === undefined) this.buckets.set(index, (bucket = new Bucket()));
    if (index < this.low) this.low = index;
    if (index > this.high) this.high = index;
    return bucket;
  }

  private widen(): void {
    const before = this.widthMs;
    this.widthIndex++;
    this.widthMs = (this.widthIndex < WIDTHS_S.length ? WIDTHS_S[this.widthIndex] : WIDTHS_S[WIDTHS_S.length - 1] * 2 ** (this.widthIndex - WIDTHS_S.length + 1)) * 1000;
    const old = [...this.buckets];
    this.buckets.clear();
    this.low = Infinity;
    this.high = -Infinity;
    for (const [index, bucket] of old) {
      const merged = Math.floor((index * before) / this.widthMs);
      const into = this.buckets.get(merged);
      if (into === undefined) this.buckets.set(merged, bucket);
      else into.merge(bucket);
      if (merged < this.low) this.low = merged;
      if (merged > this.high) this.high = merged;
    }
  }

  addReading(record: LogRecord): void {
    if (!Number.isFinite(record.time)) return;
    const bucket = this.bucketAt(record.time);
    bucket.readings++;
    const rtt = record.number('rtt');
    if (rtt !== undefined) (bucket.rtt ??= new LogHistogram()).add(rtt);
    const minRtt = record.number('min_rtt') ?? record.number('min_rtt_us');
    if (minRtt !== undefined) (bucket.minRtt ??= new LogHistogram()).add(minRtt);
    // As summary counts them (summary-stats.ts): the cumulative count where a line has it, else retrans.
    const cumulative = record.number('all_retrans') ?? record.number('total_retrans');
    if (cumulative !== undefined) {
      bucket.cumulativeLines++;
      if (cumulative > 0) bucket.cumulativeWith++;
      return;
    }
    const current = record.number('retrans');
    if (current !== undefined) {
      bucket.currentLines++;
      if (current > 0) bucket.currentWith++;
    }
  }

  addTransaction(txn: ExplainedTransaction): void {
    if (!Number.isFinite(txn.time)) return;
    const bucket = this.bucketAt(txn.time);
    bucket.verdicts[VERDICT_INDEX.get(txn.verdict)!]++;
    const retrans = txn.timing.txn_retrans;
    if (Number.isFinite(retrans)) {
      bucket.txnRetransLines++;
      if (retrans > 0) bucket.txnRetransWith++;
    }
  }

  /** Every bucket from the first to the last, empty ones included, with its start (ms since the epoch). */
  series(): Array<{ start: number; bucket: Bucket }> {
    const out: Array<{ start: number; bucket: Bucket }> = [];
    if (this.buckets.size === 0) return out;
    for (let i = this.low; i <= this.high; i++) out.push({ start: i * this.widthMs, bucket: this.buckets.get(i) ?? new Bucket() });
    return out;
  }
}

/** Distinct columns and events remembered for the header; a hostile log cannot grow them past these. */
const MAX_COLUMNS = 200;
const MAX_EVENTS = 32;
/** Records whose columns are looked at: the first of each file's lines, then one in SAMPLE_EVERY. */
const SAMPLE_FIRST = 1000;
const SAMPLE_EVERY = 1000;
/** JSON keys that are not columns of the level or of --fields (line-format.ts). */
const JSON_META = new Set(['client_port', 'server_port', 'conn', 'stream', 'method', 'status', 'url', 'route']);
const EXPLAIN_KEYS: ReadonlySet<string> = new Set(EXPLAIN_COLUMNS);
/** Columns that only logs written before verdicts moved to txn_delivered have. */
const OLD_EXPLAIN_KEYS = new Set(['txn_app_limited_us', 'unacked_segs']);

/** What the lines say of how the logs were written. */
export class LogShape {
  readonly formats = { text: 0, json: 0 };
  readonly events = new Map<string, number>();
  otherEvents = 0;
  /** Level or --fields columns, in the order first seen. */
  readonly columns = new Set<string>();
  explainColumns = false;
  /** JSON lines with the path (--log-url) and with the framework's route. */
  urls = 0;
  routes = 0;
  /** Explained transactions (before the filters), and the old txn_close ones among them. */
  explained = 0;
  oldExplained = 0;
  private fileRecords = 0;

  startFile(): void {
    this.fileRecords = 0;
  }

  addRecord(record: LogRecord): void {
    this.formats[record.format]++;
    const seen = this.events.get(record.event);
    if (seen !== undefined) this.events.set(record.event, seen + 1);
    else if (this.events.size < MAX_EVENTS) this.events.set(record.event, 1);
    else this.otherEvents++;
    const n = this.fileRecords++;
    if (n >= SAMPLE_FIRST && n % SAMPLE_EVERY !== 0) return;
    for (const [name] of record.fields()) {
      if (JSON_META.has(name)) {
        if (name === 'url' && record.text('url') !== undefined) this.urls++;
        if (name === 'route' && record.text('route') !== undefined) this.routes++;
        continue;
      }
      if (EXPLAIN_KEYS.has(name) || OLD_EXPLAIN_KEYS.has(name)) this.explainColumns = true;
      else if (this.columns.size < MAX_COLUMNS) this.columns.add(name);
    }
  }

  addExplained(txn: ExplainedTransaction): void {
    this.explained++;
    if (txn.legacy) this.oldExplained++;
    if (txn.url !== undefined) this.urls++;
    if (txn.route !== undefined) this.routes++;
  }

  /** `1` or `2` when the columns are a level's (level 2 without data_segs_* on older kernels), else undefined (--fields). */
  level(): 1 | 2 | undefined {
    const columns = [...this.columns];
    if (columns.length === 1 && columns[0] === 'rtt') return 1;
    const level2 = LEVEL2_COLUMNS.map((c) => c.name);
    const short = level2.slice(0, -2);
    const same = (a: readonly string[]): boolean => a.length === columns.length && a.every((name, i) => columns[i] === name);
    return same(level2) || same(short) ? 2 : undefined;
  }
}
