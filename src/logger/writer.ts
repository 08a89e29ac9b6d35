/**
 * The log writer: lines from the hot path wait in a bounded queue; one pump at a time writes them to the
 * live file, whole lines a write, and rolls the file between two writes when the policy says so.
 *
 *   write(line) -> LineQueue (line-queue.ts)   bounded in lines and bytes; each line written or lost, once
 *                    |  flushMs after its first line (at once past 256 KiB)
 *                    v
 *   pump: [open] -> [roll if RollPolicy (roll-policy.ts) says] -> take -> [live name still ours?]
 *                -> cut whole lines -> write -> queue.wrote(bytes that landed)
 *                    |  a fault stops the pump; lines wait; FaultReports warns once; a timer retries
 *                    v
 *   LiveFile (live-file.ts), or StdioFile (stream-sink.ts) for stdout/stderr
 *
 * Why our own, not rotating-file-stream or sonic-boom: docs/design.md#why-not-rotating-file-stream-or-sonic-boom
 */
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import os from 'node:os';
import { dirname } from 'node:path';
import { stdioName } from '../config/stdio-name.js';
import { TcpinfoConfigError, withCode } from '../errors.js';
import { unwatchProcessEnd, watchProcessEnd } from '../lifecycle/process-end.js';
import { FAULT_OPEN, FAULT_RETENTION, FAULT_ROLL, FAULT_WRITE, type FaultKind, FaultReports, type FaultWarning, LINES_LOST, QUEUE_FULL } from './fault-reports.js';
import { ignore } from './fs-async.js';
import { LineQueue } from './line-queue.js';
import { failedWriting, LiveFile, LOG_FILE_MODE, LogFileRefused } from './live-file.js';
import { pruneRolled } from './retention.js';
import { sweepLeftovers } from './roll-claim.js';
import { RollPolicy } from './roll-policy.js';
import { PIPE_BUF, StdioFile } from './stream-sink.js';

/** As TcpinfoOptions (config/types.ts), where the names are the same. */
export interface LogWriterOptions {
  file: string;
  /** Header line (with its newline) written at the top of every new file. */
  header: string;
  queueLines: number;
  queueBytes?: number;
  /** Longest a line waits before its batch is written, in ms. Default 20. */
  flushMs?: number;
  rollingEnabled: 0 | 1 | 2 | 3;
  rollingOffsetHr: number;
  rollingIntervalSec: number;
  rollingSize: number;
  rollingMaxCount?: number;
  /** How often a writer held up by a fault tries again, in ms. Default 1000. */
  retryMs?: number;
  hostname?: string;
  fileMode?: number;
}

/** The file's counts in TcpinfoStats (attach.ts). */
export interface LogWriterStats {
  queued: number;
  written: number;
  dropped: number;
  lost: number;
  writeErrors: number;
  rolls: number;
}

const DEFAULT_FLUSH_MS = 20;
const DEFAULT_QUEUE_BYTES = 16 * 1024 * 1024;
const DEFAULT_RETRY_MS = 1000;
/** A batch this large is written at once rather than waiting for the timer. */
const EAGER_BATCH_BYTES = 256 * 1024;
/**
 * Whole lines a write, about this much at most: bounds how far other processes' rolls pass the size.
 * Why a crash tears at most one line: docs/design.md#whole-lines-one-torn-line-at-most
 */
const MAX_WRITE_BYTES = 256 * 1024;
/** close() writes out what it can for about this long, then gives up on the rest (counted in `lost`). */
const CLOSE_WAIT_MS = 1000;
/** A pipe with no room (EAGAIN) is tried again this soon, then twice as late each time, up to retryMs. */
const STALL_FIRST_MS = 10;
/** How often a signal's wait looks whether stdout has let the last chunk out. */
const STREAM_POLL_MS = 5;
/** Errors at start-up that are the user's to fix (a path, a permission): attach() throws them. */
const USER_ERRORS = new Set(['EACCES', 'EPERM', 'ENOENT', 'ENOTDIR', 'EISDIR', 'EROFS', 'ELOOP', 'ENAMETOOLONG']);

