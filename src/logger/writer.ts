/**
 * The log writer. Lines from the hot path are appended to one in-memory batch (a string). One pump at a
 * time takes the batch (as bytes) and writes it, at most `flushMs` after its first line (at once when it is
 * large), each write whole lines (rolling by size, 256 KiB at most), and between two writes rolls the file
 * when a time boundary or the size says so:
 *
 *   write(line) -> batch -> pump: [open] -> [roll if due] -> take -> [live name still ours? its size] -> fs.write
 *
 * Several processes may write the same file, each with a writer of its own (live-file.ts says how):
 * they all see the same time boundaries and, by the look each takes before a write, the same size; the
 * one that claims the file renames it, and the others follow the live name to the new file.
 *
 * Bounded: the lines waiting (the batch and the bytes being written) never exceed `queueLines` lines nor
 * `queueBytes` bytes (characters of the batch, which are bytes for the ASCII lines are made of); past
 * either, lines are dropped and counted. A fault at run time (directory gone or unwritable, disk full, a rename
 * refused) stops only the pump: lines wait in the queue, the fault is reported once ('warning' here and
 * process.emitWarning), and a timer retries every `retryMs` until it clears. A write reports the bytes
 * that reached the file, so every line lands once, in order and whole, however a fault cuts a write short.
 * (With other processes writing the file, a line the full disk cut in two is completed by this process's
 * next write; should another process's write land between the two parts, that line is torn.)
 *
 * The rename and reopen are ours, not rotating-file-stream's or sonic-boom's: docs/design.md says why.
 */
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import os from 'node:os';
import { TcpinfoConfigError } from '../config/options.js';
import { unwatchProcessEnd, watchProcessEnd } from '../lifecycle/process-hooks.js';
import { ignore } from './fs-async.js';
import { pruneRolled } from './retention.js';
import { failedWriting, LiveFile, LOG_FILE_MODE } from './live-file.js';
import { latestBoundary, nextBoundary } from './roll-schedule.js';
import { sweepLeftovers } from './roll-claim.js';
import { StdioFile, stdioName } from './stream-sink.js';


export interface LogWriterOptions {
  /** Absolute path of the log file. */
  file: string;
  /** Header line (with its newline) written at the top of every new file. */
  header: string;
  /** Lines that may wait in memory before further lines are dropped. */
  queueLines: number;
  /** Bytes of lines that may wait in memory before further lines are dropped. Default 16 MiB. */
  queueBytes?: number;
  /** Longest a line waits before its batch is written, in ms. Default 20. */
  flushMs?: number;
  /** Rolling, as the options: 0 off, 1 by time, 2 by size, 3 by time or size. */
  rollingEnabled: 0 | 1 | 2 | 3;
  /** Hour of the local day where time boundaries start, 0..23. */
  rollingOffsetHr: number;
  /** Seconds between time boundaries; a divisor of 86400. */
  rollingIntervalSec: number;
  /** Bytes past which the live file rolls. */
  rollingSize: number;
  /** Rolled files of this log kept: after a roll, the oldest beyond are removed. 0 (default): all kept. */
  rollingMaxCount?: number;
  /** How often a writer held up by a fault tries again, in ms. Default 1000. */
  retryMs?: number;
  /** Host name in rolled file names. Default `os.hostname()`. */
  hostname?: string;
  /** Mode of the log files created, whatever the umask. Default 0640. */
  fileMode?: number;
}

export interface LogWriterStats {
  /** Lines handed to the writer and accepted. */
  queued: number;
  /** Lines written to the file. */
  written: number;
  /** Lines dropped because the queue was full (or the writer closed). */
  dropped: number;
  /** Lines accepted and then lost: still waiting for a fault to clear at close or exit, or cut by one. */
  lost: number;
  /** Faults met: a write, open or rename that failed (a fault that persists counts once). */
  writeErrors: number;
  /** Files rolled. */
  rolls: number;
}

