/**
 * The process's own output as the log: `--log-file=stdout`/`stderr` (also `/dev/stdout`, `/proc/self/fd/1`,
 * ...: never opened, the fd the process has is written). How, found once at start-up:
 * - a pipe or socket: through process.stdout, in order with console.log; chunks of whole lines up to
 *   PIPE_BUF, handed over only when the stream is empty, so each is one atomic write(2);
 * - a regular file or device: written as a file, never rolled (it is the app's output too);
 * - a terminal: through the stream, as Node does.
 * StdioFile has the surface of LiveFile the writer uses; `regular` is false. Docs: docs/deploying.md#containers-log-to-standard-output
 */
import * as fs from 'node:fs';
import { isatty } from 'node:tty';
import type { StdioName } from '../config/stdio-name.js';
import { write as writeFd } from './fs-async.js';
import { countLines } from './line-queue.js';

/** Pipe writes up to this many bytes are atomic (POSIX PIPE_BUF; 4096 on Linux). */
export const PIPE_BUF = 4096;
/** A write waits this long at most for a backed-up stream to empty, then fails with EAGAIN (a stalled pipe). */
const DRAIN_WAIT_MS = 50;
const NEWLINE = 0x0a;

/** The fds whose header this process wrote; on globalThis, so that two copies of this module agree. */
const kHeaders = Symbol.for('tcpinfo.stdioHeaders');
const headersWritten: Set<number> = ((globalThis as { [kHeaders]?: Set<number> })[kHeaders] ??= new Set());

/** Streams with our 'error' listener, and the first error each had. */
const listened = new WeakSet<NodeJS.WritableStream>();
const streamErrors = new WeakMap<NodeJS.WritableStream, Error>();

function keepErrors(stream: NodeJS.WritableStream): void {
  if (listened.has(stream)) return;
  listened.add(stream);
  // Kept for good: without it, a late EPIPE on process.stdout would be an uncaught exception.
  stream.on('error', (err: Error) => {
    if (!streamErrors.has(stream)) streamErrors.set(stream, err);
  });
}

export class StdioFile {
  /** 1 or 2; -1 once closed (the process's fd itself is never closed). */
  fd = -1;
  size = 0;
  startMs = 0;
  hasRecords = false;
  /** Never rolled, never looked up by name. */
  readonly regular = false;
  /** True when written through process.stdout/stderr (pipe, socket, terminal); false: as a file. */
  viaStream = false;
  private readonly stdFd: 1 | 2;
  private readonly header: Buffer;
  /** Chunks handed to the stream, and those it has let out (its callbacks come in order). */
  private handed = 0;
  private sent = 0;
  /** Lines of the last chunk, when the stream held it back (a full pipe): counted written, not out yet. */
  private heldLines = 0;

  constructor(
    readonly path: StdioName,
    header: string,
  ) {
    this.stdFd = path === 'stdout' ? 1 : 2;
    this.header = Buffer.from(header);
  }

  private get stream(): NodeJS.WriteStream & { writableLength: number; destroyed: boolean; writable: boolean } {
    return this.stdFd === 1 ? process.stdout : process.stderr;
  }

  /** At start-up: what the fd is (throws EBADF when it is closed), and the header, once per process. */
  openSync(startMs: number): void {
    const st = fs.fstatSync(this.stdFd);
    this.viaStream = st.isFIFO() || st.isSocket() || isatty(this.stdFd);
    this.fd = this.stdFd;
    this.startMs = startMs;
    if (this.viaStream) keepErrors(this.stream);
    if (this.header.length === 0 || headersWritten.has(this.stdFd)) return;
    headersWritten.add(this.stdFd);
    if (this.viaStream) this.stream.write(this.header);
    else writeAllSync(this.stdFd, this.header);
  }

  /** After close(): the fd is still the process's; nothing to open, and no second header. */
  open(startMs: number): Promise<void> {
    this.fd = this.stdFd;
    this.startMs = startMs;
    return Promise.resolve();
  }