export class LogWriter extends EventEmitter {
  readonly file: string;
  readonly stats: LogWriterStats = { queued: 0, written: 0, dropped: 0, lost: 0, writeErrors: 0, rolls: 0 };
  private readonly live: LiveFile | StdioFile;
  private readonly queue: LineQueue;
  private readonly policy: RollPolicy;
  private readonly faults: FaultReports;
  private readonly hostname: string;
  private readonly flushMs: number;
  private readonly retryMs: number;
  private readonly maxRolled: number;
  private pumping = false;
  /** A write is with the thread pool: at exit its bytes may or may not land, so they are left alone. */
  private writing = false;
  /** The pump stopped on a fault; the retry timer restarts it. */
  private blocked = false;
  /** When the pump is blocked: how long until the next try, in ms. */
  private retryDelay = 0;
  /** Since when writes find a pipe with no room (EAGAIN), or 0; and the delay before the next look. */
  private stalledSince = 0;
  private stallDelay = STALL_FIRST_MS;
  private stallError: unknown = null;
  /** Period start for the next file the pump opens (the end of the roll before it), or 0 for now. */
  private nextStartMs = 0;
  /** Before this time (ms), a small batch waits for the flush timer rather than being written at once. */
  private nextWriteAt = 0;
  private flushTimer: NodeJS.Timeout | null = null;
  private rollTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private closing: Promise<void> | null = null;
  private finished = false;
  /** `stats.lost` when a signal's wait began: what the process's end costs is counted from it. */
  private lostAtSignal = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(options: LogWriterOptions) {
    super();
    this.file = options.file;
    this.maxRolled = options.rollingMaxCount ?? 0;
    this.hostname = options.hostname ?? os.hostname();
    this.flushMs = options.flushMs ?? DEFAULT_FLUSH_MS;
    this.retryMs = options.retryMs ?? DEFAULT_RETRY_MS;
    const queueBytes = options.queueBytes ?? DEFAULT_QUEUE_BYTES;
    this.queue = new LineQueue(options.queueLines, queueBytes, this.stats);
    this.policy = new RollPolicy({ ...options, retryMs: this.retryMs });
    const context = { file: this.file, queueLines: options.queueLines, queueBytes, rollingMaxCount: this.maxRolled, retryMs: this.retryMs };
    const stats = this.stats;
    this.faults = new FaultReports(context, (warning, now) => emitWarning(this, warning, now), () => stats.dropped + stats.lost);
    const stdio = stdioName(options.file);
    this.live = stdio !== undefined
      ? new StdioFile(stdio, options.header)
      : new LiveFile(options.file, options.header, this.hostname, options.fileMode ?? LOG_FILE_MODE);
    try {
      this.live.openSync(Date.now());
    } catch (err) {
      // The user's mistakes stop start-up; the world's faults (disk full, EIO, a FIFO with no reader) do not.
      if (isUserError(err)) throw startupError(this.file, err);
      this.fault(faultOf(err), err);
      this.retryTimer = setTimeout(this.onRetry, this.retryDelay).unref();
    }
    if (this.policy.byTime && this.live.regular) this.rollTimer = setTimeout(this.onBoundary, this.policy.armBoundary()).unref();
    watchProcessEnd(this);
  }

  /** Queue one line (with its newline). False when it was dropped: queue full, or writer closed. */
  write(line: string): boolean {
    return this.accepted(this.queue.add(line));
  }

  /**
   * A line written straight into the queue's bytes (the text formatter's way: no string made): room for at most
   * `max` bytes in the returned buffer from `lineStart`, then commitLine(end). Null when the line is dropped.
   */
  reserveLine(max: number): Buffer | null {
    const buffer = this.queue.reserve(max);
    if (buffer === null) this.refused();
    return buffer;
  }

  /** Where the reserved line starts in reserveLine's buffer. */
  get lineStart(): number {
    return this.queue.fill;
  }

  /** The reserved line ends at `end` (its newline included). False when it was dropped (the queue's bytes full). */
  commitLine(end: number): boolean {
    return this.accepted(this.queue.commit(end));
  }

