/**
 * attach(server, options): the whole flow of the plugin for one server.
 *
 *   event -> sampled? -> getsockopt(TCP_INFO) -> format the line -> queue it for the file
 *
 * Sampling comes first so a sampled-out event costs a counter and a random number.
 */
import { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import seedrandom from 'seedrandom';
import { parseOptions } from './config/options.js';
import type { TcpinfoOptions, TcpinfoOptionsInput } from './config/types.js';
import { withCode } from './errors.js';
import {
  EVENT_NAMES, PERIODIC, SEND_RESP_HDR, SSN_CLOSE, SSN_START, TXN_CLOSE, TXN_DELIVERED, TXN_START, eventBit,
  type AnyServer, type EventConsumer, type EventName, type Transaction,
} from './events.js';
import { connectionClosing, followDelivery, giveUp, holdDeliveries, releaseDeliveries, type DeliveryOwner, type PendingDelivery } from './explain/delivery.js';
import { explain, TransactionStates, type ExplainedTransaction, type TransactionState } from './explain/transaction-state.js';
import { nowUs } from './explain/timeline.js';
import { createLineFormatter, type LineFormatter } from './format/line-format.js';
import type { LogWriter } from './logger/writer.js';
import { acquireWriter, releaseWriter } from './logger/writer-registry.js';
import { acquireMetricsServer, releaseMetricsServer } from './metrics/metrics-server.js';
import { loadPromClient, TcpMetrics } from './metrics/tcp-metrics.js';
import { OtelExport } from './otel/otel-export.js';
import { addConsumer, openSessions, removeConsumer, startedBeforeJoin } from './hooks/server.js';
import { recordServerTiming, useServerTiming } from './server-timing.js';
import { beginEvent, isSupported, kernelTcpInfoLength, readForEvent, unsupportedMessage, Reading } from './tcpinfo/read.js';

/** Counts since attach, per event where it says so. */
export interface TcpinfoStats {
  /** Events that happened, per event. */
  events: Record<EventName, number>;
  /** Events the sampler chose, per event. */
  sampled: Record<EventName, number>;
  /** Lines queued for the log, per event. */
  logged: Record<EventName, number>;
  /** Sampled events whose socket had no fd any more or whose getsockopt failed. */
  failedReads: number;
  /**
   * With --update-period: periodic reads that did not happen because a round of reads ran past its period
   * (per such period, the connections open at its start that were not read within it).
   */
  skippedReads: number;
  /** Lines dropped because the in-memory queue was full. */
  dropped: number;
  /** Lines written to the file. */
  written: number;
  /** Lines accepted and then lost: still waiting for a fault to clear at close or exit, or cut by one. */
  lost: number;
  /** Faults met writing the file: a write, open or rename that failed (one that persists counts once). */
  writeErrors: number;
  /** Files rolled. */
  rolls: number;
}

/** What `attach` returns. Emits `'warning'` (an Error) for run-time faults, once per kind of fault. */
export interface TcpinfoHandle extends EventEmitter {
  /** The effective options. */
  readonly options: TcpinfoOptions;
  /** Detach from the server, write out every queued line, close the file. */
  close(): Promise<void>;
  /** With --metrics-port: the server answering /metrics (its `address()` once listening); otherwise null. */
  readonly metricsServer: Server | null;
  stats(): TcpinfoStats;
}

let unsupportedWarned = false;

/** Periodic reads go in slices that stop once they have held the loop this long (clock ~30 ns, checked after each ~5-70 us
 * read), each followed by a pause as long, so a round never takes more than about half of the loop's time. */
const SLICE_MS = 4;

/** The struct's bytes for a read that failed (length -1): never looked at. */
const NO_BYTES = Buffer.alloc(0);
/** A verdict line's reading when the connection could not be read any more (closed): every TCP_INFO column `-`. */
const NO_READING = new Reading(Buffer.alloc(0), 0);

/** The open loggers of each server, so an integration can tell that a server is already logged to a file. */
const loggersByServer = new WeakMap<AnyServer, Set<TcpinfoLogger>>();

function perEvent(counts: Float64Array): Record<EventName, number> {
  const byName = {} as Record<EventName, number>;
  EVENT_NAMES.forEach((name, i) => (byName[name] = counts[i]));
  return byName;
}

class TcpinfoLogger extends EventEmitter implements EventConsumer, TcpinfoHandle, DeliveryOwner {
  readonly options: TcpinfoOptions;
  readonly eventMask: number;
  readonly tracksSessions: boolean;
  /** Events that get a line; eventMask may hold more (ssn_start, for session sampling). */
  private readonly logMask: number;
  private readonly server: AnyServer;
  private readonly writer: LogWriter | null;
  private readonly formatter: LineFormatter | null;
  private readonly rate: number;
  private readonly random: () => number;
  /** With --sample-by=session: this logger's decision for each connection (a WeakMap: see tcpinfo/endpoints.ts). */
  private readonly sessionChoices: WeakMap<Socket, boolean> | null;
  /** With --explain: the transaction events it times (txn_start, send_resp_hdr, txn_close, and ssn_close, which ends the
   * follow-ups of a connection); 0 without. */
  private readonly explainMask: number = 0;
  /** With --explain: the transactions under way that it explains. */
  private readonly transactions: TransactionStates | null = null;
  private readonly seen = new Float64Array(EVENT_NAMES.length);
  private readonly sampledCounts = new Float64Array(EVENT_NAMES.length);
  private readonly loggedCounts = new Float64Array(EVENT_NAMES.length);
  private failedReads = 0;
  /** With --metrics: the aggregate metrics consumer, and the /metrics server of --metrics-port. */
  readonly metrics: TcpMetrics | null = null;
  readonly metricsServer: Server | null = null;
  /** With --otel: the spans and metrics on OpenTelemetry. */
  private readonly otel: OtelExport | null = null;
  /** With --explain: whether a verdict has a use here (its line, the metrics, OpenTelemetry), so transactions are chosen. */
  private readonly judges: boolean = false;
  private periodicTimer: NodeJS.Timeout | null = null;
  /** The round of periodic reads under way: where it is in the open connections; null between rounds. */
  private round: Iterator<Socket> | null = null;
  /** The next slice of the round, when one is scheduled. */
  private sliceTimer: NodeJS.Timeout | null = null;
  /** Whether the round under way began in an earlier period (it ran past its own). */
  private roundCarried = false;
  /** Connections open at the start of this period, and the periodic reads done in it. */
  private dueThisPeriod = 0;
  private readsThisPeriod = 0;
  private skippedReads = 0;
  private closing: Promise<void> | null = null;
  /** With --server-timing: every transaction is read at its txn_start for its response's entry. */
  private readonly serverTiming: boolean = false;
  private readonly forwardWarning = (err: Error): void => {
    this.emit('warning', err);
  };

  constructor(server: AnyServer, options: TcpinfoOptions, late?: boolean) {
    super();
    this.server = server;
    this.options = options;
    this.rate = options.sampleRate;
    this.random = options.sampleSeed === undefined ? Math.random : seedrandom.alea(options.sampleSeed);
    this.sessionChoices = options.sampleBy === 'session' ? new WeakMap() : null;
    if (!isSupported()) {
      this.eventMask = 0;
      this.logMask = 0;
      this.tracksSessions = false;
      this.writer = null;
      this.formatter = null;
      if (!unsupportedWarned) {
        unsupportedWarned = true;
        process.emitWarning(`tcpinfo: ${unsupportedMessage()}; no lines will be logged`, { code: 'TCPINFO_UNSUPPORTED' });
      }
      return;
    }
    let mask = options.hooks.reduce((m, hook) => m | eventBit(hook), 0);
    if (options.updatePeriod > 0) mask |= 1 << PERIODIC;
    this.logMask = mask;
    // Session sampling decides at ssn_start, so it needs that event even when it is not logged.
    if (this.sessionChoices !== null) mask |= 1 << SSN_START;
    if (options.explain) {
      // A transaction is timed from its txn_start and its headers, whichever events are logged.
      this.explainMask = (1 << TXN_START) | (1 << SEND_RESP_HDR) | (1 << TXN_CLOSE) | (1 << SSN_CLOSE);
      this.transactions = new TransactionStates(options.slowMs);
      mask |= this.explainMask;
    }
    if (options.serverTiming) {
      this.serverTiming = true;
      mask |= 1 << TXN_START;
      useServerTiming(1);
    }
    this.eventMask = mask;
    this.tracksSessions = (mask & ((1 << SSN_CLOSE) | (1 << PERIODIC))) !== 0;
    this.formatter = createLineFormatter(options, kernelTcpInfoLength());
    // Before the log file is opened: a logger that cannot be made must hold nothing.
    if (options.metrics) loadPromClient();
    if (options.otel) this.otel = new OtelExport(server, (err) => this.reportOtelFault(err));
    this.judges = options.explain && ((this.logMask & (1 << TXN_CLOSE)) !== 0 || options.metrics || options.otel);
    this.writer = acquireWriter(options, this.formatter.header);
    this.writer.on('warning', this.forwardWarning);
    for (const notice of options.notices) process.emitWarning(`tcpinfo: ${notice}`, { code: 'TCPINFO_NOTICE' });
    if (options.explain) holdDeliveries();
    addConsumer(server, this, late);
    let loggers = loggersByServer.get(server);
    if (loggers === undefined) loggersByServer.set(server, (loggers = new Set()));
    loggers.add(this);
    if (options.metrics) {
      this.metrics = new TcpMetrics(server, options);
      addConsumer(server, this.metrics);
      if (options.metricsPort !== undefined) {
        this.metricsServer = acquireMetricsServer(this.metrics.registry, options.metricsPort, options.metricsHost, (err) => this.reportMetricsServerError(err));
      }
    }
    if (options.updatePeriod > 0) {
      // One timer for all of the server's connections, however many there are.
      this.periodicTimer = setInterval(this.startPeriod, options.updatePeriod * 1000).unref();
    }
  }

  onEvent(event: number, socket: Socket, res: Transaction | null): void {
    this.seen[event]++;
    if (event === TXN_START && this.serverTiming) {
      // Every transaction, whatever the sampling: the reading is the one its txn_start line would show.
      recordServerTiming(res!, readForEvent(socket), this.options.timingAllowOrigin);
      // Not logged: no sampling draw either, so a seeded --sample-seed picks the same events as without the option.
      if ((this.logMask & (1 << TXN_START)) === 0 && this.explainMask === 0) return;
    }
    if ((this.explainMask & (1 << event)) !== 0) {
      this.onTransactionEvent(event, socket, res!);
      return;
    }
    if (this.sample(event, socket)) this.log(event, socket, res, null);
  }

  /** A sampled event: its line, when the event is one the log has (txn_delivered goes with txn_close). `given`: the
   * reading already taken (null: none could be). */
  private log(event: number, socket: Socket, res: Transaction | null, explained: ExplainedTransaction | null, given?: Reading | null): void {
    if ((this.logMask & (1 << (event === TXN_DELIVERED ? TXN_CLOSE : event))) === 0) return;
    this.sampledCounts[event]++;
    const reading = given === undefined ? readForEvent(socket) : (given ?? NO_READING);
    if (reading === null) {
      this.failedReads++;
      return;
    }
    const writer = this.writer!;
    const formatter = this.formatter!;
    if (formatter.maxLineBytes > 0) {
      // Text lines go straight into the writer's bytes: no string per line.
      const buf = writer.reserveLine(formatter.maxLineBytes);
      if (buf !== null && writer.commitLine(formatter.formatInto!(buf, writer.lineStart, event, socket, res, reading, explained))) this.loggedCounts[event]++;
    } else if (writer.write(formatter.format(EVENT_NAMES[event], socket, res, reading, explained))) {
      this.loggedCounts[event]++;
    }
  }

  /** With --explain, a transaction event: its line (sampled per event) and its timing. Whether its txn_close is logged is
   * decided at its txn_start, and only then (or with --metrics, always) is the baseline read. */
  private onTransactionEvent(event: number, socket: Socket, res: Transaction): void {
    if (event === SSN_CLOSE) {
      // Its follow-ups end here, fd still open: their verdict lines come before the ssn_close line.
      connectionClosing(socket);
      if (this.sample(SSN_CLOSE, socket)) this.log(SSN_CLOSE, socket, res, null);
      return;
    }
    const transactions = this.transactions!;
    const req = res.req;
    if (event === TXN_START) {
      if (this.sample(TXN_START, socket)) this.log(TXN_START, socket, res, null);
      // Chosen at its txn_start, by --sample-rate, for its verdict line, the verdict metrics, OpenTelemetry.
      if (this.judges && this.sample(TXN_CLOSE, socket)) {
        const logged = (this.logMask & (1 << TXN_CLOSE)) !== 0;
        const reading = readForEvent(socket);
        transactions.begin(res, socket, reading === null ? NO_BYTES : reading.bytes, reading === null ? -1 : reading.length, logged);
      }
      return;
    }
    if (event === SEND_RESP_HDR) {
      if (transactions.headers(req) !== undefined) this.otel?.headers(req);
      if (this.sample(SEND_RESP_HDR, socket)) this.log(SEND_RESP_HDR, socket, res, null);
      return;
    }
    let state = transactions.get(req);
    if (state === undefined) {
      // Not chosen at its txn_start: no line. Under way before this logger was attached: chosen now, judged unknown.
      if (!startedBeforeJoin(this, socket, res)) return;
      if (!(this.judges && this.sample(TXN_CLOSE, socket))) return;
      transactions.beginLate(res, (this.logMask & (1 << TXN_CLOSE)) !== 0);
      state = transactions.get(req)!;
    }
    transactions.handoff(state, socket);
    if (state.logged) this.log(TXN_CLOSE, socket, res, null);
    const reading = readForEvent(socket);
    if (reading !== null) this.otel?.handoff(req, reading, state.base);
    if (reading === null) this.judged(state, res, socket, null, null);
    else followDelivery(this, socket, res, state, reading);
  }

  /** A transaction's follow-up ended (delivery.ts): its verdict, on its line and in the metrics. */
  delivered(p: PendingDelivery, reading: Reading | null): void {
    this.judged(p.state as TransactionState, p.txn, p.socket, p, reading);
  }

  private judged(state: TransactionState, txn: Transaction, socket: Socket, p: PendingDelivery | null, reading: Reading | null): void {
    const explained = explain(state, txn, p);
    state.closed = explained;
    this.metrics?.observeTransaction(explained);
    this.otel?.judged(txn.req, state, explained, p === null ? NaN : p.deliveredUs, nowUs());
    if (state.logged) {
      this.seen[TXN_DELIVERED]++;
      this.log(TXN_DELIVERED, socket, txn, explained, reading);
    }
  }

  /** Per event (as ATS), or per connection: decided once at its ssn_start or first sight. */
  private sample(event: number, socket: Socket): boolean {
    const rate = this.rate;
    const choices = this.sessionChoices;
    if (choices === null) return rate >= 1000 || (rate > 0 && this.random() * 1000 < rate);
    let chosen = choices.get(socket);
    if (chosen === undefined || event === SSN_START) {
      chosen = rate >= 1000 || (rate > 0 && this.random() * 1000 < rate);
      choices.set(socket, chosen);
    }
    return chosen;
  }

  /** A period starts: a round of reads in slices (readSlice). A round still under way goes on instead, so no connection is
   * read twice in a period; those it did not reach in time count as skipped. */
  private readonly startPeriod = (): void => {
    if (this.round !== null || this.roundCarried) this.skippedReads += Math.max(0, this.dueThisPeriod - this.readsThisPeriod);
    const sessions = openSessions(this.server);
    this.dueThisPeriod = sessions.size;
    this.readsThisPeriod = 0;
    this.roundCarried = this.round !== null;
    if (this.round === null && sessions.size > 0) {
      // A Set's iterator is live: connections closed since are passed over, new ones are met at the end.
      this.round = sessions.values();
      this.readSlice();
    }
  };

  /** Read connections of the round until it ends or this slice has held the loop SLICE_MS. */
  private readonly readSlice = (): void => {
    this.sliceTimer = null;
    const round = this.round;
    if (round === null) return;
    const metrics = this.metrics;
    const start = performance.now();
    for (;;) {
      const next = round.next();
      if (next.done === true) {
        this.round = null;
        return;
      }
      beginEvent();
      this.onEvent(PERIODIC, next.value, null);
      // The same reading feeds the metrics of this attach.
      metrics?.onEvent(PERIODIC, next.value, null);
      this.readsThisPeriod++;
      const took = performance.now() - start;
      if (took >= SLICE_MS) {
        this.sliceTimer = setTimeout(this.readSlice, Math.ceil(took)).unref();
        return;
      }
    }
  };

  close(): Promise<void> {
    if (this.closing === null) {
      if (this.periodicTimer !== null) clearInterval(this.periodicTimer);
      if (this.sliceTimer !== null) clearTimeout(this.sliceTimer);
      this.round = null;
      // Follow-ups still under way get their verdict lines now, before the file is closed.
      if (this.transactions !== null) {
        giveUp(this);
        releaseDeliveries();
      }
      this.transactions?.dispose();
      removeConsumer(this.server, this);
      if (this.serverTiming) useServerTiming(-1);
      if (this.metrics !== null) {
        removeConsumer(this.server, this.metrics);
        this.metrics.close();
      }
      if (this.metricsServer !== null) releaseMetricsServer(this.metricsServer);
      loggersByServer.get(this.server)?.delete(this);
      this.writer?.removeListener('warning', this.forwardWarning);
      this.closing = this.writer === null ? Promise.resolve() : releaseWriter(this.writer);
    }
    return this.closing;
  }

  private reportMetricsServerError(err: Error): void {
    const message = `tcpinfo: the /metrics server on ${this.options.metricsHost}:${this.options.metricsPort} failed: ${err.message}`;
    process.emitWarning(message, { code: 'TCPINFO_METRICS_SERVER' });
    this.emit('warning', Object.assign(new Error(message), { cause: err, code: 'TCPINFO_METRICS_SERVER' }));
  }

  private reportOtelFault(err: Error): void {
    process.emitWarning(err.message, { code: 'TCPINFO_OTEL' });
    this.emit('warning', err);
  }

  stats(): TcpinfoStats {
    const w = this.writer?.stats;
    return {
      events: perEvent(this.seen),
      sampled: perEvent(this.sampledCounts),
      logged: perEvent(this.loggedCounts),
      failedReads: this.failedReads,
      skippedReads: this.skippedReads,
      dropped: w?.dropped ?? 0,
      written: w?.written ?? 0,
      lost: w?.lost ?? 0,
      writeErrors: w?.writeErrors ?? 0,
      rolls: w?.rolls ?? 0,
    };
  }
}

/**
 * Log TCP_INFO of the client connections of an `http.Server` or `https.Server`, or of an HTTP/2 server
 * (`http2.createServer()` or `http2.createSecureServer()`, with or without allowHTTP1), at the chosen events.
 * `options` is an ATS options string (`'--hooks=ssn_start,txn_close --log-level=2'`) or the same as an
 * object. Bad options throw here, with every problem named; nothing at request time ever throws.
 */
export function attach(server: AnyServer, options?: string | TcpinfoOptionsInput | TcpinfoOptions): TcpinfoHandle {
  if (server === null || typeof server !== 'object' || typeof (server as Server).prependListener !== 'function') {
    throw withCode(new TypeError('tcpinfo: attach(server, options): server must be an http.Server, https.Server, http2.Http2Server or http2.Http2SecureServer'), 'ERR_TCPINFO_INVALID_ARGUMENT');
  }
  return new TcpinfoLogger(server, parseOptions(options));
}

/** attach() for an integration that meets a server from inside a request (a middleware): connections and requests already
 * under way are caught up at first sight (hooks/server.ts). */
export function attachFromRequest(server: AnyServer, options: TcpinfoOptions): TcpinfoHandle {
  return new TcpinfoLogger(server, options, true);
}

/** The open logger (from attach() or an integration) that logs `server` to `logFile`, if there is one. */
export function loggerOf(server: AnyServer, logFile: string): TcpinfoHandle | undefined {
  for (const logger of loggersByServer.get(server) ?? []) if (logger.options.logFile === logFile) return logger;
  return undefined;
}

/** Opens the log file of `options` now, header and all (an unwritable path fails at setup), and holds it open (give it back
 * with releaseWriter) for an integration that meets its servers later. Null where TCP_INFO is not supported. */
export function holdLogFile(options: TcpinfoOptions): LogWriter | null {
  if (!isSupported()) return null;
  return acquireWriter(options, createLineFormatter(options, kernelTcpInfoLength()).header);
}
