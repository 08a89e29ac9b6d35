/**
 * What `tcpinfo explain` gathers from the explained transactions of a log (txn_close lines with a
 * `verdict`, written with --explain): per verdict, the count and the time; the slowest transactions;
 * per client network (/24 for IPv4, /48 for IPv6), the network and client verdicts. Memory is bounded
 * by the number of verdicts, `top` transactions and the distinct client networks.
 */
import { isIP } from 'node:net';
import { VERDICTS, type Verdict, type VerdictInput } from '../explain/legacy-verdict.js';
import type { LogRecord } from '../format/log-record.js';

/** One explained transaction, as the log has it. */
export interface ExplainedTransaction {
  readonly time: number;
  readonly client: string;
  readonly server: string;
  /** JSON lines only: the connection id, method, status and path (with --log-url). */
  readonly conn?: string;
  readonly method?: string;
  readonly status?: number;
  readonly url?: string;
  readonly verdict: Verdict;
  readonly timing: VerdictInput & { readonly resp_bytes: number; readonly unsent_bytes: number; readonly unacked_segs: number };
  /** A time on the line was negative (hand-written or broken) and is counted as 0. */
  readonly clamped: boolean;
}

const KNOWN = new Set<string>(VERDICTS);

function num(record: LogRecord, name: string): number {
  return record.number(name) ?? NaN;
}

/** The explained transaction of a record, or undefined when the record carries no verdict. */
export function explainedTransaction(record: LogRecord): ExplainedTransaction | undefined {
  const verdict = record.text('verdict');
  if (verdict === undefined || !KNOWN.has(verdict)) return undefined;
  const json = record.format === 'json';
  let clamped = false;
  // A negative time would make negative totals and shares past 100%: counted as 0, and said.
  const time = (name: string): number => {
    const us = num(record, name);
    if (!(us < 0)) return us;
    clamped = true;
    return 0;
  };
  return {
    time: record.time,
    client: record.client,
    server: record.server,
    conn: json ? record.text('conn') : undefined,
    method: json ? record.text('method') : undefined,
    status: json ? record.number('status') : undefined,
    url: json ? record.text('url') : undefined,
    verdict: verdict as Verdict,
    timing: {
      // The deltas are there exactly when the baseline was read at txn_start.
      baseline: record.number('txn_retrans') !== undefined,
      ttfb_us: time('ttfb_us'),
      duration_us: time('duration_us'),
      resp_bytes: num(record, 'resp_bytes'),
      txn_retrans: num(record, 'txn_retrans'),
      txn_busy_us: time('txn_busy_us'),
      txn_rwnd_limited_us: time('txn_rwnd_limited_us'),
      txn_sndbuf_limited_us: time('txn_sndbuf_limited_us'),
      txn_app_limited_us: time('txn_app_limited_us'),
      unsent_bytes: num(record, 'unsent_bytes'),
      unacked_segs: num(record, 'unacked_segs'),
      // Level 1 and 2 lines have rtt; min_rtt only when --fields names it.
      rtt_us: time('rtt'),
      min_rtt_us: time('min_rtt'),
    },
    // After timing, whose reads set it.
    clamped,
  };
}

/** The client's network: `a.b.c.0/24` for IPv4 (and v4-mapped), the first three groups `/48` for IPv6; else the address. */
export function clientNetwork(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const v4 = mapped !== null ? mapped[1] : address;
  if (isIP(v4) === 4) return v4.slice(0, v4.lastIndexOf('.')) + '.0/24';
  if (isIP(address) !== 6) return address;
  const [head, tail] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros: string[] = new Array<string>(8 - left.length - right.length).fill('0');
  const groups = tail === undefined ? left : [...left, ...zeros, ...right];
  return groups.slice(0, 3).map((g) => parseInt(g, 16).toString(16)).join(':') + '::/48';
}

export interface VerdictTotals {
  count: number;
  durationUs: number;
}

export interface NetworkTotals {
  network: string;
  transactions: number;
  networkVerdicts: number;
  clientVerdicts: number;
}

export class ExplainStats {
  readonly verdicts = new Map<Verdict, VerdictTotals>(VERDICTS.map((v) => [v, { count: 0, durationUs: 0 }]));
  transactions = 0;
  /** Transactions with a negative time, counted as 0. */
  clamped = 0;
  first = Infinity;
  last = -Infinity;
  /** The slowest transactions (verdict other than ok), slowest first; at most `top`. */
  private readonly slowest: ExplainedTransaction[] = [];
  private readonly networks = new Map<string, NetworkTotals>();

  constructor(private readonly top: number) {}

  add(txn: ExplainedTransaction): void {
    this.transactions++;
    if (txn.clamped) this.clamped++;
    if (txn.time < this.first) this.first = txn.time;
    if (txn.time > this.last) this.last = txn.time;
    const totals = this.verdicts.get(txn.verdict)!;
    totals.count++;
    const duration = txn.timing.duration_us;
    if (Number.isFinite(duration)) totals.durationUs += duration;
    const key = clientNetwork(txn.client);
    let network = this.networks.get(key);
    if (network === undefined) this.networks.set(key, (network = { network: key, transactions: 0, networkVerdicts: 0, clientVerdicts: 0 }));
    network.transactions++;
    if (txn.verdict === 'network') network.networkVerdicts++;
    if (txn.verdict === 'client') network.clientVerdicts++;
    if (txn.verdict !== 'ok' && this.top > 0 && Number.isFinite(duration)) this.keepIfSlow(txn);
  }

  private keepIfSlow(txn: ExplainedTransaction): void {
    const list = this.slowest;
    const duration = txn.timing.duration_us;
    if (list.length === this.top && duration <= list[list.length - 1].timing.duration_us) return;
    let i = list.length;
    while (i > 0 && list[i - 1].timing.duration_us < duration) i--;
    list.splice(i, 0, txn);
    if (list.length > this.top) list.pop();
  }

  /** Time of the transactions with a verdict other than ok (the slow ones, and those it could not judge). */
  slowTimeUs(): number {
    let total = 0;
    for (const [verdict, totals] of this.verdicts) if (verdict !== 'ok') total += totals.durationUs;
    return total;
  }

  slowestTransactions(): readonly ExplainedTransaction[] {
    return this.slowest;
  }

  /** The client networks with the most network or client verdicts (at least one), most first. */
  topNetworks(top: number): NetworkTotals[] {
    return [...this.networks.values()]
      .filter((n) => n.networkVerdicts + n.clientVerdicts > 0)
      .sort((a, b) => b.networkVerdicts + b.clientVerdicts - (a.networkVerdicts + a.clientVerdicts) || a.network.localeCompare(b.network))
      .slice(0, top);
  }
}