  /** After a line was offered: the batch's bytes, or -1 when it was dropped. Starts a write, or its timer. */
  private accepted(batchBytes: number): boolean {
    const queue = this.queue;
    if (batchBytes < 0) {
      this.refused();
      return false;
    }
    if (!this.pumping && !this.blocked) {
      // holdsTaken: a full chunk went to the taken bytes (queue.reserve): time to write.
      if (batchBytes >= EAGER_BATCH_BYTES || queue.holdsTaken) this.kick();
      else if (this.flushTimer === null) this.flushTimer = setTimeout(this.onFlushTimer, this.flushMs).unref();
    } else if (batchBytes >= EAGER_BATCH_BYTES) {
      // Pump held up: what waits goes to the taken bytes, so the batch's chunk can be let go once written.
      queue.takeBatch();
    }
    return true;
  }

  private refused(): void {
    if (!this.queue.closed) this.faults.raise(QUEUE_FULL, undefined);
  }

  /** Resolves once every line queued so far is in the file, or the writer is held up by a fault. */
  flush(): Promise<void> {
    if (!this.pumping && (this.blocked || this.finished || (this.queue.waiting === 0 && !this.rollIsDue()))) {
      return Promise.resolve();
    }
    return this.pumped();
  }

  /** Write out everything queued, then close the file. Lines written after this are dropped. */
  close(): Promise<void> {
    if (this.closing === null) this.closing = this.finish();
    return this.closing;
  }

