/**
 * Aggregate TCP metrics on prom-client, as Envoy's tcp_stats and Istio's TCP metrics keep them:
 *
 *   counters    grow by each connection's deltas since its previous read (plain numbers: no 32-bit wrap)
 *   gauges      the sum over open connections of each one's latest value
 *   histograms  one observation per read (rtt, rttvar); % retransmitted per read that sent data
 *
 * Every connection is read, as Envoy's tcp_stats does, per connection and never per transaction: at its close, at each
 * scrape while open (at most MAX_SCRAPE_READS a scrape, taking up where the last stopped), and at --update-period's
 * periodic reads. The log's sampling does not thin the metrics; one label, `server`. Docs: docs/metrics.md
 */
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { TcpinfoOptions } from '../config/types.js';
import { withCode } from '../errors.js';
import { openSessions } from '../hooks/server.js';
import { PERIODIC, SSN_CLOSE, SSN_START, type AnyServer, type EventConsumer, type Transaction } from '../events.js';
import type { ExplainedTransaction } from '../explain/transaction-state.js';
import { VERDICTS } from '../explain/verdict.js';
import { decodeField, fieldSpec } from '../tcpinfo/layout.js';
import { beginEvent, readForEvent, type Reading } from '../tcpinfo/read.js';

type PromClient = typeof import('prom-client');

/** The struct fields behind the counters, in the order of a connection's baseline array. */
const COUNTED = [
  { name: 'tcpinfo_tx_bytes_total', help: 'Bytes sent to clients (tcpi_bytes_sent).', field: 'bytes_sent' },
  { name: 'tcpinfo_rx_bytes_total', help: 'Bytes received from clients (tcpi_bytes_received).', field: 'bytes_received' },
  { name: 'tcpinfo_tx_segments_total', help: 'Segments sent (tcpi_segs_out).', field: 'segs_out' },
  { name: 'tcpinfo_rx_segments_total', help: 'Segments received (tcpi_segs_in).', field: 'segs_in' },
  { name: 'tcpinfo_tx_data_segments_total', help: 'Segments with data sent (tcpi_data_segs_out).', field: 'data_segs_out' },
  { name: 'tcpinfo_rx_data_segments_total', help: 'Segments with data received (tcpi_data_segs_in).', field: 'data_segs_in' },
  { name: 'tcpinfo_tx_retransmitted_segments_total', help: 'Segments retransmitted (tcpi_total_retrans).', field: 'total_retrans' },
].map((c) => ({ ...c, spec: fieldSpec(c.field)! }));
const TX_DATA_SEGS = COUNTED.findIndex((c) => c.field === 'data_segs_out');
const RETRANS = COUNTED.findIndex((c) => c.field === 'total_retrans');
const RTT = fieldSpec('rtt')!;
const RTTVAR = fieldSpec('rttvar')!;
const UNSENT = fieldSpec('notsent_bytes')!;
const UNACKED = fieldSpec('unacked')!;
/** A read must reach the last of these fields (bytes_sent: Linux 4.19) for every metric to be taken from it. */
const NEEDED_LENGTH = Math.max(...[...COUNTED.map((c) => c.spec), RTT, RTTVAR, UNSENT, UNACKED].map((f) => f.offset + f.size));

/** Where each counter and gauge waits in a server's pending deltas (MetricSet.pending): the hot path adds to a
 * Float64Array; prom-client gets the sums when it is read (its collect), not an inc call (~1k instructions) per value. */
const OPENED = 0;
const CLOSED = 1;
const FIRST_COUNTED = 2;
const UNSENT_SUM = FIRST_COUNTED + COUNTED.length;
const UNACKED_SUM = UNSENT_SUM + 1;
const PENDING_SLOTS = UNACKED_SUM + 1;

/** Open connections read at most per scrape (over every server of the registry): ~5 us each with the histograms'
 * observe, so a scrape holds the loop ~5-10 ms however many are open (bench/metrics-scrape.mjs); the rest are read at
 * the next scrapes, their deltas carried, not lost. */
export const MAX_SCRAPE_READS = 1000;

interface MetricSet {
  /** Per `server` label: the deltas not yet handed to prom-client (flushPending). */
  pending: Map<string, Float64Array>;
  /** Per `server` label: the open TcpMetrics that have its series (several attaches, or servers, can share a label). */
  users: Map<string, number>;
  /** The open TcpMetrics of this registry, whose open connections a scrape reads (readOpenConnections). */
  members: TcpMetrics[];
  /** The member the next scrape starts with: where the last ran out of reads. */
  nextMember: number;
  /** A scrape's reads are done: its other metrics' collect (in the same tick) reads nothing more. */
  scraping: boolean;
  opened: Counter<'server'>;
  closed: Counter<'server'>;
  counters: Counter<'server'>[];
  unsent: Gauge<'server'>;
  unacked: Gauge<'server'>;
  rtt: Histogram<'server'>;
  rttvar: Histogram<'server'>;
  retransPercent: Histogram<'server'>;
}