  /**
   * One write of whole lines from the start of `buf`; resolves with its bytes. Through the stream: at most
   * PIPE_BUF, once it holds nothing. Rejects with the stream's error, or EAGAIN when it stays backed up.
   */
  async write(buf: Buffer): Promise<number> {
    if (!this.viaStream) {
      const { bytesWritten } = await writeFd(this.stdFd, buf, 0, buf.length, null);
      return this.wrote(bytesWritten);
    }
    const stream = this.stream;
    if (stream.writableLength > 0 && !stream.destroyed) await drained(stream, DRAIN_WAIT_MS);
    // Failed stays failed: Node's stdout "undestroys" itself after an error, so later writes would seem to work.
    const failed = streamErrors.get(stream);
    if (failed !== undefined) throw failed;
    if (stream.destroyed || !stream.writable) throw Object.assign(new Error(`${this.path} is closed`), { code: 'EPIPE' });
    if (stream.writableLength > 0) {
      throw Object.assign(new Error(`${this.path} is not being read (${stream.writableLength} bytes wait in it)`), { code: 'EAGAIN' });
    }
    const end = chunkEnd(buf, 0);
    const chunk = end === buf.length ? buf : buf.subarray(0, end);
    this.handed++;
    stream.write(chunk, this.onSent);
    this.heldLines = stream.writableLength > 0 ? countLines(chunk, end) : 0;
    return this.wrote(end);
  }

  /** Lines counted written that the stream still holds: lost if the process dies now (a signal). */
  get unsentLines(): number {
    return this.sent === this.handed ? 0 : this.heldLines;
  }

  private readonly onSent = (): void => {
    this.sent++;
  };

  /** At exit: what goes out without blocking (Node does not flush a pipe at exit either); as a file, everything. */
  writeSync(buf: Buffer): number {
    let done = 0;
    if (!this.viaStream) {
      try {
        while (done < buf.length) {
          const n = fs.writeSync(this.stdFd, buf, done);
          if (n === 0) break;
          done += n;
        }
      } catch {
        // Counted by the caller from the bytes written.
      }
      return this.wrote(done);
    }
    const stream = this.stream;
    while (done < buf.length && stream.writableLength === 0 && !streamErrors.has(stream) && !stream.destroyed && stream.writable) {
      const end = chunkEnd(buf, done);
      stream.write(buf.subarray(done, end));
      // Still held: it may or may not go out before the process ends; it is not counted as written.
      if (stream.writableLength > 0) break;
      done = end;
    }
    return this.wrote(done);
  }

  isInPlace(): Promise<boolean> {
    return Promise.resolve(true);
  }

  rollAway(): Promise<string | null> {
    return Promise.reject(Object.assign(new Error(`${this.path} is never rolled`), { code: 'ENOTSUP' }));
  }

  /** Nothing to close: the fd stays the process's. */
  close(): Promise<void> {
    this.fd = -1;
    return Promise.resolve();
  }

  private wrote(bytes: number): number {
    this.size += bytes;
    if (bytes > 0) this.hasRecords = true;
    return bytes;
  }
}

/** End of the next chunk from `start`: whole lines up to PIPE_BUF bytes, or one longer line alone. */
export function chunkEnd(buf: Buffer, start: number): number {
  if (buf.length - start <= PIPE_BUF) return buf.length;
  const last = buf.lastIndexOf(NEWLINE, start + PIPE_BUF - 1);
  if (last >= start) return last + 1;
  const next = buf.indexOf(NEWLINE, start + PIPE_BUF);
  return next < 0 ? buf.length : next + 1;
}

/** How often a backed-up stream is looked at: 'drain' comes only after a write() that returned false. */
const DRAIN_POLL_MS = 5;

/** Resolves when the stream holds nothing any more, fails, or `ms` passed. */
function drained(stream: NodeJS.WritableStream & { writableLength: number; destroyed: boolean }, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const deadline = Date.now() + ms;
    const done = (): void => {
      clearInterval(poll);
      stream.removeListener('drain', done);
      stream.removeListener('close', done);
      stream.removeListener('error', done);
      resolve();
    };
    const poll = setInterval(() => {
      if (stream.writableLength === 0 || stream.destroyed || Date.now() >= deadline) done();
    }, DRAIN_POLL_MS).unref();
    stream.once('drain', done);
    stream.once('close', done);
    stream.once('error', done);
  });
}

function writeAllSync(fd: number, buf: Buffer): void {
  for (let done = 0; done < buf.length; ) {
    const n = fs.writeSync(fd, buf, done);
    if (n === 0) throw Object.assign(new Error('no space for the header'), { code: 'ENOSPC' });
    done += n;
  }
}
