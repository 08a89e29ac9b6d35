/**
 * What the Express middleware, the Fastify plugin and the preload share: options read and the file opened
 * at setup (where a mistake must show), then one logger per server met; none for a server already logged
 * to the same file (every line would be written twice).
 */
import { parseOptions } from '../config/options.js';
import { attach, attachFromRequest, holdLogFile, loggerOf, type TcpinfoHandle, type TcpinfoStats } from '../attach.js';
import type { TcpinfoOptions, TcpinfoOptionsInput } from '../config/types.js';
import { EVENT_NAMES, type AnyServer, type EventName } from '../events.js';
import type { LogWriter } from '../logger/writer.js';
import { releaseWriter } from '../logger/writer-registry.js';
import { loadPromClient } from '../metrics/tcp-metrics.js';

/** Options as the integrations take them: an options string, an object, or options parseOptions returned. */
export type IntegrationOptions = string | TcpinfoOptionsInput | TcpinfoOptions;

/** Options that give the same lines: all but the notices; a prom-client registry is the same one or not. */
function sameLines(a: TcpinfoOptions, b: TcpinfoOptions): boolean {
  // A registry with metrics in it is circular: JSON cannot hold it.
  if (a.metricsRegistry !== b.metricsRegistry) return false;
  const comparable = (o: TcpinfoOptions): string => JSON.stringify({ ...o, notices: null, metricsRegistry: null });
  return comparable(a) === comparable(b);
}

export class ServerLoggers {
  readonly options: TcpinfoOptions;
  /** Per server met: the logger made for it, or null where another logger already logs it to the file. */
  private readonly loggers = new Map<AnyServer, TcpinfoHandle | null>();
  private readonly file: LogWriter | null;
  private closing: Promise<void> | null = null;

  /** Throws TcpinfoConfigError for bad options; an Error for an unopenable log file or --metrics without prom-client. */
  constructor(options: IntegrationOptions | undefined) {
    this.options = parseOptions(options);
    // Here, not at the first server met (in the middle of the app's start, where it could only warn).
    if (this.options.metrics) loadPromClient();
    this.file = holdLogFile(this.options);
  }

  get closed(): boolean {
    return this.closing !== null;
  }

  /** True when `server` has been met (logged, or left to the logger already there). */
  has(server: AnyServer): boolean {
    return this.loggers.has(server);
  }

  /** Start logging `server`, once (`fromRequest`: catch that request up). Never throws: the app is serving. */
  add(server: AnyServer, fromRequest: boolean): void {
    if (this.closing !== null || this.loggers.has(server)) return;
    const existing = loggerOf(server, this.options.logFile);
    if (existing !== undefined) {
      this.loggers.set(server, null);
      if (!sameLines(existing.options, this.options)) {
        process.emitWarning(
          `tcpinfo: ${this.options.logFile} already logs this server with other options; those stay, these are not applied`,
          { code: 'TCPINFO_ALREADY_LOGGED' },
        );
      }
      return;
    }
    try {
      this.loggers.set(server, fromRequest ? attachFromRequest(server, this.options) : attach(server, this.options));
    } catch (err) {
      this.loggers.set(server, null);
      process.emitWarning(`tcpinfo: cannot log a server: ${(err as Error).message}`, { code: 'TCPINFO_ATTACH_FAILED' });
    }
  }

  /** Resolves once every line queued so far is in the file. */
  flush(): Promise<void> {
    return this.file === null || this.closing !== null ? Promise.resolve() : this.file.flush();
  }

  /** Detach from every server, write out every queued line, close the file. */
  close(): Promise<void> {
    if (this.closing === null) {
      const closes = [...this.loggers.values()].filter((logger) => logger !== null).map((logger) => logger.close());
      this.closing = Promise.all(closes).then(() => (this.file === null ? undefined : releaseWriter(this.file)));
    }
    return this.closing;
  }

  /** Event counts summed over the servers; the file's counts once (its servers share one writer). */
  stats(): TcpinfoStats {
    const zero = (): Record<EventName, number> => Object.fromEntries(EVENT_NAMES.map((name) => [name, 0])) as Record<EventName, number>;
    const total: TcpinfoStats = { events: zero(), sampled: zero(), logged: zero(), failedReads: 0, skippedReads: 0, dropped: 0, written: 0, lost: 0, writeErrors: 0, rolls: 0 };
    for (const logger of this.loggers.values()) {
      if (logger === null) continue;
      const s = logger.stats();
      for (const name of EVENT_NAMES) {
        total.events[name] += s.events[name];
        total.sampled[name] += s.sampled[name];
        total.logged[name] += s.logged[name];
      }
      total.failedReads += s.failedReads;
      total.skippedReads += s.skippedReads;
    }
    const w = this.file?.stats;
    if (w !== undefined) Object.assign(total, { dropped: w.dropped, written: w.written, lost: w.lost, writeErrors: w.writeErrors, rolls: w.rolls });
    return total;
  }
}