const DEFAULT_FLUSH_MS = 20;
const DEFAULT_QUEUE_BYTES = 16 * 1024 * 1024;
const DEFAULT_RETRY_MS = 1000;
/** A batch this large is written at once rather than waiting for the timer. */
const EAGER_BATCH_CHARS = 256 * 1024;
/**
 * A write to a file takes about this much at most (whole lines; more only for a single longer line).
 * Rolling by size, other processes appending to the file see its size grow in steps no larger, so a file
 * they roll passes the size by no more than that each. And it bounds what one write holds: a write(2) is
 * cut short only by a full disk or a fatal signal (SIGKILL), between two pages, so the lines before the
 * cut are whole in the file, the one it falls in is torn, and those after it are not there at all (written
 * whole by the next write, or lost with the process). However lines are batched, a crash tears at most
 * the one line it fell in, and the next writer's newline check (live-file.ts) keeps it from the next.
 */
const MAX_WRITE_BYTES = 256 * 1024;
/**
 * A write to anything else (a FIFO, a pipe) takes at most this much, whole lines (a longer line alone):
 * PIPE_BUF, up to which a write to a pipe is atomic. It never interleaves with another writer's, and on a
 * pipe opened O_NONBLOCK it lands whole or not at all (EAGAIN): a reader that stalls sees no torn line.
 */
const PIPE_WRITE_BYTES = 4096;
/** close() writes out what it can for about this long, then gives up on the rest (counted in `lost`). */
const CLOSE_WAIT_MS = 1000;
/** A pipe with no room (EAGAIN) is tried again this soon, then twice as late each time, up to retryMs. */
const STALL_FIRST_MS = 10;
/** Errors at start-up that are the user's to fix (a path, a permission): attach() throws them. */
const USER_ERRORS = new Set(['EACCES', 'EPERM', 'ENOENT', 'ENOTDIR', 'EISDIR', 'EROFS', 'ELOOP', 'ENAMETOOLONG']);
/** After another process claimed the roll: look again this much later (a rename takes far less). */
const CLAIM_WAIT_MS = 10;
/**
 * A file made by another process's roll at a boundary has a birth time at or after it, less up to one
 * tick of the kernel's coarse clock, which file times are taken from: Date.now() may be a few ms ahead.
 */
const BIRTH_MARGIN_MS = 50;
/** Leftovers of processes that died mid-roll are looked for after a roll, at most this often. */
const SWEEP_EVERY_MS = 10 * 60_000;
/** The longest delay setTimeout takes. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const NEWLINE = 0x0a;

/** What is reported once until it clears. */
const FAULT_OPEN = 1;
const FAULT_WRITE = 2;
const FAULT_ROLL = 4;
const QUEUE_FULL = 8;
const FAULT_RETENTION = 16;

const WARNING_CODES: Record<number, string> = {
  [FAULT_OPEN]: 'TCPINFO_LOG_OPEN_FAILED',
  [FAULT_WRITE]: 'TCPINFO_WRITE_FAILED',
  [FAULT_ROLL]: 'TCPINFO_ROLL_FAILED',
  [QUEUE_FULL]: 'TCPINFO_QUEUE_FULL',
  [FAULT_RETENTION]: 'TCPINFO_RETENTION_FAILED',
};

