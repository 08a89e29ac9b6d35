/**
 * What `tcpinfo explain` gathers from the explained transactions of a log written with --explain: the
 * txn_delivered lines (the verdict judged at delivery, its time split into the server's, the client's and
 * the network's shares) and, from logs written before, txn_close lines with a verdict (the old rule table,
 * no shares: the whole duration goes to the verdict). Per verdict and per group (route, client network or
 * verdict): the count, the slow time and its causes; the slowest transactions; per client network, the
 * network and client verdicts. Memory is bounded by `top` transactions, MAX_GROUPS groups and the distinct
 * client networks.
 */
import { isIP } from 'node:net';
import { VERDICTS, type Verdict } from '../explain/verdict.js';
import type { LogRecord } from '../format/log-record.js';

/** What `--by` groups by. */
export type GroupBy = 'verdict' | 'route' | 'client';
export const GROUP_BYS: readonly GroupBy[] = ['verdict', 'route', 'client'];

/** Causes of slow time; `unsplit` is time with no shares (old lines, transactions judged without a baseline). */
export const CAUSES = ['server', 'client', 'network', 'unsplit'] as const;
export type Cause = (typeof CAUSES)[number];

/** Distinct groups kept; the transactions of any further ones are counted under OTHER_GROUP (routes made of unfolded ids). */
export const MAX_GROUPS = 10_000;
export const OTHER_GROUP = '(other)';

/** One explained transaction, as the log has it. Times in microseconds from txn_start, NaN when not on the line. */
export interface ExplainedTransaction {
  readonly time: number;
  /** txn_delivered, or txn_close for a line written before verdicts moved to delivery. */
  readonly event: string;
  readonly legacy: boolean;
  readonly client: string;
  readonly server: string;
  /** JSON lines only: the connection id, HTTP/2 stream, method, status, path (with --log-url) and the framework's route. */
  readonly conn?: string;
  readonly stream?: number;
  readonly method?: string;
  readonly status?: number;
  readonly url?: string;
  readonly route?: string;
  readonly verdict: Verdict;
  readonly timing: Timing;
  /** acked, closed or gave_up; undefined on old lines. */
  readonly ended?: string;
  /** HTTP/2 siblings shared the connection's counters; undefined on old lines. */
  readonly shared?: boolean;
  /** The time this transaction counts for: judged_us (old lines: duration_us; unjudged: delivered or hand-off). */
  readonly timeUs: number;
  /** timeUs split by cause (sums to timeUs). */
  readonly causes: Readonly<Record<Cause, number>>;
  /** A time on the line was negative (hand-written or broken) and is counted as 0. */
  readonly clamped: boolean;
}

/** The numeric columns read from a line, new and old alike. */
export const TIMING_COLUMNS = [
  'ttfb_us', 'end_us', 'duration_us', 'delivered_us', 'judged_us', 'server_us', 'client_us', 'network_us', 'upload_us',
  'ack_delay_us', 'resp_bytes', 'txn_retrans', 'txn_busy_us', 'txn_rwnd_limited_us', 'txn_sndbuf_limited_us',
  'wnd_limited_us', 'flow_held_us', 'unsent_bytes', 'rtt_us', 'min_rtt_us',
  // Old lines only.
  'txn_app_limited_us', 'unacked_segs',
] as const;
export type Timing = { readonly [K in (typeof TIMING_COLUMNS)[number]]: number } & { readonly baseline: boolean };

/** Columns that are counts or bytes, never clamped; the others are times. */
const NOT_TIMES: ReadonlySet<string> = new Set(['resp_bytes', 'txn_retrans', 'unsent_bytes', 'unacked_segs']);

const KNOWN = new Set<string>(VERDICTS);