/** One set of metrics per registry: several servers (and attaches) share it, told apart by `server`. */
const setsByRegistry = new WeakMap<object, MetricSet>();

/** prom-client, as the app has it; throws an Error saying how to install it when it is missing. */
export function loadPromClient(): PromClient {
  try {
    // Resolved from here, which in an app is the app's own prom-client: the same default registry.
    return createRequire(import.meta.url)('prom-client') as PromClient;
  } catch (err) {
    throw withCode(new Error('tcpinfo: --metrics needs prom-client; install it with `npm install prom-client`', { cause: err }), 'ERR_TCPINFO_PROM_CLIENT_MISSING');
  }
}

function metricSet(client: PromClient, registry: Registry): MetricSet {
  const existing = setsByRegistry.get(registry);
  if (existing !== undefined) return existing;
  const pending = new Map<string, Float64Array>();
  // Read (a scrape, registry.metrics(), get()): the open connections are read, then every pending delta goes to
  // prom-client. registry.metrics() calls every metric's collect in one tick: the first one reads.
  const collect = (): void => {
    if (!set.scraping) {
      set.scraping = true;
      queueMicrotask(() => (set.scraping = false));
      readOpenConnections(set);
    }
    flushPending(set);
  };
  const common = { labelNames: ['server'] as const, registers: [registry], collect };
  const counter = (name: string, help: string): Counter<'server'> => new client.Counter({ name, help, ...common });
  const set: MetricSet = {
    pending,
    users: new Map(),
    members: [],
    nextMember: 0,
    scraping: false,
    opened: counter('tcpinfo_connections_opened_total', 'Client connections opened.'),
    closed: counter('tcpinfo_connections_closed_total', 'Client connections closed.'),
    counters: COUNTED.map((c) => counter(c.name, c.help)),
    unsent: new client.Gauge({ name: 'tcpinfo_tx_unsent_bytes', help: 'Bytes not yet sent, summed over open connections (tcpi_notsent_bytes).', ...common }),
    unacked: new client.Gauge({ name: 'tcpinfo_tx_unacked_segments', help: 'Segments sent and not yet acknowledged, summed over open connections (tcpi_unacked).', ...common }),
    rtt: new client.Histogram({
      name: 'tcpinfo_rtt_us', help: 'Smoothed round-trip time at each read, microseconds (tcpi_rtt).', ...common,
      buckets: [50, 100, 250, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000],
    }),
    rttvar: new client.Histogram({
      name: 'tcpinfo_rtt_variance_us', help: 'Round-trip time variance at each read, microseconds (tcpi_rttvar).', ...common,
      buckets: [25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000, 250_000],
    }),
    retransPercent: new client.Histogram({
      name: 'tcpinfo_tx_percent_retransmitted_segments',
      help: 'Per read that sent data: retransmitted segments as a percent of data segments sent since the previous read.',
      ...common,
      buckets: [0.1, 0.5, 1, 2, 5, 10, 25, 50, 100],
    }),
  };
  setsByRegistry.set(registry, set);
  return set;
}

/** At a scrape: up to MAX_SCRAPE_READS open connections of the registry's servers, each member taking up where it
 * stopped, so that with more open than that every one is still read within a few scrapes. */
function readOpenConnections(set: MetricSet): void {
  const members = set.members;
  let budget = MAX_SCRAPE_READS;
  for (let i = 0; i < members.length && budget > 0; i++) {
    const index = (set.nextMember + i) % members.length;
    budget -= members[index].readOpen(budget);
    if (budget <= 0) set.nextMember = index;
  }
  // No reading of ours is left for an event under way to take as its own.
  beginEvent();
}

/** Hand the pending deltas of every server to prom-client, and zero them. */
function flushPending(set: MetricSet): void {
  for (const [server, deltas] of set.pending) {
    const labels = { server };
    for (let slot = 0; slot < PENDING_SLOTS; slot++) {
      const delta = deltas[slot];
      if (delta === 0) continue;
      deltas[slot] = 0;
      if (slot === OPENED) set.opened.inc(labels, delta);
      else if (slot === CLOSED) set.closed.inc(labels, delta);
      else if (slot === UNSENT_SUM) set.unsent.inc(labels, delta);
      else if (slot === UNACKED_SUM) set.unacked.inc(labels, delta);
      else set.counters[slot - FIRST_COUNTED].inc(labels, delta);
    }
  }
}

