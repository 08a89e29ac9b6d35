/**
 * The short-lived dot files next to a shared log: the roll claim `.<name>.roll-<dev>-<ino>` (O_EXCL: one
 * roller per file) and the temporary file `.<name>.<pid>.<random>.tmp` a new live file is made in.
 * Why: docs/design.md#several-processes-the-roll-claim
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import path from 'node:path';
import { close, ignore, lstat, open, readdir, unlink, write } from './fs-async.js';
import type { LogDir } from './log-dir.js';

/** A claim this old was left by a process that died between creating it and removing it (a moment). */
const STALE_CLAIM_MS = 30_000;
/** Claims and temporary files this old are leftovers of processes that died; `sweepLeftovers` removes them. */
const LEFTOVER_AGE_MS = 10 * 60_000;
/** Generations of a claim tried past stale ones before giving up: each needs a process dying mid-roll. */
const MAX_GENERATIONS = 100;

/** How every file of the plugin is created: a new name only, never through a symlink (O_EXCL refuses one too). */
export const CREATE_NEW = fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

function sideName(file: string, suffix: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${suffix}`);
}

/** Where a new live file is made before it is linked to its name: a name no other process uses. */
export function tempPath(file: string): string {
  return sideName(file, `${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Claim the roll of the file with this device and inode: the claim's path, to release after the rename, or
 * null when another process is rolling it. A stale claim (a dead process's) is passed over for `.1`, ...
 */
export async function claimRoll(file: string, dev: number, ino: number): Promise<string | null> {
  const base = sideName(file, `roll-${dev}-${ino}`);
  for (let generation = 0; generation < MAX_GENERATIONS; generation++) {
    const claim = generation === 0 ? base : `${base}.${generation}`;
    let fd: number;
    try {
      fd = await open(claim, CREATE_NEW, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (!(await isOlderThan(claim, STALE_CLAIM_MS))) return null;
      continue;
    }
    // The holder, for whoever looks at the directory.
    await write(fd, `${process.pid}\n`).catch(ignore);
    await close(fd).catch(ignore);
    return claim;
  }
  return null;
}

export function releaseClaim(claim: string): Promise<void> {
  return unlink(claim).catch(ignore);
}

/**
 * Remove claims and temporary files of `file` left behind by processes that died (older than 10 minutes);
 * with `held` (the writer's), only in the directory held since start-up.
 */
export function sweepLeftovers(file: string, held?: LogDir): Promise<void> {
  if (held === undefined) return sweep(file, path.dirname(file));
  return held.use((dir) => sweep(file, dir));
}

async function sweep(file: string, dir: string): Promise<void> {
  const prefix = `.${path.basename(file)}.`;
  for (const name of await readdir(dir)) {
    if (!name.startsWith(prefix)) continue;
    const rest = name.slice(prefix.length);
    if (!rest.startsWith('roll-') && !rest.endsWith('.tmp')) continue;
    const side = path.join(dir, name);
    if (await isOlderThan(side, LEFTOVER_AGE_MS)) await unlink(side).catch(ignore);
  }
}

/** The file was last changed more than `ms` ago; false when it is gone. */
async function isOlderThan(file: string, ms: number): Promise<boolean> {
  try {
    return Date.now() - (await lstat(file)).mtimeMs > ms;
  } catch {
    return false;
  }
}