/** The route of a path: the query string dropped, numbers, UUIDs and long hex ids as `:id`. */
export function foldPath(url: string): string {
  const end = url.search(/[?#]/);
  const path = end < 0 ? url : url.slice(0, end);
  return path
    .split('/')
    .map((segment) => (/^(\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{16,})$/i.test(segment) ? ':id' : segment))
    .join('/');
}

/** The route of a transaction: the framework's, else its path folded; undefined without either (text lines, no --log-url). */
export function routeOf(txn: ExplainedTransaction): string | undefined {
  return txn.route ?? (txn.url === undefined ? undefined : foldPath(txn.url));
}

function noCauses(): Record<Cause, number> {
  return { server: 0, client: 0, network: 0, unsplit: 0 };
}

/** The time of a transaction by cause: the line's shares (scaled down if a hand-written line's exceed the whole), else all unsplit. */
function causesOf(verdict: Verdict, legacy: boolean, t: Timing, timeUs: number): Record<Cause, number> {
  const causes = noCauses();
  if (!(timeUs > 0)) return causes;
  if (legacy) {
    if (verdict === 'server' || verdict === 'client' || verdict === 'network') causes[verdict] = timeUs;
    else causes.unsplit = timeUs;
    return causes;
  }
  const split = Number.isFinite(t.judged_us) && [t.server_us, t.client_us, t.network_us].every(Number.isFinite);
  if (!split) {
    causes.unsplit = timeUs;
    return causes;
  }
  const sum = t.server_us + t.client_us + t.network_us;
  const scale = sum > timeUs ? timeUs / sum : 1;
  causes.server = t.server_us * scale;
  causes.client = t.client_us * scale;
  causes.network = t.network_us * scale;
  causes.unsplit = Math.max(0, timeUs - causes.server - causes.client - causes.network);
  return causes;
}

/** The explained transaction of a record, or undefined when the record carries no verdict. */
export function explainedTransaction(record: LogRecord): ExplainedTransaction | undefined {
  const verdict = record.text('verdict');
  if (verdict === undefined || !KNOWN.has(verdict)) return undefined;
  const json = record.format === 'json';
  // Every txn_delivered line says how delivery ended; old txn_close lines have no such column.
  const ended = record.text('ended');
  const legacy = record.event !== 'txn_delivered' && ended === undefined;
  let clamped = false;
  // A negative time would make negative totals and shares past 100%: counted as 0, and said.
  const column = (name: string): number => {
    const n = record.number(name) ?? NaN;
    if (!(n < 0) || NOT_TIMES.has(name)) return n;
    clamped = true;
    return 0;
  };
  const values: Record<string, number> = {};
  for (const name of TIMING_COLUMNS) values[name] = column(name);
  // The level's rtt; min_rtt_us on new lines, min_rtt on old ones when --fields named it.
  values.rtt_us = column('rtt');
  if (Number.isNaN(values.min_rtt_us)) values.min_rtt_us = column('min_rtt');
  // The deltas (old lines), upload_us (new ones) are there exactly when the baseline was read at txn_start.
  const baseline = legacy ? record.number('txn_retrans') !== undefined : Number.isFinite(values.upload_us) || Number.isFinite(values.judged_us);
  const timing = { ...values, baseline } as Timing;
  const timeUs = legacy
    ? timing.duration_us
    : [timing.judged_us, timing.delivered_us, timing.duration_us].find(Number.isFinite) ?? NaN;
  // Text lines have 1 or 0, JSON lines true or false.
  const shared = json ? record.toJSON().shared : record.text('shared');
  return {
    time: record.time,
    event: record.event,
    legacy,
    client: record.client,
    server: record.server,
    conn: json ? record.text('conn') : undefined,
    stream: json ? record.number('stream') : undefined,
    method: json ? record.text('method') : undefined,
    status: json ? record.number('status') : undefined,
    url: json ? record.text('url') : undefined,
    route: json ? record.text('route') : undefined,
    verdict: verdict as Verdict,
    timing,
    ended: legacy ? undefined : ended,
    shared: legacy ? undefined : shared === true || shared === '1' || shared === 1,
    timeUs,
    causes: causesOf(verdict as Verdict, legacy, timing, timeUs),
    // After the reads, which set it.
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

/** The transactions of a group (a verdict, route or client network): how many, the slow ones, their time by cause. */
export class GroupTotals {
  transactions = 0;
  /** Transactions with a verdict other than ok. */
  slow = 0;
  /** Time of every transaction, and of the slow ones. */
  timeUs = 0;
  slowTimeUs = 0;
  readonly slowCauses: Record<Cause, number> = noCauses();

  /** The verdict, route or client network; null: the transactions without a route. */
  constructor(readonly key: string | null) {}

  add(txn: ExplainedTransaction): void {
    this.transactions++;
    const time = Number.isFinite(txn.timeUs) ? txn.timeUs : 0;
    this.timeUs += time;
    if (txn.verdict === 'ok') return;
    this.slow++;
    this.slowTimeUs += time;
    for (const cause of CAUSES) this.slowCauses[cause] += txn.causes[cause];
  }
}

export interface NetworkTotals {
  network: string;
  transactions: number;
  networkVerdicts: number;
  clientVerdicts: number;
}

/** The transactions by route or by client network, at most MAX_GROUPS groups (then OTHER_GROUP). */
class Grouping {
  private readonly groups = new Map<string, GroupTotals>();
  /** By route: the transactions without one (text lines, JSON lines without --log-url). */
  private unrouted: GroupTotals | undefined;
  /** By route: transactions with a route (the framework's route or a --log-url path). */
  routed = 0;

  constructor(private readonly by: 'route' | 'client') {}

  add(txn: ExplainedTransaction, network: string): void {
    let key = network;
    if (this.by === 'route') {
      const route = routeOf(txn);
      if (route === undefined) {
        (this.unrouted ??= new GroupTotals(null)).add(txn);
        return;
      }
      this.routed++;
      key = route;
    }
    let totals = this.groups.get(key);
    if (totals === undefined) {
      if (this.groups.size >= MAX_GROUPS) key = OTHER_GROUP;
      totals = this.groups.get(key);
      if (totals === undefined) this.groups.set(key, (totals = new GroupTotals(key)));
    }
    totals.add(txn);
  }

  top(top: number): GroupTotals[] {
    const groups = [...this.groups.values()]
      .sort((a, b) => b.slowTimeUs - a.slowTimeUs || b.transactions - a.transactions || a.key!.localeCompare(b.key!))
      .slice(0, top);
    return this.unrouted === undefined ? groups : [...groups, this.unrouted];
  }

  count(): number {
    return this.groups.size + (this.unrouted === undefined ? 0 : 1);
  }
}

/**
 * The one aggregation of explained transactions, for `tcpinfo explain` and `tcpinfo report` alike: per verdict,
 * the causes, the slowest, the client networks, and the groupings asked for (route, client; verdict is always there).
 */
export class ExplainStats {
  readonly all = new GroupTotals('all');
  readonly verdicts = new Map<Verdict, GroupTotals>(VERDICTS.map((v) => [v, new GroupTotals(v)]));
  /** Clamped: transactions with a negative time, counted as 0. Legacy: old txn_close lines. */
  clamped = 0;
  legacy = 0;
  /** Transactions whose HTTP/2 counters were shared with sibling streams. */
  shared = 0;
  first = Infinity;
  last = -Infinity;
  /** The slowest transactions (verdict other than ok), slowest first; at most `top`. */
  private readonly slowest: ExplainedTransaction[] = [];
  private readonly networks = new Map<string, NetworkTotals>();
  private readonly groupings = new Map<GroupBy, Grouping>();

  constructor(
    private readonly top: number,
    groupBys: readonly GroupBy[] = [],
  ) {
    for (const by of groupBys) if (by !== 'verdict') this.groupings.set(by, new Grouping(by));
  }

  get transactions(): number {
    return this.all.transactions;
  }

  /** Transactions with a route (the framework's route or a --log-url path); 0 unless grouped by route. */
  get routed(): number {
    return this.groupings.get('route')?.routed ?? 0;
  }

  add(txn: ExplainedTransaction): void {
    if (txn.clamped) this.clamped++;
    if (txn.legacy) this.legacy++;
    if (txn.shared === true) this.shared++;
    if (txn.time < this.first) this.first = txn.time;
    if (txn.time > this.last) this.last = txn.time;
    this.all.add(txn);
    this.verdicts.get(txn.verdict)!.add(txn);
    const key = clientNetwork(txn.client);
    let network = this.networks.get(key);
    if (network === undefined) this.networks.set(key, (network = { network: key, transactions: 0, networkVerdicts: 0, clientVerdicts: 0 }));
    network.transactions++;
    if (txn.verdict === 'network') network.networkVerdicts++;
    if (txn.verdict === 'client') network.clientVerdicts++;
    for (const grouping of this.groupings.values()) grouping.add(txn, key);
    if (txn.verdict !== 'ok' && this.top > 0 && Number.isFinite(txn.timeUs)) this.keepIfSlow(txn);
  }

  private keepIfSlow(txn: ExplainedTransaction): void {
    const list = this.slowest;
    const time = txn.timeUs;
    if (list.length === this.top && time <= list[list.length - 1].timeUs) return;
    let i = list.length;
    while (i > 0 && list[i - 1].timeUs < time) i--;
    list.splice(i, 0, txn);
    if (list.length > this.top) list.pop();
  }

  /** Time of the transactions with a verdict other than ok (the slow ones, and those it could not judge). */
  slowTimeUs(): number {
    return this.all.slowTimeUs;
  }

  slowestTransactions(): readonly ExplainedTransaction[] {
    return this.slowest;
  }

  private grouping(by: GroupBy): Grouping {
    const grouping = this.groupings.get(by);
    if (grouping === undefined) throw new Error(`ExplainStats: not grouped by ${by}`);
    return grouping;
  }

  /**
   * The groups of `by`, the most slow time first (then the most transactions); for routes, at most `top`
   * and those without a route last. For verdicts, every verdict in the table's order.
   */
  topGroups(by: GroupBy, top: number): GroupTotals[] {
    if (by === 'verdict') return VERDICT_ORDER.map((v) => this.verdicts.get(v)!);
    return this.grouping(by).top(top);
  }

  /** Distinct groups of `by` seen (routes past MAX_GROUPS are one). */
  groupCount(by: GroupBy): number {
    return by === 'verdict' ? VERDICTS.length : this.grouping(by).count();
  }

  /** The client networks with the most network or client verdicts (at least one), most first. */
  topNetworks(top: number): NetworkTotals[] {
    return [...this.networks.values()]
      .filter((n) => n.networkVerdicts + n.clientVerdicts > 0)
      .sort((a, b) => b.networkVerdicts + b.clientVerdicts - (a.networkVerdicts + a.clientVerdicts) || a.network.localeCompare(b.network))
      .slice(0, top);
  }
}

/** The verdicts in the order the reports show them. */
export const VERDICT_ORDER: readonly Verdict[] = ['server', 'network', 'client', 'mixed', 'unknown', 'ok'];