/** The pending deltas of `server` in `set`, made at first use. */
function pendingOf(set: MetricSet, server: string): Float64Array {
  let deltas = set.pending.get(server);
  if (deltas === undefined) set.pending.set(server, (deltas = new Float64Array(PENDING_SLOTS)));
  return deltas;
}

/** With --explain: transactions by verdict, and their durations. */
interface ExplainMetricSet {
  /** As MetricSet's: the open TcpMetrics with --explain that have the label's series. */
  users: Map<string, number>;
  transactions: Counter<'server' | 'verdict'>;
  duration: Histogram<'server' | 'verdict'>;
}

const explainSetsByRegistry = new WeakMap<object, ExplainMetricSet>();

function explainMetricSet(client: PromClient, registry: Registry): ExplainMetricSet {
  const existing = explainSetsByRegistry.get(registry);
  if (existing !== undefined) return existing;
  const common = { labelNames: ['server', 'verdict'] as const, registers: [registry] };
  const set: ExplainMetricSet = {
    users: new Map(),
    transactions: new client.Counter({
      name: 'tcpinfo_transactions_total',
      help: 'Transactions judged at delivery (the last byte acknowledged, or the follow-up ended), by verdict: server, network, client, mixed, unknown or ok (--explain).',
      ...common,
    }),
    duration: new client.Histogram({
      name: 'tcpinfo_transaction_duration_us',
      help: 'Judged time of a transaction, from the request to the delivery of its last byte less the client ACK delay, microseconds, by verdict (--explain).',
      ...common,
      buckets: [1000, 5000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000, 30_000_000, 60_000_000],
    }),
  };
  explainSetsByRegistry.set(registry, set);
  return set;
}

/** One user more of `server`'s series. */
function use(users: Map<string, number>, server: string): void {
  users.set(server, (users.get(server) ?? 0) + 1);
}

/** One user fewer of `server`'s series: true when that was the last, so the series go. */
function release(users: Map<string, number>, server: string): boolean {
  const left = (users.get(server) ?? 1) - 1;
  if (left > 0) users.set(server, left);
  else users.delete(server);
  return left <= 0;
}

/** Per connection: the counter baselines, then the gauge values it contributes. */
interface ConnectionState {
  last: Float64Array;
  unsent: number;
  unacked: number;
}

export class TcpMetrics implements EventConsumer {
  readonly eventMask: number;
  readonly tracksSessions = true;
  readonly registry: Registry;
  private readonly set: MetricSet;
  private readonly server: AnyServer;
  /** With --explain: the transaction metrics (observeTransaction); null without. */
  private readonly explainSet: ExplainMetricSet | null;
  /** Each connection's state (a WeakMap, not a property: see tcpinfo/endpoints.ts). */
  private readonly states = new WeakMap<Socket, ConnectionState>();
  private serverLabel = '';
  /** This server's pending deltas, once its label is known. */
  private serverPending: Float64Array | null = null;
  /** `{ server }` for the histograms, made once. */
  private labels: { server: string } | null = null;
  /** Reads that failed (socket gone, or a kernel too old for the counters). */
  failedReads = 0;
  /** Its logger has closed (close()). */
  private closed = false;
  /** The open connections a scrape reads, where the last scrape stopped (a Set's iterator is live); null: start anew. */
  private cursor: Iterator<Socket> | null = null;

  constructor(server: AnyServer, options: TcpinfoOptions) {
    const client = loadPromClient();
    this.registry = (options.metricsRegistry as Registry | undefined) ?? client.register;
    this.set = metricSet(client, this.registry);
    this.explainSet = options.explain ? explainMetricSet(client, this.registry) : null;
    this.server = server;
    // Not txn_close: a read per transaction was most of what --metrics cost (bench/callgrind.sh: 78-84k -> 86.6k
    // instructions per request at --sample-rate=10). ssn_start counts the connection and reads nothing.
    this.eventMask = (1 << SSN_START) | (1 << SSN_CLOSE) | (options.updatePeriod > 0 ? 1 << PERIODIC : 0);
    this.set.members.push(this);
  }