export class LogWriter extends EventEmitter {
  readonly file: string;
  readonly stats: LogWriterStats = { queued: 0, written: 0, dropped: 0, lost: 0, writeErrors: 0, rolls: 0 };
  private readonly live: LiveFile | StdioFile;
  private readonly queueLimit: number;
  private readonly queueBytes: number;
  private readonly maxRolled: number;
  private readonly hostname: string;
  private readonly flushMs: number;
  private readonly retryMs: number;
  private readonly rollBySize: boolean;
  private readonly rollingSize: number;
  private readonly offsetHr: number;
  private readonly intervalSec: number;
  /** Lines the pump has not taken yet. */
  private batch = '';
  private batchLines = 0;
  /**
   * Lines the pump took, as bytes, oldest first: taken from the batch at every step (a string that grew
   * over many steps would cost the garbage collector far more than the bytes), written a part at a time.
   */
  private taken: Buffer[] = [];
  private takenLines: number[] = [];
  /** The bytes of the write under way, or the rest of one a fault cut short, and their lines. */
  private pending: Buffer | null = null;
  private headLines = 0;
  /** Lines taken and not written yet: in `pending` and in `taken`. */
  private pendingLines = 0;
  /** Their bytes. */
  private heldBytes = 0;
  /** `pending` begins inside a line whose start is already in the file. */
  private pendingMidLine = false;
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
  /** Bits of what has been reported and has not cleared since. */
  private reported = 0;
  /** The time boundary that passed and has not been rolled at, or 0. */
  private timeRollDue = 0;
  private nextBoundaryMs = 0;
  /** After a rename failed: no new attempt before this time (ms), or 0. */
  private rollRetryAt = 0;
  /** After another process claimed the roll: no new attempt before this time (ms), or 0. */
  private rollWaitUntil = 0;
  private lastSweepMs = 0;
  /** Period start for the next file the pump opens (the end of the roll before it), or 0 for now. */
  private nextStartMs = 0;
  private flushTimer: NodeJS.Timeout | null = null;
  /** Before this time (ms), a small batch waits for the flush timer rather than being written at once. */
  private nextWriteAt = 0;
  private rollTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private closing: Promise<void> | null = null;
  /** No more lines are taken. */
  private closed = false;
  /** The file is closed; nothing more happens. */
  private finished = false;
  private idleWaiters: Array<() => void> = [];

  constructor(options: LogWriterOptions) {
    super();
    this.file = options.file;
    this.queueLimit = options.queueLines;
    this.queueBytes = options.queueBytes ?? DEFAULT_QUEUE_BYTES;
    this.maxRolled = options.rollingMaxCount ?? 0;
    this.hostname = options.hostname ?? os.hostname();
    this.flushMs = options.flushMs ?? DEFAULT_FLUSH_MS;
    this.retryMs = options.retryMs ?? DEFAULT_RETRY_MS;
    this.rollingSize = options.rollingSize;
    this.offsetHr = options.rollingOffsetHr;
    this.intervalSec = options.rollingIntervalSec;
    const stdio = stdioName(options.file);
    this.live = stdio !== undefined
      ? new StdioFile(stdio, options.header)
      : new LiveFile(options.file, options.header, this.hostname, options.fileMode ?? LOG_FILE_MODE);
    try {
      this.live.openSync(Date.now());
    } catch (err) {
      // What the user got wrong stops start-up; the world's faults (a full disk, no inodes left, EIO, a FIFO
      // with no reader yet) do not: reported once, lines wait, and the file is opened once it can be.
      if (isUserError(err)) throw startupError(this.file, err);
      this.fault(faultOf(err), err);
      this.retryTimer = setTimeout(this.onRetry, this.retryDelay).unref();
    }
    this.rollBySize = (options.rollingEnabled & 2) !== 0;
    if ((options.rollingEnabled & 1) !== 0 && this.live.regular) this.armRollTimer();
    watchProcessEnd(this);
  }

