/**
 * The log writer: lines from the hot path go into one in-memory batch (a string), and the batch goes to
 * the file in one asynchronous write at most every `flushMs`, or at once when it is large. The batch is
 * bounded in lines: past the bound, lines are dropped and counted, never allowed to grow memory.
 *
 * The file is opened (and the header written to a new file) synchronously at start-up, so a bad path is
 * an error when the plugin attaches, not later. Nothing synchronous happens per line.
 */
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';

export interface LogWriterOptions {
  /** Absolute path of the log file. */
  file: string;
  /** Header line (with its newline) written at the top of a new file. */
  header: string;
  /** Lines that may wait in memory before further lines are dropped. */
  queueLines: number;
  /** Longest a line waits before its batch is written, in ms. */
  flushMs?: number;
  /** Rolling, as the options: 0 off, 1 by time, 2 by size, 3 by time or size. */
  rollingEnabled: 0 | 1 | 2 | 3;
  rollingOffsetHr: number;
  rollingIntervalSec: number;
  /** Bytes. */
  rollingSize: number;
}

export interface LogWriterStats {
  /** Lines handed to the writer. */
  queued: number;
  /** Lines written to the file. */
  written: number;
  /** Lines dropped because the queue was full. */
  dropped: number;
  /** Lines lost to a failed write. */
  lost: number;
  /** Failed writes. */
  writeErrors: number;
}

const DEFAULT_FLUSH_MS = 20;
/** A batch this large is written at once rather than waiting for the timer. */
const EAGER_BATCH_CHARS = 256 * 1024;
export const LOG_FILE_MODE = 0o640;

export class LogWriter extends EventEmitter {
  readonly file: string;
  private readonly header: string;
  private readonly queueLimit: number;
  private readonly flushMs: number;
  private fd: number;
  private batch = '';
  private batchLines = 0;
  private writing = false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  private reported = false;
  private readonly onExit = (): void => this.flushSync();
  readonly stats: LogWriterStats = { queued: 0, written: 0, dropped: 0, lost: 0, writeErrors: 0 };

  constructor(options: LogWriterOptions) {
    super();
    this.file = options.file;
    this.header = options.header;
    this.queueLimit = options.queueLines;
    this.flushMs = options.flushMs ?? DEFAULT_FLUSH_MS;
    this.fd = openLogFile(this.file, this.header);
    process.on('exit', this.onExit);
  }

  /** Queue one line (with its newline). False when it was dropped: queue full, or writer closed. */
  write(line: string): boolean {
    if (this.closed || this.batchLines >= this.queueLimit) {
      this.stats.dropped++;
      return false;
    }
    this.batch += line;
    this.batchLines++;
    this.stats.queued++;
    if (!this.writing) {
      if (this.batch.length >= EAGER_BATCH_CHARS) this.startWrite();
      else if (this.timer === null) this.timer = setTimeout(this.onTimer, this.flushMs).unref();
    }
    return true;
  }

  /** Resolves once every line queued so far is in the file (or counted lost). */
  flush(): Promise<void> {
    if (this.batchLines === 0 && !this.writing) return Promise.resolve();
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      if (!this.writing) this.startWrite();
    });
  }

  /** Write out everything queued, then close the file. Lines written after this are dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    process.removeListener('exit', this.onExit);
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const fd = this.fd;
    this.fd = -1;
    await new Promise<void>((resolve) => fs.close(fd, () => resolve()));
  }

  /** Best effort at process exit: whatever is queued goes out synchronously. */
  flushSync(): void {
    if (this.fd < 0 || this.batchLines === 0) return;
    const text = this.batch;
    const lines = this.batchLines;
    this.batch = '';
    this.batchLines = 0;
    try {
      fs.writeSync(this.fd, text);
      this.stats.written += lines;
    } catch {
      this.stats.lost += lines;
    }
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    if (!this.writing) this.startWrite();
  };

  private startWrite(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.batchLines === 0 || this.fd < 0) {
      this.settleIdle();
      return;
    }
    const text = this.batch;
    const lines = this.batchLines;
    this.batch = '';
    this.batchLines = 0;
    this.writing = true;
    fs.write(this.fd, text, null, 'utf8', (err) => {
      this.writing = false;
      if (err) this.onWriteError(err, lines);
      else this.stats.written += lines;
      if (this.batchLines > 0) this.startWrite();
      else this.settleIdle();
    });
  }

  private settleIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private onWriteError(err: NodeJS.ErrnoException, lines: number): void {
    this.stats.writeErrors++;
    this.stats.lost += lines;
    if (this.reported) return;
    this.reported = true;
    const message = `tcpinfo: writing ${this.file} failed (${err.code ?? err.message}); lines are being lost`;
    process.emitWarning(message, { code: 'TCPINFO_WRITE_FAILED' });
    this.emit('warning', Object.assign(new Error(message), { cause: err }));
  }
}

/**
 * Open (create with mode 0640, or append to) the log file; a new or empty file gets the header.
 * Synchronous on purpose: this runs at start-up, where a bad path must be an error.
 */
export function openLogFile(file: string, header: string): number {
  let fd: number;
  try {
    fd = fs.openSync(file, 'a', LOG_FILE_MODE);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(`tcpinfo: --log-file=${file}: cannot open for appending (${e.code ?? e.message})`, { cause: err });
  }
  if (fs.fstatSync(fd).size === 0) fs.writeSync(fd, header);
  return fd;
}
