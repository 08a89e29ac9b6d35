/**
 * attach(server, options): the whole flow of the plugin for one server.
 *
 *   event -> sampled? -> getsockopt(TCP_INFO) -> format the ATS line -> queue it for the file
 *
 * Sampling comes first so a sampled-out event costs a counter and a random number.
 */
import { EventEmitter } from 'node:events';
import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import seedrandom from 'seedrandom';
import { parseOptions } from '../config/options.js';
import type { HookName, TcpinfoOptions, TcpinfoOptionsInput } from '../config/types.js';
import { headerLine, hasDataSegs, level1Columns, level2Columns, linePrefix } from '../logger/format.js';
import { atsTimestampNow } from '../logger/timestamp.js';
import type { LogWriter } from '../logger/writer.js';
import { acquireWriter, releaseWriter } from '../logger/writer-registry.js';
import { isSupported, kernelTcpInfoLength, readRaw, unsupportedMessage } from '../tcpinfo/read.js';
import { EVENT_NAMES, addConsumer, hookBit, removeConsumer, type EventConsumer } from './server-events.js';

/** Counts since attach, per event where it says so. */
export interface TcpinfoStats {
  /** Events that happened, per event. */
  events: Record<HookName, number>;
  /** Events the sampler chose, per event. */
  sampled: Record<HookName, number>;
  /** Lines queued for the log, per event. */
  logged: Record<HookName, number>;
  /** Sampled events whose socket had no fd any more or whose getsockopt failed. */
  failedReads: number;
  /** Lines dropped because the in-memory queue was full. */
  dropped: number;
  /** Lines written to the file. */
  written: number;
  /** Lines lost to failed writes. */
  lost: number;
  /** Failed writes to the file. */
  writeErrors: number;
}

/** What `attach` returns. Emits `'warning'` (an Error) for run-time faults, once per kind of fault. */
export interface TcpinfoHandle extends EventEmitter {
  /** The effective options. */
  readonly options: TcpinfoOptions;
  /** Detach from the server, write out every queued line, close the file. */
  close(): Promise<void>;
  stats(): TcpinfoStats;
}

let unsupportedWarned = false;

function perEvent(counts: Float64Array): Record<HookName, number> {
  return { ssn_start: counts[0], txn_start: counts[1], send_resp_hdr: counts[2], txn_close: counts[3] };
}

class TcpinfoLogger extends EventEmitter implements EventConsumer, TcpinfoHandle {
  readonly options: TcpinfoOptions;
  readonly eventMask: number;
  private readonly server: Server;
  private readonly writer: LogWriter | null;
  private readonly rate: number;
  private readonly random: () => number;
  private readonly level: 1 | 2;
  private readonly seen = new Float64Array(4);
  private readonly sampledCounts = new Float64Array(4);
  private readonly loggedCounts = new Float64Array(4);
  private failedReads = 0;
  private closing: Promise<void> | null = null;
  private readonly forwardWarning = (err: Error): void => {
    this.emit('warning', err);
  };

  constructor(server: Server, options: TcpinfoOptions) {
    super();
    this.server = server;
    this.options = options;
    this.rate = options.sampleRate;
    this.random = options.sampleSeed === undefined ? Math.random : seedrandom.alea(options.sampleSeed);
    this.level = options.logLevel;
    if (!isSupported()) {
      this.eventMask = 0;
      this.writer = null;
      if (!unsupportedWarned) {
        unsupportedWarned = true;
        process.emitWarning(`tcpinfo: ${unsupportedMessage()}; no lines will be logged`, { code: 'TCPINFO_UNSUPPORTED' });
      }
      return;
    }
    this.eventMask = options.hooks.reduce((mask, hook) => mask | hookBit(hook), 0);
    const header = headerLine(options.logLevel, hasDataSegs(kernelTcpInfoLength()));
    this.writer = acquireWriter(options, header);
    this.writer.on('warning', this.forwardWarning);
    for (const notice of options.notices) process.emitWarning(`tcpinfo: ${notice}`, { code: 'TCPINFO_NOTICE' });
    addConsumer(server, this);
  }

  onEvent(event: number, socket: Socket, _res: ServerResponse | null): void {
    this.seen[event]++;
    const rate = this.rate;
    if (rate < 1000 && (rate === 0 || this.random() * 1000 >= rate)) return;
    this.sampledCounts[event]++;
    const length = readRaw(socket);
    if (length < 0) {
      this.failedReads++;
      return;
    }
    const line =
      linePrefix(atsTimestampNow(), EVENT_NAMES[event], socket) +
      (this.level === 1 ? level1Columns() : level2Columns(length));
    if (this.writer!.write(line)) this.loggedCounts[event]++;
  }

  close(): Promise<void> {
    if (this.closing === null) {
      removeConsumer(this.server, this);
      this.writer?.removeListener('warning', this.forwardWarning);
      this.closing = this.writer === null ? Promise.resolve() : releaseWriter(this.writer);
    }
    return this.closing;
  }

  stats(): TcpinfoStats {
    const w = this.writer?.stats;
    return {
      events: perEvent(this.seen),
      sampled: perEvent(this.sampledCounts),
      logged: perEvent(this.loggedCounts),
      failedReads: this.failedReads,
      dropped: w?.dropped ?? 0,
      written: w?.written ?? 0,
      lost: w?.lost ?? 0,
      writeErrors: w?.writeErrors ?? 0,
    };
  }
}

/**
 * Log TCP_INFO of the client connections of an `http.Server` or `https.Server` at the chosen events.
 * `options` is an ATS options string (`'--hooks=ssn_start,txn_close --log-level=2'`) or the same as an
 * object. Bad options throw here, with every problem named; nothing at request time ever throws.
 */
export function attach(server: Server, options?: string | TcpinfoOptionsInput | TcpinfoOptions): TcpinfoHandle {
  if (server === null || typeof server !== 'object' || typeof (server as Server).prependListener !== 'function') {
    throw new TypeError('tcpinfo: attach(server, options): server must be an http.Server or https.Server');
  }
  return new TcpinfoLogger(server, parseOptions(options as string | TcpinfoOptionsInput));
}
