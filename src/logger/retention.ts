/**
 * `--rolling-max-count=N`: after a roll, the rolled files of the log beyond the newest N are removed, as
 * Traffic Server's `rolling_max_count` does (0 keeps them all): which files, what "oldest" means, and why
 * processes pruning from their own listings never remove different files: docs/rolling-and-faults.md#retention
 */
import path from 'node:path';
import { rolledNamesOf } from '../format/rolled-name.js';
import { lstat, readdir, unlink } from './fs-async.js';
import type { LogDir } from './log-dir.js';

export interface RolledFile {
  name: string;
  host: string;
  /** The start and end as written in the name (ATS timestamps): they sort as text. */
  start: string;
  end: string;
  /** The `.<n>` of a name that was taken; 0 without. */
  version: number;
  /** The file's last change (ms), for names alike but for the version; 0 where not looked at. */
  mtimeMs: number;
}

/** A matcher of the rolled names of the log named `logBase` (a file name, no directory). */
export function rolledNameMatcher(logBase: string, ownHost: string): (name: string) => RolledFile | undefined {
  const parse = rolledNamesOf(logBase, ownHost);
  return (name) => {
    const r = parse(name);
    return r === undefined ? undefined : { name, host: r.host, start: r.startText, end: r.endText, version: r.version, mtimeMs: 0 };
  };
}

/** Oldest first: by end, start, last change, then version. */
export function compareRolled(a: RolledFile, b: RolledFile): number {
  if (a.end !== b.end) return a.end < b.end ? -1 : 1;
  if (a.start !== b.start) return a.start < b.start ? -1 : 1;
  return a.mtimeMs - b.mtimeMs || a.version - b.version;
}

/**
 * Remove the rolled files of `file` beyond the newest `keep` (>= 1), never `justRolled`: the paths removed;
 * rejects with the first error other than ENOENT, after trying every file. With `held` (the writer's), only
 * in the directory held since start-up, and nowhere while its path leads elsewhere (LogDirChanged).
 */
export async function pruneRolled(file: string, ownHost: string, keep: number, justRolled: string | null, held?: LogDir): Promise<string[]> {
  if (keep <= 0) return [];
  if (held === undefined) return prune(file, path.dirname(file), ownHost, keep, justRolled);
  return held.use((dir) => prune(file, dir, ownHost, keep, justRolled));
}

/** pruneRolled in `dir`, the directory of `file` (or the descriptor path of it). */
async function prune(file: string, dir: string, ownHost: string, keep: number, justRolled: string | null): Promise<string[]> {
  const match = rolledNameMatcher(path.basename(file), ownHost);
  const protectedName = justRolled === null ? null : path.basename(justRolled);
  const rolled: RolledFile[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const r = match(entry.name);
    if (r !== undefined) rolled.push(r);
  }
  if (rolled.length <= keep) return [];
  // A file another process removed meanwhile sorts first (its time unknown): its unlink finds ENOENT.
  for (const r of rolled) r.mtimeMs = (await lstat(path.join(dir, r.name)).catch(() => null))?.mtimeMs ?? 0;
  rolled.sort(compareRolled);
  // The file just rolled counts among the kept, even where its name sorts it older (a clock set back).
  const doomed = rolled.filter((r) => r.name !== protectedName).slice(0, rolled.length - keep);
  const removed: string[] = [];
  let failure: NodeJS.ErrnoException | undefined;
  for (const r of doomed) {
    const target = path.join(dir, r.name);
    try {
      await unlink(target);
      removed.push(path.join(path.dirname(file), r.name));
    } catch (err) {
      const error = err as NodeJS.ErrnoException;
      if (error.code !== 'ENOENT') failure ??= error;
    }
  }
  if (failure !== undefined) throw failure;
  return removed;
}