  /**
   * At SIGINT/SIGTERM: write out everything queued by `until` (a Date.now() time), through a stalled pipe
   * (flush() resolves at once while the writer backs off), and until the stream has let the last chunk out.
   */
  async flushUntil(until: number): Promise<void> {
    this.lostAtSignal = this.stats.lost;
    if (this.finished) return;
    await this.drain(until);
    while (this.live.unsentLines > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, STREAM_POLL_MS));
  }

  /**
   * The process dies of `signal` now (after flushSync): what is not out is lost. Counted, and reported
   * once with its number, before this returns.
   */
  abandon(signal: string, waitedMs: number): void {
    if (this.finished) return;
    // A write under way finds the writer finished, and leaves the counts alone.
    this.finished = true;
    this.queue.closed = true;
    const unsent = this.live.unsentLines;
    this.stats.written -= unsent;
    this.stats.lost += unsent;
    this.queue.discard();
    const lines = this.stats.lost - this.lostAtSignal;
    if (lines > 0) this.faults.raiseNow(LINES_LOST, this.stalledSince === 0 ? undefined : this.stallError, { lines, signal, waitedMs });
  }

  /** Best effort at process exit: whatever is queued goes out synchronously. */
  flushSync(): void {
    if (this.finished) return;
    const live = this.live;
    this.queue.writeAllSync(this.writing, (bytes) => (live.fd < 0 ? 0 : live.writeSync(bytes)));
  }

  private readonly onFlushTimer = (): void => {
    this.flushTimer = null;
    this.kick();
  };

  private readonly onRetry = (): void => {
    this.retryTimer = null;
    this.kick();
  };

  private readonly onBoundary = (): void => {
    const policy = this.policy;
    if (!policy.boundaryTimerFired()) {
      this.rollTimer = setTimeout(this.onBoundary, policy.msToBoundary()).unref();
      return;
    }
    this.rollTimer = setTimeout(this.onBoundary, policy.armBoundary()).unref();
    if (!this.blocked) this.kick();
  };

  private kick(): void {
    if (!this.pumping && !this.finished) void this.pump();
  }

  /** Resolves when the pump running now (or one started now) stops. */
  private pumped(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.kick();
    });
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    this.blocked = false;
    if (this.flushTimer !== null) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    try {
      while (!this.finished && (await this.step()));
    } catch (err) {
      // step() turns every file system error into a fault; anything else is a bug, and must not reach a request.
      this.fault(FAULT_WRITE, err);
    }
    this.pumping = false;
    if (!this.finished && (this.blocked || this.policy.waiting) && this.retryTimer === null) {
      const delay = this.blocked ? this.retryDelay : this.policy.waitEnd - Date.now();
      this.retryTimer = setTimeout(this.onRetry, Math.max(delay, 1)).unref();
    }
    // Room again for a burst, not only an empty queue: under steady load the queue is never empty at a pump's end.
    if (this.queue.hasRoomAgain) this.faults.clear(QUEUE_FULL);
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** The pump's next move; false when there is nothing more it can do for now. */
  private async step(): Promise<boolean> {
    const live = this.live;
    const queue = this.queue;
    if (live.fd < 0) {
      try {
        await live.open(this.nextStartMs || Date.now());
      } catch (err) {
        return this.fault(faultOf(err), err);
      }
      if (this.finished) {
        // close() stopped waiting for this open.
        await live.close();
        return false;
      }
      this.nextStartMs = 0;
      this.faults.clear(FAULT_OPEN);
    }
    if (this.rollIsDue()) {
      await this.roll();
      return true;
    }
    // One write (and stat) per flushMs, not per loop turn: hundreds of thread-pool trips a second cost more
    // CPU than the lines themselves (measured).
    const now = Date.now();
    if (now < this.nextWriteAt && this.idleWaiters.length === 0 && !queue.holdsTaken && queue.batchBytes < EAGER_BATCH_BYTES) {
      if (this.flushTimer === null) this.flushTimer = setTimeout(this.onFlushTimer, this.nextWriteAt - now).unref();
      return false;
    }
    queue.takeBatch();
    if (queue.heldLines === 0) return false;
    // A stat per write: the name may have gone or been rolled elsewhere; the size counts others' writes.
    const inPlace = await live.isInPlace();
    // While it looked, close() may have given up on the lines, or exit written them out: nothing left here.
    if (this.finished || queue.heldLines === 0) return false;
    if (!inPlace) {
      await this.follow();
      return true;
    }
    if (this.policy.isPastSize(live) && this.rollIsDue()) {
      // Other processes took it past the size since the last look: these lines go to the next file.
      await this.roll();
      return true;
    }
    if (queue.outgoing === null) {
      // By size: only up to the line that passes the size, so a rolled file passes it by less than a line.
      if (live.regular) queue.cutNextWrite(Math.min(MAX_WRITE_BYTES, this.policy.roomBeforeSize(live.size)), false);
      // PIPE_BUF: atomic on a pipe, and on O_NONBLOCK whole or not at all (EAGAIN).
      else queue.cutNextWrite(PIPE_BUF, true);
    }
    return this.writeOutgoing();
  }

  /** One write of the queue's outgoing bytes; its lines count as written once all their bytes are in. */
  private async writeOutgoing(): Promise<boolean> {
    const outgoing = this.queue.outgoing as Buffer;
    let n: number;
    this.writing = true;
    try {
      n = await this.live.write(outgoing);
    } catch (err) {
      this.writing = false;
      return this.writeFailed(err);
    }
    this.writing = false;
    // close() gave up waiting for this write (its lines counted lost): nothing more to do.
    if (this.finished) return false;
    this.stalledSince = 0;
    if (n === outgoing.length) {
      this.nextWriteAt = Date.now() + this.flushMs;
      this.queue.wrote(n);
      this.faults.clear(FAULT_WRITE);
      return true;
    }
    if (n === 0) return this.fault(FAULT_WRITE, Object.assign(new Error('the write took no bytes'), { code: 'EIO' }));
    // Cut short (the disk filled up on the way): the bytes that did not land are written next.
    this.queue.wrote(n);
    return true;
  }

  private rollIsDue(): boolean {
    const live = this.live;
    // Never between the two parts of a line a fault cut in two: the line would be torn across files.
    if (this.queue.outgoingMidLine || !live.regular || live.fd < 0) return false;
    return this.policy.isDue(live);
  }

  private async roll(): Promise<void> {
    const live = this.live;
    const policy = this.policy;
    const now = Date.now();
    const boundary = policy.dueBoundary;
    // A fresh look first: another process may have rolled the file, or written to it, since the last batch.
    if (!(await live.isInPlace())) {
      await this.follow();
      return;
    }
    if (policy.rolledElsewhere(boundary, live.startMs)) {
      // The file began at the boundary or after it: another process rolled at it, and this one followed.
      live.startMs = Math.max(live.startMs, boundary);
      policy.rolled(boundary);
      return;
    }
    if (!live.hasRecords) {
      // Only the header: ATS leaves no empty rolled files behind; the file's period starts again here.
      live.startMs = boundary;
      policy.restartPeriod();
      return;
    }
    const end = policy.rollEnd(boundary, now);
    let rolledTo: string | null;
    try {
      rolledTo = await live.rollAway(end);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        // The live name is gone (removed, or its directory): nothing to roll; follow the name.
        policy.rolled(boundary);
        await this.follow();
        return;
      }
      policy.refused(now);
      this.fault(FAULT_ROLL, err);
      return;
    }
    if (rolledTo === null) {
      // Another process is rolling it; the next look follows the name. Until then, lines go here.
      policy.claimedElsewhere(now);
      return;
    }
    policy.rolled(boundary);
    this.stats.rolls++;
    this.faults.clear(FAULT_ROLL);
    await live.close();
    this.nextStartMs = end;
    // Only in the directory held since start-up (a LiveFile's: rolling is for regular files).
    const held = live instanceof LiveFile ? live.dir : undefined;
    if (this.maxRolled > 0) {
      pruneRolled(this.file, this.hostname, this.maxRolled, rolledTo, held).then(
        () => this.faults.clear(FAULT_RETENTION),
        (err: unknown) => this.faults.raise(FAULT_RETENTION, err),
      );
    }
    // Off the pump's path, as pruning: a failure only leaves the leftovers for next time.
    if (policy.sweepDue(now)) sweepLeftovers(this.file, held).catch(ignore);
  }

  /** The live name no longer leads to our file: let it go and open the name anew, as `tail -F` does. */
  private async follow(): Promise<void> {
    // The start of a line cut in two is in the file we let go: the rest alone would be a torn line.
    this.queue.dropTornRest();
    await this.live.close();
    this.nextStartMs = Date.now();
  }

  /** A write failed; false, to stop the pump. */
  private async writeFailed(err: unknown): Promise<false> {
    if (this.finished) return false;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return this.stall(err);
    this.stalledSince = 0;
    // A FIFO whose reader went (EPIPE): reopen the name; the next reader gets a header of its own.
    if (!this.live.regular) await this.follow();
    return this.fault(FAULT_WRITE, err);
  }

  /**
   * A pipe with no room (EAGAIN): lines wait and the write is retried with backoff up to retryMs. Reported
   * only when it lasts retryMs: a reader catching up after a burst is no fault.
   */
  private stall(err: unknown): false {
    const now = Date.now();
    if (this.stalledSince === 0) {
      this.stalledSince = now;
      this.stallDelay = STALL_FIRST_MS;
    } else {
      this.stallDelay = Math.min(this.stallDelay * 2, this.retryMs);
    }
    this.stallError = err;
    if (now - this.stalledSince >= this.retryMs) this.fault(FAULT_WRITE, err);
    this.blocked = true;
    this.retryDelay = this.stallDelay;
    return false;
  }

  /** Record a fault (reported once until it clears); false, to stop the pump when it holds lines up. */
  private fault(kind: FaultKind, err: unknown): false {
    if (kind !== FAULT_ROLL) {
      this.blocked = true;
      this.retryDelay = this.retryMs;
    }
    if (this.faults.raise(kind, err)) this.stats.writeErrors++;
    return false;
  }

  /** Write out what can be within about CLOSE_WAIT_MS (a pipe may stall, a disk hang), then count the rest lost. */
  private async finish(): Promise<void> {
    this.queue.closed = true;
    const until = Date.now() + CLOSE_WAIT_MS;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_WAIT_MS);
    });
    await Promise.race([this.drain(until), deadline]);
    clearTimeout(timer);
    // Lines given up on behind a stall too short to have been reported yet: the loss is reported, never silent.
    if (this.stalledSince !== 0 && this.queue.waiting > 0 && !this.faults.isReported(FAULT_WRITE)) {
      this.fault(FAULT_WRITE, this.stallError);
      // Delivered (it waits a tick, and process warnings another) before close() resolves.
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.queue.discard();
    this.finished = true;
    for (const timer of [this.flushTimer, this.rollTimer, this.retryTimer]) if (timer !== null) clearTimeout(timer);
    this.flushTimer = this.rollTimer = this.retryTimer = null;
    unwatchProcessEnd(this);
    await this.live.close();
    if (this.live instanceof LiveFile) this.live.dir.close();
  }

  /** close()'s part before its deadline: everything queued written, if the file lets it. */
  private async drain(until: number): Promise<void> {
    await this.flush();
    // A stalled pipe may have room in a moment: retry until the deadline. (Not `this.blocked`: a retry's
    // pump under way clears it until it fails again.)
    for (let tries = 0; tries < 100 && !this.finished && this.queue.waiting > 0; tries++) {
      await this.pumped();
      if (this.queue.waiting === 0 || this.stalledSince === 0 || Date.now() + STALL_FIRST_MS >= until) return;
      await new Promise((resolve) => setTimeout(resolve, STALL_FIRST_MS));
    }
  }
}