  /** Queue one line (with its newline). False when it was dropped: queue full, or writer closed. */
  write(line: string): boolean {
    if (this.closed || this.batchLines + this.pendingLines >= this.queueLimit || this.batch.length + this.heldBytes + line.length > this.queueBytes) {
      this.stats.dropped++;
      if ((this.reported & QUEUE_FULL) === 0 && !this.closed) this.report(QUEUE_FULL, undefined);
      return false;
    }
    // Lines are counted and cut at newlines, so each must end with one. Reading that character also makes
    // V8 flatten the line now (a line built with + is a tree of ~45 small strings until something reads
    // it), so what waits holds ~190 bytes a line instead of ~900 and the pieces die young (bench: memory).
    if (line.charCodeAt(line.length - 1) !== NEWLINE) line += '\n';
    this.batch += line;
    this.batchLines++;
    this.stats.queued++;
    if (!this.pumping && !this.blocked) {
      if (this.batch.length >= EAGER_BATCH_CHARS) this.kick();
      else if (this.flushTimer === null) this.flushTimer = setTimeout(this.onFlushTimer, this.flushMs).unref();
    } else if (this.batch.length >= EAGER_BATCH_CHARS) {
      // The pump is held up (a slow or stalled disk, a fault): what waits is kept as bytes, which take a
      // byte a character, rather than as a string of lines, which takes several times that (bench: memory).
      this.takeBatch();
    }
    return true;
  }

  /**
   * Resolves once every line queued so far is in the file, or the writer is held up by a fault (the
   * lines then wait in memory for it to clear; `stats` tells).
   */
  flush(): Promise<void> {
    if (!this.pumping && (this.blocked || this.finished || (this.batchLines === 0 && this.pendingLines === 0 && !this.rollIsDue()))) {
      return Promise.resolve();
    }
    return this.pumped();
  }

  /** Write out everything queued, then close the file. Lines written after this are dropped. */
  close(): Promise<void> {
    if (this.closing === null) this.closing = this.finish();
    return this.closing;
  }

  /** Best effort at process exit: whatever is queued goes out synchronously. */
  flushSync(): void {
    if (this.finished) return;
    const takePending = !this.writing && this.pending !== null;
    const lines = this.batchLines + this.pendingLines - (takePending ? 0 : this.headLines);
    if (lines === 0) return;
    const parts = takePending ? [this.pending as Buffer, ...this.taken] : this.taken;
    const buf = Buffer.concat([...parts, Buffer.from(this.batch)]);
    this.batch = '';
    this.batchLines = 0;
    this.taken = [];
    this.takenLines = [];
    if (takePending) {
      this.pending = null;
      this.headLines = 0;
    }
    this.pendingLines = this.headLines;
    this.heldBytes = this.pending === null ? 0 : this.pending.length;
    const done = this.live.fd < 0 ? 0 : this.live.writeSync(buf);
    const written = done === buf.length ? lines : countLines(buf, done);
    this.stats.written += written;
    this.stats.lost += lines - written;
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
    this.rollTimer = null;
    const now = Date.now();
    if (this.nextBoundaryMs > now) {
      // The timer runs on the monotonic clock, boundaries on the wall clock; after a clock step, wait for the wall clock.
      this.rollTimer = setTimeout(this.onBoundary, Math.min(this.nextBoundaryMs - now, MAX_TIMER_MS)).unref();
      return;
    }
    // The latest boundary passed counts: after a sleep or a clock step, or with a roll still waiting for a
    // refused rename, the file rolls once, and a file without lines starts its period at the latest.
    this.timeRollDue = latestBoundary(this.nextBoundaryMs, now, this.offsetHr, this.intervalSec);
    this.armRollTimer();
    if (!this.blocked) this.kick();
  };

