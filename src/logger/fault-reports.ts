/**
 * A writer's faults, each reported once until it clears (a full disk for an hour is one warning).
 *
 *   raise(kind, err) -> first since cleared? -> warning (code, message) -> next tick -> deliver
 *   raiseNow(...)    -> the same, delivered at once (the process dies before the next tick)
 *   clear(kind)      -> the next raise(kind) reports again
 */

/** What is reported once until it clears (bits). */
export const FAULT_OPEN = 1;
export const FAULT_WRITE = 2;
export const FAULT_ROLL = 4;
export const QUEUE_FULL = 8;
export const FAULT_RETENTION = 16;
/** Lines the process's end cost: a signal's wait ran out before they were written. */
export const LINES_LOST = 32;

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

export class FaultReports {
  /** Bits of what has been reported and has not cleared since. */
  private reported = 0;

  constructor(
    private readonly context: FaultContext,
    private readonly deliver: (warning: FaultWarning, now?: boolean) => void,
  ) {}

  /** Report `kind` unless it was reported and has not cleared since; true when reported now. */
  raise(kind: FaultKind, err: unknown, lost?: LostLines): boolean {
    if ((this.reported & kind) !== 0) return false;
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

  /** `kind` has cleared: its next occurrence is reported. */
  clear(kind: FaultKind): void {
    this.reported &= ~kind;
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
