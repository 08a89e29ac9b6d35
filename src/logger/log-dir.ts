/**
 * The log's directory, held from the first open on: every name in it is opened, linked, renamed and removed
 * through a descriptor on it (`/proc/self/fd/N/<name>`, as openat(2) would), after a look that the
 * directory's path still leads to it. Another directory put at the path after start-up (a symlink to one
 * included) is never written or pruned in: a fault until the path leads back. One made anew where a removed
 * one was takes its place.
 * Why: docs/rolling-and-faults.md#what-sits-at-the-log-path
 */
import * as fs from 'node:fs';
import { close, fstat, ignore, open, readlink, realpath, stat } from './fs-async.js';

/** Linux's O_PATH (Node names no constant for it): enough to look names up and fstat, with no read permission. */
const O_PATH = 0o10000000;
const DIRECTORY_HANDLE = O_PATH | fs.constants.O_DIRECTORY;

/** The directory's path leads to another directory than the one held: nothing is done in it. */
export class LogDirChanged extends Error {
  constructor(dir: string) {
    super(`the directory ${dir} is no longer the one the log was opened in (another directory, or a symbolic link to one, ` +
      'was put in its place); nothing is written or removed there until it is back');
    this.name = 'LogDirChanged';
  }
}

export class LogDir {
  private fd = -1;
  private dev = 0;
  private ino = 0;
  /** Where the held directory is, as the kernel names it: one made anew must be at the same place. */
  private where = '';
  /** What names in it are joined to: /proc/self/fd/N, or the path itself where /proc is not mounted. */
  private via = '';
  /** Operations under way through `via`: its descriptor is closed only once none is (its number could be reused). */
  private users = 0;
  /** Descriptors let go of while in use (a directory made anew), closed with the last user. */
  private retired: number[] = [];
  private closed = false;

  constructor(readonly path: string) {}

  /** At start-up: hold the directory the path leads to now (symlinks on the way are fine). Its prefix for names. */
  holdSync(): string {
    if (this.fd < 0) {
      const fd = fs.openSync(this.path, DIRECTORY_HANDLE);
      try {
        this.adopt(fd, fs.fstatSync(fd), placeOfSync(fd, this.path));
      } catch (err) {
        fs.closeSync(fd);
        throw err;
      }
      return this.via;
    }
    const now = fs.statSync(this.path);
    if (now.dev !== this.dev || now.ino !== this.ino) throw new LogDirChanged(this.path);
    return this.via;
  }

  /** `fn` with the prefix for names in the directory, once the path is seen to lead to it; rejects with LogDirChanged. */
  async use<T>(fn: (dir: string) => Promise<T>): Promise<T> {
    if (this.closed) throw Object.assign(new Error(`${this.path}: the log is closed`), { code: 'EBADF' });
    await this.check();
    this.users++;
    try {
      return await fn(this.via);
    } finally {
      if (--this.users === 0) this.letGo();
    }
  }

  /** The writer is done with it: the descriptor goes once no operation uses it. */
  close(): void {
    this.closed = true;
    if (this.fd >= 0) this.retired.push(this.fd);
    this.fd = -1;
    if (this.users === 0) this.letGo();
  }

  private async check(): Promise<void> {
    if (this.fd < 0) {
      // First use at run time (start-up's open met a fault of the world): hold what the path leads to now.
      await this.hold((place) => place !== '');
      return;
    }
    // Gone (ENOENT, ENOTDIR): the caller's open fails as it would, a fault until the directory is back.
    const now = await stat(this.path);
    if (now.dev === this.dev && now.ino === this.ino) return;
    // The held directory removed: one made anew at the same place (not a symlink to elsewhere) takes its place.
    if ((await fstat(this.fd)).nlink === 0 && (await this.hold((place) => place === this.where))) return;
    throw new LogDirChanged(this.path);
  }

  /** Open what the path leads to and hold it if `accept(its place)`; false when it was not accepted. */
  private async hold(accept: (place: string) => boolean): Promise<boolean> {
    const fd = await open(this.path, DIRECTORY_HANDLE);
    try {
      const st = await fstat(fd);
      const found = await placeOf(fd, this.path);
      if (accept(found.place)) {
        if (this.fd >= 0) this.retired.push(this.fd);
        this.adopt(fd, st, found);
        if (this.users === 0) this.letGo();
        return true;
      }
    } catch (err) {
      await close(fd).catch(ignore);
      throw err;
    }
    await close(fd).catch(ignore);
    return false;
  }

  private adopt(fd: number, st: fs.Stats, found: Place): void {
    this.fd = fd;
    this.dev = st.dev;
    this.ino = st.ino;
    this.where = found.place;
    this.via = found.proc ? `/proc/self/fd/${fd}` : this.path;
  }

  private letGo(): void {
    for (const fd of this.retired) fs.close(fd, ignore);
    this.retired = [];
  }
}

/** Where a held directory is, and whether /proc tells it (and so takes names through the descriptor). */
interface Place {
  place: string;
  proc: boolean;
}

/** Without /proc (not mounted): the path resolved, and names taken by the path, each after the look. */
function placeOfSync(fd: number, dir: string): Place {
  try {
    return { place: fs.readlinkSync(`/proc/self/fd/${fd}`), proc: true };
  } catch {
    return { place: fs.realpathSync.native(dir), proc: false };
  }
}

async function placeOf(fd: number, dir: string): Promise<Place> {
  try {
    return { place: await readlink(`/proc/self/fd/${fd}`), proc: true };
  } catch {
    return { place: await realpath(dir), proc: false };
  }
}