  /** `address:port` the server listens on, found once it listens. */
  private label(): string {
    if (this.serverLabel === '') {
      const address = this.server.address();
      if (address === null) return 'unknown';
      this.serverLabel = typeof address === 'string' ? address : address.family === 'IPv6' ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`;
      this.startSeries(this.serverLabel);
      this.serverPending = pendingOf(this.set, this.serverLabel);
    }
    return this.serverLabel;
  }

  /** Every series of this server at zero, so a scrape shows them before anything has happened. */
  private startSeries(server: string): void {
    const set = this.set;
    use(set.users, server);
    for (const counter of [set.opened, set.closed, ...set.counters]) counter.inc({ server }, 0);
    set.unsent.inc({ server }, 0);
    set.unacked.inc({ server }, 0);
    if (this.explainSet !== null) {
      use(this.explainSet.users, server);
      for (const verdict of VERDICTS) this.explainSet.transactions.inc({ server, verdict }, 0);
    }
  }

  /**
   * Its logger has closed (after it stopped taking events): the server's series leave the registry, unless another open
   * TcpMetrics has the same label (a second attach of the server, or a server since on its address).
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const members = this.set.members;
    members.splice(members.indexOf(this), 1);
    this.cursor = null;
    const server = this.serverLabel;
    if (server === '') return;
    const set = this.set;
    if (release(set.users, server)) {
      // Its deltas not yet handed over would bring the series back at the next read.
      set.pending.delete(server);
      const labels = { server };
      for (const metric of [set.opened, set.closed, ...set.counters, set.unsent, set.unacked]) metric.remove(labels);
      for (const histogram of [set.rtt, set.rttvar, set.retransPercent]) histogram.remove(labels);
    }
    const explainSet = this.explainSet;
    if (explainSet !== null && release(explainSet.users, server)) {
      for (const verdict of VERDICTS) {
        explainSet.transactions.remove({ server, verdict });
        explainSet.duration.remove({ server, verdict });
      }
    }
  }

  /** With --explain: a transaction ended (its txn_close), with its verdict and duration. */
  observeTransaction(explained: ExplainedTransaction): void {
    const set = this.explainSet;
    if (set === null) return;
    const server = this.label();
    const labels = { server, verdict: explained.verdict };
    set.transactions.inc(labels);
    const duration = explained.timing.judged_us;
    if (!Number.isNaN(duration)) set.duration.observe(labels, duration);
  }

  /** At a scrape: up to `budget` of this server's open connections read, from where the last scrape stopped; the reads
   * done. */
  readOpen(budget: number): number {
    const cursor = this.cursor ?? (this.cursor = openSessions(this.server).values());
    let reads = 0;
    while (reads < budget) {
      const next = cursor.next();
      if (next.done === true) {
        this.cursor = null;
        break;
      }
      beginEvent();
      this.onEvent(PERIODIC, next.value, null);
      reads++;
    }
    return reads;
  }

  onEvent(event: number, socket: Socket, _res: Transaction | null): void {
    let state = this.states.get(socket);
    const server = this.label();
    const pending = this.serverPending ?? pendingOf(this.set, server);
    if (state === undefined) {
      // ssn_start, or the first sight of a connection opened before the metrics were attached.
      state = { last: new Float64Array(COUNTED.length), unsent: 0, unacked: 0 };
      this.states.set(socket, state);
      pending[OPENED]++;
    }
    // Its counters start at 0: nothing to read yet.
    if (event === SSN_START) return;
    const reading = readForEvent(socket);
    if (reading !== null && reading.length >= NEEDED_LENGTH) this.record(state, server, pending, reading);
    else this.failedReads++;
    if (event === SSN_CLOSE) {
      pending[CLOSED]++;
      // Its share leaves the sums with it.
      pending[UNSENT_SUM] -= state.unsent;
      pending[UNACKED_SUM] -= state.unacked;
      state.unsent = 0;
      state.unacked = 0;
    }
  }

  /** From a read that reaches NEEDED_LENGTH, so every field is there. */
  private record(state: ConnectionState, server: string, pending: Float64Array, reading: Reading): void {
    const { bytes, length } = reading;
    const set = this.set;
    const last = state.last;
    let txDataDelta = 0;
    let retransDelta = 0;
    for (let i = 0; i < COUNTED.length; i++) {
      const c = COUNTED[i];
      const value = decodeField(c.spec, bytes, length)!;
      const delta = value - last[i];
      if (delta > 0) {
        pending[FIRST_COUNTED + i] += delta;
        last[i] = value;
      }
      if (i === TX_DATA_SEGS) txDataDelta = Math.max(0, delta);
      if (i === RETRANS) retransDelta = Math.max(0, delta);
    }
    const unsent = decodeField(UNSENT, bytes, length)!;
    const unacked = decodeField(UNACKED, bytes, length)!;
    pending[UNSENT_SUM] += unsent - state.unsent;
    pending[UNACKED_SUM] += unacked - state.unacked;
    state.unsent = unsent;
    state.unacked = unacked;
    const labels = this.labels?.server === server ? this.labels : (this.labels = { server });
    set.rtt.observe(labels, decodeField(RTT, bytes, length)!);
    set.rttvar.observe(labels, decodeField(RTTVAR, bytes, length)!);
    if (txDataDelta > 0) set.retransPercent.observe(labels, (100 * retransDelta) / txDataDelta);
  }
}