/** A user's mistake at start-up, as opposed to a fault of the world (see USER_ERRORS). */
function isUserError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === undefined || USER_ERRORS.has(code);
}

/** The open failed, or a write while opening (the header, the newline after a torn line). */
function faultOf(err: unknown): FaultKind {
  return failedWriting(err) ? FAULT_WRITE : FAULT_OPEN;
}

/** Why a symlink at the log path is refused: start-up's error, and `tcpinfo check`'s. */
export const SYMLINK_REASON =
  'is a symbolic link, and the log file is never opened through one (whoever can write the directory ' +
  'could point it at any file); give the path of the file itself (a symlinked directory is fine)';

/** The error attach() throws for a log file that cannot be opened at start-up. */
function startupError(file: string, err: unknown): Error {
  const e = err as NodeJS.ErrnoException;
  if (err instanceof LogFileRefused) return new TcpinfoConfigError([{ option: '--log-file', value: file, reason: err.message }], { cause: err });
  if (e.code === 'ELOOP' && isSymlink(file)) {
    return new TcpinfoConfigError(
      [{
        option: '--log-file',
        value: file,
        reason: SYMLINK_REASON,
      }],
      { cause: err },
    );
  }
  const message = `tcpinfo: --log-file=${file}: cannot open for appending (${e.code ?? e.message})`;
  const why = directoryProblem(dirname(file), e.code);
  return withCode(new Error(why === undefined ? message : `${message}\n${why}\n${REMEDIES}`, { cause: err }), 'ERR_TCPINFO_LOG_OPEN');
}