  private armRollTimer(): void {
    const now = Date.now();
    this.nextBoundaryMs = nextBoundary(now, this.offsetHr, this.intervalSec);
    this.rollTimer = setTimeout(this.onBoundary, Math.min(this.nextBoundaryMs - now, MAX_TIMER_MS)).unref();
  }

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
    if (!this.finished && (this.blocked || this.rollRetryAt !== 0 || this.rollWaitUntil !== 0) && this.retryTimer === null) {
      const delay = this.blocked ? this.retryDelay : Math.max(this.rollRetryAt, this.rollWaitUntil) - Date.now();
      this.retryTimer = setTimeout(this.onRetry, Math.max(delay, 1)).unref();
    }
    if (this.batchLines === 0 && this.pendingLines === 0) this.cleared(QUEUE_FULL);
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** The pump's next move; false when there is nothing more it can do for now. */
  private async step(): Promise<boolean> {
    const live = this.live;
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
      this.cleared(FAULT_OPEN);
    }
    if (this.rollIsDue()) {
      await this.roll();
      return true;
    }
    // Lines that came during the last write wait for the flush timer, unless they are many or someone
    // waits for them: on a busy server one write (and one stat) per flushMs, not one per turn of the loop
    // (each a trip to the thread pool: measured, hundreds a second cost more CPU than the lines themselves).
    const now = Date.now();
    if (now < this.nextWriteAt && this.idleWaiters.length === 0 && this.pending === null && this.taken.length === 0 && this.batch.length < EAGER_BATCH_CHARS) {
      if (this.flushTimer === null) this.flushTimer = setTimeout(this.onFlushTimer, this.nextWriteAt - now).unref();
      return false;
    }
    this.takeBatch();
    if (this.pendingLines === 0) return false;
    // One stat per write, not per line: a file whose name was removed, rolled by another process, or whose
    // directory went, would take lines unseen; and the size it gives includes what other processes wrote.
    if (!(await live.isInPlace())) {
      await this.follow();
      return true;
    }
    if (this.isPastSize() && this.rollIsDue()) {
      // Other processes took it past the size since the last look: these lines go to the next file.
      await this.roll();
      return true;
    }
    if (this.pending === null) this.takeNextWrite();
    return this.writePending();
  }

  /** Move the batch to `taken`, as bytes. */
  private takeBatch(): void {
    if (this.batchLines === 0) return;
    const bytes = Buffer.from(this.batch);
    this.heldBytes += bytes.length;
    this.taken.push(bytes);
    this.takenLines.push(this.batchLines);
    this.pendingLines += this.batchLines;
    this.batch = '';
    this.batchLines = 0;
  }

  /**
   * Move the next write's bytes from `taken` to `pending`: whole lines, all of them but rolling by size.
   * Rolling by size, about MAX_WRITE_BYTES at most, and only up to the line that takes the file past the
   * size (as last seen): the file rolls right after it, so a rolled file passes the size by less than a
   * line (by less than a write per process when several write it).
   */
  private takeNextWrite(): void {
    const regular = this.live.regular;
    let limit = regular ? MAX_WRITE_BYTES : PIPE_WRITE_BYTES;
    if (this.rollBySize && regular) limit = Math.min(limit, Math.max(this.rollingSize - this.live.size, 0));
    const first = this.taken[0];
    if (first.length > (regular ? limit + 1 : limit)) {
      const cut = regular ? first.indexOf(NEWLINE, limit) : lastLineEnd(first, limit);
      if (cut >= 0 && cut + 1 < first.length) {
        const lines = countLines(first, cut + 1);
        this.pending = first.subarray(0, cut + 1);
        this.headLines = lines;
        this.taken[0] = first.subarray(cut + 1);
        this.takenLines[0] -= lines;
        return;
      }
    }
    // Small parts (batches taken while a write was under way) are joined, up to the limit.
    let count = 1;
    let bytes = first.length;
    let lines = this.takenLines[0];
    while (count < this.taken.length && bytes + this.taken[count].length <= limit) {
      bytes += this.taken[count].length;
      lines += this.takenLines[count];
      count++;
    }
    this.pending = count === 1 ? first : Buffer.concat(this.taken.slice(0, count), bytes);
    this.headLines = lines;
    this.taken.splice(0, count);
    this.takenLines.splice(0, count);
  }

  /** One write of `pending`; its lines count as written once all their bytes are in. */
  private async writePending(): Promise<boolean> {
    const pending = this.pending as Buffer;
    let n: number;
    this.writing = true;
    try {
      n = await this.live.write(pending);
    } catch (err) {
      this.writing = false;
      return this.writeFailed(err);
    }
    this.writing = false;
    // close() gave up waiting for this write (its lines counted lost): nothing more to do.
    if (this.finished) return false;
    this.stalledSince = 0;
    if (n === pending.length) {
      this.nextWriteAt = Date.now() + this.flushMs;
      this.stats.written += this.headLines;
      this.pendingLines -= this.headLines;
      this.heldBytes -= pending.length;
      this.headLines = 0;
      this.pending = null;
      this.pendingMidLine = false;
      this.cleared(FAULT_WRITE);
      return true;
    }
    if (n === 0) return this.fault(FAULT_WRITE, Object.assign(new Error('the write took no bytes'), { code: 'EIO' }));
    // Cut short (the disk filled up on the way): keep exactly the bytes that did not land, to write next.
    const lines = countLines(pending, n);
    this.stats.written += lines;
    this.headLines -= lines;
    this.pendingLines -= lines;
    this.heldBytes -= n;
    this.pendingMidLine = pending[n - 1] !== NEWLINE;
    this.pending = pending.subarray(n);
    return true;
  }

  private rollIsDue(): boolean {
    const live = this.live;
    // Never between the two parts of a line a fault cut in two: the line would be torn across files.
    if (this.pendingMidLine || !live.regular || live.fd < 0) return false;
    if (this.rollRetryAt !== 0 && Date.now() < this.rollRetryAt) return false;
    if (this.rollWaitUntil !== 0) {
      if (Date.now() < this.rollWaitUntil) return false;
      this.rollWaitUntil = 0;
    }
    return this.timeRollDue !== 0 || this.isPastSize();
  }

  private isPastSize(): boolean {
    return this.rollBySize && this.live.hasRecords && this.live.size > this.rollingSize;
  }

  private async roll(): Promise<void> {
    const live = this.live;
    const now = Date.now();
    const boundary = this.timeRollDue;
    // A fresh look first: another process may have rolled the file, or written to it, since the last batch.
    if (!(await live.isInPlace())) {
      await this.follow();
      return;
    }
    if (boundary !== 0 && live.startMs > boundary - BIRTH_MARGIN_MS) {
      // The file began at the boundary or after it: another process rolled at it, and this one followed.
      live.startMs = Math.max(live.startMs, boundary);
      this.rollDone(boundary);
      return;
    }
    if (!live.hasRecords) {
      // Only the header: ATS leaves no empty rolled files behind; the file's period starts again here.
      live.startMs = boundary;
      this.timeRollDue = 0;
      return;
    }
    // A time roll is named after its boundary; a size roll, or one retried after a refused rename, after now.
    const end = boundary !== 0 && this.rollRetryAt === 0 ? boundary : now;
    let rolledTo: string | null;
    try {
      rolledTo = await live.rollAway(end);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        // The live name is gone (removed, or its directory): nothing to roll; follow the name.
        this.rollDone(boundary);
        await this.follow();
        return;
      }
      this.rollRetryAt = now + this.retryMs;
      this.fault(FAULT_ROLL, err);
      return;
    }
    if (rolledTo === null) {
      // Another process claimed this file: it is renaming it, or has, and the next look follows the name to
      // the new file (where a due time roll is found done). Until then, lines still go to this one.
      this.rollWaitUntil = now + CLAIM_WAIT_MS;
      return;
    }
    this.rollDone(boundary);
    this.stats.rolls++;
    this.cleared(FAULT_ROLL);
    await live.close();
    this.nextStartMs = end;
    if (this.maxRolled > 0) {
      // Off the pump's path too; a failure is reported once (until a later pruning works).
      pruneRolled(this.file, this.hostname, this.maxRolled, rolledTo).then(
        () => this.cleared(FAULT_RETENTION),
        (err: unknown) => {
          if ((this.reported & FAULT_RETENTION) === 0) this.report(FAULT_RETENTION, err);
        },
      );
    }
    if (now - this.lastSweepMs >= SWEEP_EVERY_MS) {
      this.lastSweepMs = now;
      // Off the pump's path: nothing waits for it, and a failure only leaves the leftovers for next time.
      sweepLeftovers(this.file).catch(ignore);
    }
  }

  private rollDone(boundary: number): void {
    if (this.timeRollDue === boundary) this.timeRollDue = 0;
    this.rollRetryAt = 0;
    this.rollWaitUntil = 0;
  }

  /**
   * The live name no longer leads to our file: removed, renamed by another tool, or its directory gone.
   * Let the file go and open the name anew on the next step, as `tail -F` follows a name.
   */
  private async follow(): Promise<void> {
    if (this.pendingMidLine) {
      // The start of that line is in the file we let go: the rest alone would be a torn line.
      const pending = this.pending as Buffer;
      const end = pending.indexOf(NEWLINE);
      this.stats.lost++;
      this.headLines--;
      this.pendingLines--;
      this.pendingMidLine = false;
      this.heldBytes -= end < 0 ? pending.length : end + 1;
      this.pending = end < 0 || end + 1 === pending.length ? null : pending.subarray(end + 1);
    }
    await this.live.close();
    this.nextStartMs = Date.now();
  }

  /** A write failed; false, to stop the pump. */
  private async writeFailed(err: unknown): Promise<false> {
    if (this.finished) return false;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return this.stall(err);
    this.stalledSince = 0;
    // Not a file (a FIFO whose reader went: EPIPE): this descriptor is done for; the name is opened anew,
    // once it has a reader again, and that reader gets whole lines under a header of its own.
    if (!this.live.regular) await this.follow();
    return this.fault(FAULT_WRITE, err);
  }

  /**
   * A pipe with no room for the write (EAGAIN: a reader slower than the log, or stalled): the lines wait,
   * as for a fault, and the write is tried again soon, then less and less often (up to retryMs). Reported
   * (once) only when it lasts retryMs: a reader catching up after a burst is no fault.
   */
  private stall(err: unknown): false {
    const now = Date.now();
    if (this.stalledSince === 0) {
      this.stalledSince = now;
      this.stallDelay = STALL_FIRST_MS;
    } else {
      this.stallDelay = Math.min(this.stallDelay * 2, this.retryMs);
    }
    if (now - this.stalledSince >= this.retryMs) this.fault(FAULT_WRITE, err);
    this.blocked = true;
    this.retryDelay = this.stallDelay;
    return false;
  }

  /** Record a fault (reported once until it clears); false, to stop the pump when it holds lines up. */
  private fault(kind: number, err: unknown): false {
    if (kind !== FAULT_ROLL) {
      this.blocked = true;
      this.retryDelay = this.retryMs;
    }
    if ((this.reported & kind) === 0) {
      this.stats.writeErrors++;
      this.report(kind, err);
    }
    return false;
  }

  private cleared(kind: number): void {
    this.reported &= ~kind;
  }

  private report(kind: number, err: unknown): void {
    this.reported |= kind;
    const code = WARNING_CODES[kind];
    const why = err === undefined ? '' : ` (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
    let message: string;
    if (kind === QUEUE_FULL) {
      message =
        `tcpinfo: the queue for ${this.file} is full (${this.queueLimit} lines or ${this.queueBytes} bytes); ` +
        'further lines are dropped until they are written';
    } else if (kind === FAULT_RETENTION) {
      message = `tcpinfo: removing old rolled files of ${this.file} (--rolling-max-count=${this.maxRolled}) failed${why}; tried again after the next roll`;
    } else if (kind === FAULT_ROLL) {
      message = `tcpinfo: rolling ${this.file} failed${why}; lines still go to it, and the roll is tried again every ${this.retryMs} ms`;
    } else {
      const what = kind === FAULT_OPEN ? 'opening' : 'writing';
      message =
        `tcpinfo: ${what} ${this.file} failed${why}; up to ${this.queueLimit} lines wait in memory, ` +
        `and logging resumes by itself once it works (tried every ${this.retryMs} ms)`;
    }
    const warning = Object.assign(new Error(message, { cause: err }), { code });
    // Outside the caller's stack: the hot path and the pump never run a listener's code, or its exceptions.
    process.nextTick(emitWarning, this, warning);
  }

  /**
   * Write out what can be within about CLOSE_WAIT_MS, whatever the file does (a stalled pipe, a hung disk),
   * then count the rest as lost and let the file go. A write still with the thread pool then is left to
   * finish on its own (its descriptor closed after it): close() does not wait for it.
   */
  private async finish(): Promise<void> {
    this.closed = true;
    const until = Date.now() + CLOSE_WAIT_MS;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_WAIT_MS);
    });
    await Promise.race([this.drain(until), deadline]);
    clearTimeout(timer);
    this.stats.lost += this.pendingLines + this.batchLines;
    this.pending = null;
    this.taken = [];
    this.takenLines = [];
    this.headLines = 0;
    this.pendingLines = 0;
    this.heldBytes = 0;
    this.batch = '';
    this.batchLines = 0;
    this.finished = true;
    for (const timer of [this.flushTimer, this.rollTimer, this.retryTimer]) if (timer !== null) clearTimeout(timer);
    this.flushTimer = this.rollTimer = this.retryTimer = null;
    unwatchProcessEnd(this);
    await this.live.close();
  }

  /** close()'s part before its deadline: everything queued written, if the file lets it. */
  private async drain(until: number): Promise<void> {
    await this.flush();
    // One last try for lines that wait for a fault to clear; a pipe with no room now may have some in a
    // moment, so a stall is tried again until the deadline.
    // (Not `this.blocked` as the test: a retry's pump under way clears it until it fails again.)
    for (let tries = 0; tries < 100 && !this.finished && (this.pendingLines > 0 || this.batchLines > 0); tries++) {
      await this.pumped();
      if (this.pendingLines + this.batchLines === 0 || this.stalledSince === 0 || Date.now() + STALL_FIRST_MS >= until) return;
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
function faultOf(err: unknown): number {
  return failedWriting(err) ? FAULT_WRITE : FAULT_OPEN;
}

/** The error attach() throws for a log file that cannot be opened at start-up. */
function startupError(file: string, err: unknown): Error {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ELOOP' && isSymlink(file)) {
    return new TcpinfoConfigError(
      [{
        option: '--log-file',
        value: file,
        allowed: 'is a symbolic link, and the log file is never opened through one (whoever can write the directory ' +
          'could point it at any file); give the path of the file itself (a symlinked directory is fine)',
      }],
      { cause: err },
    );
  }
  return new Error(`tcpinfo: --log-file=${file}: cannot open for appending (${e.code ?? e.message})`, { cause: err });
}

function isSymlink(file: string): boolean {
  try {
    return fs.lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

/** End of the last line within the first `limit` bytes of `buf`, or of the first line when it is longer. */
function lastLineEnd(buf: Buffer, limit: number): number {
  const end = buf.lastIndexOf(NEWLINE, limit - 1);
  return end >= 0 ? end : buf.indexOf(NEWLINE, limit);
}


function emitWarning(writer: LogWriter, warning: Error & { code: string }): void {
  process.emitWarning(warning.message, { code: warning.code });
  writer.emit('warning', warning);
}

/** Lines ended within the first `end` bytes of `buf`. */
function countLines(buf: Buffer, end: number): number {
  let lines = 0;
  for (let i = buf.indexOf(NEWLINE); i !== -1 && i < end; i = buf.indexOf(NEWLINE, i + 1)) lines++;
  return lines;
}
