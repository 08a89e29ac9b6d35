/**
 * The end of the process, for every log writer in it: one listener each for 'exit', 'beforeExit', SIGINT
 * and SIGTERM, added with the first writer and removed with the last (what each does: the table in
 * docs/deploying.md#signals-and-shutdown).
 *
 *   'beforeExit'       every writer writes out its queue (asynchronously)
 *   'exit'             what is still queued goes out synchronously (best effort)
 *   SIGINT / SIGTERM   no app listener: write out (at most ~1 s, through a stalled pipe), report what is
 *                      lost, then die of the signal; else the app's
 *
 * One handler for all writers: each of several would take the others for the app's, and none would end
 * the process. A mark tells the handlers of another copy of this module from the app's.
 */
import { constants } from 'node:os';
import { isMainThread } from 'node:worker_threads';

/** What the process's end needs from a writer. */
export interface ProcessEndTask {
  /** Write out everything queued; resolves when done, or when a fault holds the lines up. */
  flush(): Promise<void>;
  /** At a signal: write out everything queued by `until` (Date.now() time), waiting through stalls. */
  flushUntil(until: number): Promise<void>;
  /** The process dies of the signal now: count what is not written as lost, and report it before returning. */
  abandon(signal: HandledSignal, waitedMs: number): void;
  /** At exit: write out what is queued, synchronously. Never throws. */
  flushSync(): void;
  /** Served before the others (what queues lines: --explain's follow-ups), so the writers write them out. */
  readonly first?: boolean;
}

/** The tasks, those marked `first` first. */
function inOrder(): ProcessEndTask[] {
  const all = [...tasks];
  return [...all.filter((task) => task.first === true), ...all.filter((task) => task.first !== true)];
}

type HandledSignal = 'SIGINT' | 'SIGTERM';

const SIGNALS: readonly HandledSignal[] = ['SIGINT', 'SIGTERM'];
/** Longest a signal waits for the queues to be written out before the process dies of it anyway. */
export const SIGNAL_FLUSH_MS = 1000;
/** Marks the listeners of this module (any copy of it), so they are never taken for the app's. */
const kOwn = Symbol.for('tcpinfo.processHook');

const tasks = new Set<ProcessEndTask>();
/** The signal being handled: further ones wait for it (the queue is written out within SIGNAL_FLUSH_MS). */
let handling: HandledSignal | null = null;

function mark<T extends (...args: never[]) => void>(fn: T): T {
  return Object.assign(fn, { [kOwn]: true });
}

const onExit = mark((): void => {
  for (const task of inOrder()) {
    try {
      task.flushSync();
    } catch {
      // Best effort: the process is ending; the writer counts what it could not write.
    }
  }
});

const onBeforeExit = mark((): void => {
  for (const task of inOrder()) task.flush().catch(ignore);
});

const signalHandlers = new Map<HandledSignal, () => void>(SIGNALS.map((signal) => [signal, mark(() => onSignal(signal))]));

function ignore(): void {}

/** True when someone other than us (the app, a framework) listens for the signal. */
function appListens(signal: HandledSignal): boolean {
  return process.listeners(signal).some((listener) => !(kOwn in listener));
}

function onSignal(signal: HandledSignal): void {
  if (handling !== null || appListens(signal)) return;
  handling = signal;
  const start = Date.now();
  let timer: NodeJS.Timeout | undefined;
  // Not unref'd: it keeps the process alive until the queues are out or the time is up.
  const timeUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, SIGNAL_FLUSH_MS)));
  const flushed = Promise.all(inOrder().map((task) => task.flushUntil(start + SIGNAL_FLUSH_MS).catch(ignore)));
  void Promise.race([flushed, timeUp]).then(() => {
    clearTimeout(timer);
    // Lines queued while the flush ran (a request still being served).
    onExit();
    dieOf(signal, Date.now() - start);
  });
}

/** End the process as `signal` would have ended it without us, telling on stderr what that cost. */
function dieOf(signal: HandledSignal, waitedMs: number): void {
  handling = null;
  process.removeListener(signal, signalHandlers.get(signal)!);
  // A listener the app added meanwhile: the signal is its call now, as it would have been.
  if (appListens(signal)) return;
  for (const task of tasks) {
    try {
      task.abandon(signal, waitedMs);
    } catch {
      // A 'warning' listener of the app threw: the process dies of the signal all the same.
    }
  }
  const status = 128 + constants.signals[signal];
  if (process.pid === 1) {
    // The kernel ignores a signal PID 1 sends itself when it has no handler for it.
    process.exit(status);
  }
  process.kill(process.pid, signal);
}

/** Start serving `task` at the process's end; the first task adds the process listeners. */
export function watchProcessEnd(task: ProcessEndTask): void {
  if (tasks.has(task)) return;
  tasks.add(task);
  if (tasks.size > 1) return;
  process.on('exit', onExit);
  process.on('beforeExit', onBeforeExit);
  // Signals reach only the main thread; a worker's writers are written out at the worker's exit.
  if (!isMainThread) return;
  for (const [signal, handler] of signalHandlers) if (!process.listeners(signal).includes(handler)) process.on(signal, handler);
}

/** Stop serving `task`; the last one removes the process listeners. */
export function unwatchProcessEnd(task: ProcessEndTask): void {
  if (!tasks.delete(task) || tasks.size > 0) return;
  process.removeListener('exit', onExit);
  process.removeListener('beforeExit', onBeforeExit);
  // A signal being handled keeps its handler until the process dies of it.
  for (const [signal, handler] of signalHandlers) if (signal !== handling) process.removeListener(signal, handler);
}