/** What to do instead when the directory cannot take the file (a container's read-only image, the default ./tcpinfo.log). */
const REMEDIES =
  '  instead, log to standard output: --log-file=stdout --format=json (JSON tells its lines from the app\'s output)\n' +
  '  or into a directory this process can write: --log-dir=<dir> (a mounted volume, for example)';

/** Why the directory cannot take the log file, for the errors a path or a permission causes; undefined for the others. */
function directoryProblem(dir: string, code: string | undefined): string | undefined {
  if (code === 'EROFS') return `  ${dir} is on a read-only file system`;
  if (code === 'ENOENT') return `  the directory ${dir} does not exist`;
  if (code === 'ENOTDIR') return `  ${dir} is not a directory`;
  if (code === 'EACCES' || code === 'EPERM') return `  this process (uid ${process.geteuid?.() ?? '?'}) may not write the file or create it in ${dir}`;
  return undefined;
}

function isSymlink(file: string): boolean {
  try {
    return fs.lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

function emitWarning(writer: LogWriter, warning: FaultWarning, now = false): void {
  if (now) {
    // What process.emitWarning emits on the next tick, emitted at once: the process dies before that tick
    // (and an event loop turn would let stdout write lines already counted lost).
    process.emit('warning', Object.assign(new Error(warning.message), { name: 'Warning', code: warning.code }));
  } else {
    process.emitWarning(warning.message, { code: warning.code });
  }
  writer.emit('warning', warning);
}
