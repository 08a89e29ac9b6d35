/**
 * When the live file rolls: a time boundary passed or the size is crossed, and not while a refused rename
 * or another process's claim is being waited out. Pure: it reads only the clock it is given, and it is
 * told what happened (rolled, refused, claimed elsewhere); the writer does the renaming.
 *
 *   boundary timer -> boundaryTimerFired() -> dueBoundary
 *   before a write -> isDue(file) -> roll -> rolled() | refused(now) | claimedElsewhere(now)
 */
import { latestBoundary, nextBoundary } from './roll-schedule.js';

/** After another process claimed the roll: look again this much later (a rename takes far less). */
export const CLAIM_WAIT_MS = 10;
/** File birth times come from the kernel's coarse clock: up to a tick behind Date.now(). */
export const BIRTH_MARGIN_MS = 50;
/** Leftovers of processes that died mid-roll are looked for after a roll, at most this often. */
export const SWEEP_EVERY_MS = 10 * 60_000;
/** The longest delay setTimeout takes. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface RollPolicyOptions {
  /** As TcpinfoOptions; `retryMs`: how long a refused rename waits before the next try. */
  rollingEnabled: 0 | 1 | 2 | 3;
  rollingOffsetHr: number;
  rollingIntervalSec: number;
  rollingSize: number;
  retryMs: number;
  /** Milliseconds since the epoch. Default: Date.now(). */
  clock?: () => number;
}

/** What the policy needs to know of the live file. */
export interface SizedFile {
  size: number;
  /** The file holds lines besides the header. */
  hasRecords: boolean;
}

export class RollPolicy {
  readonly byTime: boolean;
  readonly bySize: boolean;
  private readonly rollingSize: number;
  private readonly offsetHr: number;
  private readonly intervalSec: number;
  private readonly retryMs: number;
  private readonly clock: () => number;
  /** The time boundary that passed and has not been rolled at, or 0. */
  dueBoundary = 0;
  private nextBoundaryMs = 0;
  /** After a rename failed: no new attempt before this time (ms), or 0. */
  private retryAt = 0;
  /** After another process claimed the roll: no new attempt before this time (ms), or 0. */
  private claimWaitUntil = 0;
  private lastSweepMs = 0;

  constructor(options: RollPolicyOptions) {
    this.byTime = (options.rollingEnabled & 1) !== 0;
    this.bySize = (options.rollingEnabled & 2) !== 0;
    this.rollingSize = options.rollingSize;
    this.offsetHr = options.rollingOffsetHr;
    this.intervalSec = options.rollingIntervalSec;
    this.retryMs = options.retryMs;
    this.clock = options.clock ?? (() => Date.now());
  }

  /** Aim at the next time boundary; the delay for the timer, in ms. */
  armBoundary(): number {
    const now = this.clock();
    this.nextBoundaryMs = nextBoundary(now, this.offsetHr, this.intervalSec);
    return Math.min(this.nextBoundaryMs - now, MAX_TIMER_MS);
  }

  /** The boundary timer fired. Timers are monotonic, boundaries wall-clock: after a clock step it may be early (false;
   * wait `msToBoundary()` more). Else the latest boundary passed is due (once after a sleep), the next is aimed at: true. */
  boundaryTimerFired(): boolean {
    const now = this.clock();
    if (this.nextBoundaryMs > now) return false;
    this.dueBoundary = latestBoundary(this.nextBoundaryMs, now, this.offsetHr, this.intervalSec);
    return true;
  }

  /** Delay until the boundary aimed at, for the timer, in ms. */
  msToBoundary(): number {
    return Math.min(this.nextBoundaryMs - this.clock(), MAX_TIMER_MS);
  }

  /** A roll is due for this file (the writer checks first that it is a regular file, open, not mid-line). */
  isDue(file: SizedFile): boolean {
    if (this.retryAt !== 0 && this.clock() < this.retryAt) return false;
    if (this.claimWaitUntil !== 0) {
      if (this.clock() < this.claimWaitUntil) return false;
      this.claimWaitUntil = 0;
    }
    return this.dueBoundary !== 0 || this.isPastSize(file);
  }

  isPastSize(file: SizedFile): boolean {
    return this.bySize && file.hasRecords && file.size > this.rollingSize;
  }

  /** Bytes the file takes before it passes the size (Infinity when not rolling by size). */
  roomBeforeSize(size: number): number {
    return this.bySize ? Math.max(this.rollingSize - size, 0) : Infinity;
  }

  /** The file, begun at `startMs`, was made at `boundary` or after: another process rolled at it. */
  rolledElsewhere(boundary: number, startMs: number): boolean {
    return boundary !== 0 && startMs > boundary - BIRTH_MARGIN_MS;
  }

  /** The end in the rolled name: a time roll's boundary; a size roll's, or a retried one's, `now`. */
  rollEnd(boundary: number, now: number): number {
    return boundary !== 0 && this.retryAt === 0 ? boundary : now;
  }

  /** The roll at `boundary` (the due one when it began, or 0) is done: by us, another process, or moot. */
  rolled(boundary: number): void {
    if (this.dueBoundary === boundary) this.dueBoundary = 0;
    this.retryAt = 0;
    this.claimWaitUntil = 0;
  }

  /** A file with only its header at the due boundary does not roll; its period starts again there. */
  restartPeriod(): void {
    this.dueBoundary = 0;
  }

  /** The rename failed: tried again `retryMs` after `now`. */
  refused(now: number): void {
    this.retryAt = now + this.retryMs;
  }

  /** Another process claimed the roll: look again CLAIM_WAIT_MS after `now`. */
  claimedElsewhere(now: number): void {
    this.claimWaitUntil = now + CLAIM_WAIT_MS;
  }

  /** A refused rename or a claim is being waited out; `waitEnd` says until when. */
  get waiting(): boolean {
    return this.retryAt !== 0 || this.claimWaitUntil !== 0;
  }

  get waitEnd(): number {
    return Math.max(this.retryAt, this.claimWaitUntil);
  }

  /** After a roll at `now`: time to look for leftovers of processes that died mid-roll (at most every 10 min). */
  sweepDue(now: number): boolean {
    if (now - this.lastSweepMs < SWEEP_EVERY_MS) return false;
    this.lastSweepMs = now;
    return true;
  }
}
