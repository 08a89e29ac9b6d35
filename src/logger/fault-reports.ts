/**
 * A writer's faults, each reported once until it clears (a full disk for an hour is one warning).
 *
 *   raise(kind, err) -> first since cleared? -> warning (code, message) -> next tick -> deliver
 *   raiseNow(...)    -> the same, delivered at once (the process dies before the next tick)
 *   clear(kind)      -> the next raise(kind) reports again; the last of the faults that hold lines up to clear
 *                       -> one report that logging works again: how long it did not, and the lines lost meanwhile
 */

/** What is reported once until it clears (bits). */
export const FAULT_OPEN = 1;
export const FAULT_WRITE = 2;
export const FAULT_ROLL = 4;
export const QUEUE_FULL = 8;
export const FAULT_RETENTION = 16;
/** Lines the process's end cost: a signal's wait ran out before they were written. */
export const LINES_LOST = 32;

/** Faults that hold lines up (or drop them): from the first reported until none is, one outage, whose end is reported. */
const HOLDING = FAULT_OPEN | FAULT_WRITE | QUEUE_FULL;
/** The code of the report that an outage ended (not a FaultKind: it is never raised). */
export const RECOVERED_CODE = 'TCPINFO_WRITE_RECOVERED';

export type FaultKind = typeof FAULT_OPEN | typeof FAULT_WRITE | typeof FAULT_ROLL | typeof QUEUE_FULL | typeof FAULT_RETENTION | typeof LINES_LOST;

export const WARNING_CODES: Record<FaultKind, string> = {
  [FAULT_OPEN]: 'TCPINFO_LOG_OPEN_FAILED',
  [FAULT_WRITE]: 'TCPINFO_WRITE_FAILED',
  [FAULT_ROLL]: 'TCPINFO_ROLL_FAILED',
  [QUEUE_FULL]: 'TCPINFO_QUEUE_FULL',
  [FAULT_RETENTION]: 'TCPINFO_RETENTION_FAILED',
  [LINES_LOST]: 'TCPINFO_LINES_LOST',
};

export type FaultWarning = Error & { code: string };

/** What the messages name: the file and the settings that bear on the fault. */
export interface FaultContext {
  file: string;
  queueLines: number;
  queueBytes: number;
  rollingMaxCount: number;
  retryMs: number;
}

/** What a LINES_LOST report says: how many, and what ended the process after how long a wait. */
export interface LostLines {
  lines: number;
  signal: string;
  waitedMs: number;
}

/** What the report of an outage's end says. */
export interface Outage {
  /** How long lines were held up, from the first report to the clearing of the last fault. */
  ms: number;
  /** The first fault's cause. */
  cause: unknown;
  /** Lines dropped or lost meanwhile. */
  lines: number;
}

export class FaultReports {
  /** Bits of what has been reported and has not cleared since. */
  private reported = 0;
  /** The outage under way: when its first fault was reported, its cause, and the lines lost before it. */
  private outageSince = 0;
  private outageCause: unknown = undefined;
  private lostBefore = 0;

  constructor(
    private readonly context: FaultContext,
    private readonly deliver: (warning: FaultWarning, now?: boolean) => void,
    /** Lines dropped or lost so far (the writer's counts). */
    private readonly linesLost: () => number = () => 0,
  ) {}

  /** Report `kind` unless it was reported and has not cleared since; true when reported now. */
  raise(kind: FaultKind, err: unknown, lost?: LostLines): boolean {
    if ((this.reported & kind) !== 0) return false;
    if ((kind & HOLDING) !== 0 && (this.reported & HOLDING) === 0) {
      this.outageSince = Date.now();
      this.outageCause = err;
      // A drop is counted before QUEUE_FULL is raised: the line that started this outage is in it.
      this.lostBefore = this.linesLost() - (kind === QUEUE_FULL ? 1 : 0);
    }
    this.reported |= kind;
    // Outside the caller's stack: the hot path and the pump never run a listener's code, or its exceptions.
    process.nextTick(this.deliver, warningOf(kind, err, this.context, lost));
    return true;
  }

  /** As raise(), delivered before it returns: at the process's last moment, when no tick comes. */
  raiseNow(kind: FaultKind, err: unknown, lost?: LostLines): void {
    if ((this.reported & kind) !== 0) return;
    this.reported |= kind;
    this.deliver(warningOf(kind, err, this.context, lost), true);
  }

  /** `kind` has cleared: its next occurrence is reported. The last of an outage's faults to clear reports its end. */
  clear(kind: FaultKind): void {
    const reported = this.reported;
    if ((reported & kind) === 0) return;
    this.reported = reported & ~kind;
    if ((kind & HOLDING) !== 0 && (this.reported & HOLDING) === 0) {
      const outage = { ms: Date.now() - this.outageSince, cause: this.outageCause, lines: this.linesLost() - this.lostBefore };
      this.outageCause = undefined;
      process.nextTick(this.deliver, recoveredWarning(this.context, outage));
    }
  }

  /** `kind` was reported and has not cleared since. */
  isReported(kind: FaultKind): boolean {
    return (this.reported & kind) !== 0;
  }
}

/** The warning for `kind`: its code, and a message that says what happened and what the plugin does. */
export function warningOf(kind: FaultKind, err: unknown, c: FaultContext, lost?: LostLines): FaultWarning {
  const why = err === undefined ? '' : ` (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  let message: string;
  if (kind === LINES_LOST) {
    const { lines, signal, waitedMs } = lost as LostLines;
    message = `tcpinfo: ${lines} lines queued for ${c.file} are lost: ${signal} ends the process, and they were not written within ${waitedMs} ms${why}`;
  } else if (kind === QUEUE_FULL) {
    message =
      `tcpinfo: the queue for ${c.file} is full (${c.queueLines} lines or ${c.queueBytes} bytes); ` +
      'further lines are dropped until they are written';
  } else if (kind === FAULT_RETENTION) {
    message = `tcpinfo: removing old rolled files of ${c.file} (--rolling-max-count=${c.rollingMaxCount}) failed${why}; tried again after the next roll`;
  } else if (kind === FAULT_ROLL) {
    message = `tcpinfo: rolling ${c.file} failed${why}; lines still go to it, and the roll is tried again every ${c.retryMs} ms`;
  } else {
    const what = kind === FAULT_OPEN ? 'opening' : 'writing';
    message =
      `tcpinfo: ${what} ${c.file} failed${why}; up to ${c.queueLines} lines wait in memory, ` +
      `and logging resumes by itself once it works (tried every ${c.retryMs} ms)`;
  }
  return Object.assign(new Error(message, { cause: err }), { code: WARNING_CODES[kind] });
}

/** The report that lines are written again after an outage: how long it lasted, and the lines it cost. */
export function recoveredWarning(c: FaultContext, outage: Outage): FaultWarning {
  const cause = outage.cause === undefined ? 'the queue was full' : ((outage.cause as NodeJS.ErrnoException).code ?? (outage.cause as Error).message);
  const lost = outage.lines === 0 ? 'no line was lost' : `${outage.lines} ${outage.lines === 1 ? 'line was' : 'lines were'} lost meanwhile`;
  const message = `tcpinfo: ${c.file} is written again, after ${seconds(outage.ms)} held up (${cause}); ${lost}`;
  return Object.assign(new Error(message, { cause: outage.cause }), { code: RECOVERED_CODE });
}

/** `1.2 s`, `95 s`. */
function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}
