/** What `tcpinfo summary` counts, in memory bounded by distinct values, never by lines (ValueCounts). */
import { EVENT_NAMES } from '../events.js';
import type { LogRecord } from '../format/log-record.js';
import { ValueCounts } from './value-counts.js';

/** Readings that carried a retransmission count, and how many of them were above 0. */
export interface RetransCount {
  lines: number;
  withRetrans: number;
}

export class EventStats {
  count = 0;
  readonly rtt = new ValueCounts();
  readonly rttvar = new ValueCounts();
  readonly cwnd = new ValueCounts();
  /** By the connection's cumulative count: `all_retrans` (ATS name) or `total_retrans` (kernel name). */
  readonly cumulative: RetransCount = { lines: 0, withRetrans: 0 };
  /** By `retrans`, segments being retransmitted at the moment: only where no cumulative count exists. */
  readonly current: RetransCount = { lines: 0, withRetrans: 0 };

  add(record: LogRecord): void {
    this.count++;
    const rtt = record.number('rtt');
    if (rtt !== undefined) this.rtt.add(rtt);
    const rttvar = record.number('rttvar');
    if (rttvar !== undefined) this.rttvar.add(rttvar);
    const cwnd = record.number('snd_cwnd');
    if (cwnd !== undefined) this.cwnd.add(cwnd);
    const cumulative = record.number('all_retrans') ?? record.number('total_retrans');
    if (cumulative !== undefined) {
      this.cumulative.lines++;
      if (cumulative > 0) this.cumulative.withRetrans++;
      return;
    }
    const current = record.number('retrans');
    if (current !== undefined) {
      this.current.lines++;
      if (current > 0) this.current.withRetrans++;
    }
  }

  /** The share of readings with retransmissions, and the field it is based on; undefined without any. */
  retransShare(): { field: 'all_retrans' | 'retrans'; lines: number; withRetrans: number; share: number } | undefined {
    const basis = this.cumulative.lines > 0 ? this.cumulative : this.current.lines > 0 ? this.current : undefined;
    if (basis === undefined) return undefined;
    return {
      field: basis === this.cumulative ? 'all_retrans' : 'retrans',
      lines: basis.lines,
      withRetrans: basis.withRetrans,
      share: basis.withRetrans / basis.lines,
    };
  }
}

export interface ClientStats {
  count: number;
  rtt: ValueCounts;
}

export class SummaryStats {
  readonly events = new Map<string, EventStats>();
  readonly clients = new Map<string, ClientStats>();
  private readonly trackClients: boolean;
  readings = 0;
  first = Infinity;
  last = -Infinity;

  constructor(trackClients: boolean) {
    this.trackClients = trackClients;
  }

  add(record: LogRecord): void {
    this.readings++;
    if (record.time < this.first) this.first = record.time;
    if (record.time > this.last) this.last = record.time;
    let stats = this.events.get(record.event);
    if (stats === undefined) this.events.set(record.event, (stats = new EventStats()));
    stats.add(record);
    if (!this.trackClients) return;
    let client = this.clients.get(record.client);
    if (client === undefined) this.clients.set(record.client, (client = { count: 0, rtt: new ValueCounts() }));
    client.count++;
    const rtt = record.number('rtt');
    if (rtt !== undefined) client.rtt.add(rtt);
  }

  /** Events in the order they happen in a transaction, then any others by name. */
  eventsInOrder(): Array<[string, EventStats]> {
    const known: readonly string[] = EVENT_NAMES;
    const rank = (name: string): number => (known.includes(name) ? known.indexOf(name) : known.length);
    return [...this.events].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
  }

  /** Every event's rtt together. */
  allRtt(): ValueCounts {
    const all = new ValueCounts();
    for (const stats of this.events.values()) all.addAll(stats.rtt);
    return all;
  }

  /** The `top` clients with the highest rtt p90 among those with at least `minCount` readings with rtt. */
  topClients(top: number, minCount: number): Array<{ client: string; count: number; p50: number; p90: number; max: number }> {
    const ranked = [];
    for (const [client, stats] of this.clients) {
      if (stats.rtt.total < minCount || stats.rtt.total === 0) continue;
      const [p50, p90] = stats.rtt.percentiles([50, 90]) as [number, number];
      ranked.push({ client, count: stats.count, p50, p90, max: stats.rtt.max()! });
    }
    ranked.sort((a, b) => b.p90 - a.p90 || b.count - a.count || a.client.localeCompare(b.client));
    return ranked.slice(0, top);
  }
}

/** rtt counts in 1-2-5 buckets of microseconds (0, 10, 20, 50, ...), first to last non-empty bucket. */
export function histogramBuckets(rtt: ValueCounts): Array<{ from: number; to: number; count: number }> {
  const buckets: Array<{ from: number; to: number; count: number }> = [];
  const max = rtt.max();
  if (max === undefined) return buckets;
  let from = 0;
  let to = 10;
  const steps = [2, 2.5, 2]; // 10 -> 20 -> 50 -> 100 -> ...
  for (let i = 0; from <= max && i < 64; i++) {
    buckets.push({ from, to, count: 0 });
    from = to;
    to = Math.round(to * steps[i % 3]);
  }
  let b = 0;
  for (const [value, times] of rtt.entries()) {
    while (b < buckets.length - 1 && value >= buckets[b].to) b++;
    buckets[b].count += times;
  }
  const firstUsed = buckets.findIndex((bucket) => bucket.count > 0);
  let lastUsed = buckets.length - 1;
  while (lastUsed > firstUsed && buckets[lastUsed].count === 0) lastUsed--;
  return buckets.slice(firstUsed, lastUsed + 1);
}
