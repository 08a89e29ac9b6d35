/**
 * The live log file on disk, which several processes may write at once (the workers of a cluster, or
 * processes that know nothing of each other): open it, append to it, roll it, and tell whether the live
 * name still leads to the file held open. Within a process one operation at a time: the writer's pump
 * serialises them, so a line goes to exactly one file. Across processes:
 * - Appending: O_APPEND, every write(2) whole lines (the writer cuts them so). On a local Linux file system
 *   one write's bytes are contiguous in the file, whoever else appends, so lines never tear or interleave.
 * - A new live file appears under its name with its header already in it: the header is written to a
 *   temporary file next to it, which is then linked to the live name. link(2) fails if the name exists, so
 *   one process creates the file; the others open the file it made. No process writes a header into a file
 *   another created (an empty one made by another tool excepted: see `completeHeader`).
 * - Rolling: the rename is claimed (side-files.ts), so each file is renamed by one process. The others
 *   notice at their next write that the live name leads to a new file and open it; a write they made
 *   between the rename and that look went to the renamed file, whole.
 */
import * as fs from 'node:fs';
import { close, fstat, ignore, link, lstat, open, read, rename, stat, unlink, write } from './fs-async.js';
import { rolledName } from './roll-schedule.js';
import { claimRoll, releaseClaim, tempPath } from './side-files.js';

/** Log files hold client addresses: owner read-write, group read, others nothing (less if the umask says so). */
export const LOG_FILE_MODE = 0o640;
/** Versions tried for a rolled name already taken (ATS tries without a limit). */
const MAX_VERSIONS = 1000;
/** Tries at opening a name that keeps vanishing (made by another process, then rolled, ...) before failing. */
const MAX_OPEN_TRIES = 8;
/** Open an existing file for appending, without creating it. */
const APPEND_ONLY = fs.constants.O_WRONLY | fs.constants.O_APPEND;
/** link(2) refused because the file system has no hard links. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

export class LiveFile {
  /** The open descriptor, or -1 when none is open. */
  fd = -1;
  /** Bytes in the file: at the last look at it, plus what this process wrote since. */
  size = 0;
  /** When the file's period began (its start in the rolled name): its creation, or the roll that made it. */
  startMs = 0;
  /** The file holds lines besides the header. */
  hasRecords = false;
  /** Only a regular file is rolled and watched for replacement (not a FIFO or /dev/stdout, as in ATS). */
  regular = true;
  private dev = 0;
  private ino = 0;
  private readonly header: Buffer;

  constructor(
    readonly path: string,
    header: string,
    private readonly hostname: string,
  ) {
    this.header = Buffer.from(header);
  }

  /** Open at start-up, synchronously, so that a bad path is an error where the plugin is attached. */
  openSync(startMs: number): void {
    for (let tries = 1; ; tries++) {
      let fd: number;
      let created = false;
      try {
        fd = fs.openSync(this.path, APPEND_ONLY);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || tries === MAX_OPEN_TRIES) throw err;
        fd = createWithHeaderSync(this.path, this.header);
        if (fd < 0) continue;
        created = true;
      }
      try {
        let st = fs.fstatSync(fd);
        if (!created && this.lacksHeader(st)) {
          completeHeaderSync(fd, st, this.header);
          st = fs.fstatSync(fd);
        }
        this.adopt(fd, st, created, startMs);
        return;
      } catch (err) {
        fs.closeSync(fd);
        throw err;
      }
    }
  }

  /**
   * Open the file under the live name, creating it with the header if there is none. `startMs` is the
   * period start of a file created here; a file another process created starts when it was created.
   */
  async open(startMs: number): Promise<void> {
    for (let tries = 1; ; tries++) {
      let fd: number;
      let created = false;
      try {
        fd = await open(this.path, APPEND_ONLY);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || tries === MAX_OPEN_TRIES) throw err;
        fd = await createWithHeader(this.path, this.header);
        if (fd < 0) continue;
        created = true;
      }
      try {
        let st = await fstat(fd);
        if (!created && this.lacksHeader(st)) {
          await completeHeader(fd, st, this.header);
          st = await fstat(fd);
        }
        this.adopt(fd, st, created, startMs);
        return;
      } catch (err) {
        await close(fd).catch(ignore);
        throw err;
      }
    }
  }

  /** Bytes of `buf` the one write(2) took: all of it, or fewer when the disk filled up on the way. */
  async write(buf: Buffer): Promise<number> {
    const { bytesWritten } = await write(this.fd, buf, 0, buf.length, null);
    this.size += bytesWritten;
    if (bytesWritten > 0) this.hasRecords = true;
    return bytesWritten;
  }

  /** Synchronous best effort for process exit: bytes of `buf` written before the end or an error. */
  writeSync(buf: Buffer): number {
    let done = 0;
    try {
      while (done < buf.length) {
        const n = fs.writeSync(this.fd, buf, done);
        if (n === 0) break;
        done += n;
      }
    } catch {
      // Counted by the caller from the bytes written.
    }
    this.size += done;
    return done;
  }

  /**
   * True while the live name leads to the file held open. False once it was removed, renamed (rolled by
   * another process, or by another tool), replaced, or its directory deleted: lines written to the open
   * file would then reach no reader. The same look takes the file's size, which other processes add to.
   */
  async isInPlace(): Promise<boolean> {
    if (!this.regular) return true;
    let st: fs.Stats;
    try {
      st = await stat(this.path);
    } catch {
      return false;
    }
    if (st.ino !== this.ino || st.dev !== this.dev) return false;
    if (st.size > this.size) {
      this.size = st.size;
      this.hasRecords = true;
    }
    return true;
  }

  /**
   * Rename the live file to `<file>_<host>.<start>-<end>[.<n>].old`, the first such name not taken.
   * Resolves with that name, or null when the file is not this process's to roll: another process is
   * rolling it now, or has rolled it (the live name leads elsewhere). The descriptor stays open on the
   * renamed file; the caller closes it and opens a new live file.
   */
  async rollAway(endMs: number): Promise<string | null> {
    const claim = await claimRoll(this.path, this.dev, this.ino);
    if (claim === null) return null;
    try {
      // Holding the claim, no other process renames this file: if the name leads to it now, it does at the rename.
      const st = await stat(this.path);
      if (st.ino !== this.ino || st.dev !== this.dev) return null;
      for (let version = 0; version < MAX_VERSIONS; version++) {
        const target = rolledName(this.path, this.hostname, this.startMs, endMs, version);
        if (await exists(target)) continue;
        await rename(this.path, target);
        return target;
      }
      throw Object.assign(new Error(`${MAX_VERSIONS} rolled file names are taken`), { code: 'EEXIST' });
    } finally {
      await releaseClaim(claim);
    }
  }

  async close(): Promise<void> {
    const fd = this.fd;
    if (fd < 0) return;
    this.fd = -1;
    await close(fd).catch(ignore);
  }

  /** A regular file shorter than the header, or anything else that is empty (a FIFO, /dev/stdout). */
  private lacksHeader(st: fs.Stats): boolean {
    return st.isFile() ? st.size < this.header.length : st.size === 0;
  }

  private adopt(fd: number, st: fs.Stats, created: boolean, startMs: number): void {
    this.fd = fd;
    this.dev = st.dev;
    this.ino = st.ino;
    this.regular = st.isFile();
    this.size = st.size;
    this.hasRecords = st.size > this.header.length;
    // A file someone else created (another process, a run before this one) began when it was created: its
    // birth time (ATS keeps it in a .meta file); a file system that keeps none reports 0, and then it starts now.
    this.startMs = created || st.birthtimeMs <= 0 ? startMs : st.birthtimeMs;
  }
}

/** After link(2) failed: true where the file system has no hard links, false where the name exists; else throws. */
function lacksHardLinks(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (code === 'EEXIST') return false;
  if (NO_HARD_LINKS.has(code)) return true;
  throw err;
}

/**
 * Create `file` with the header in it: write the header to a temporary file next to it, then link that
 * to the name. Resolves with a descriptor (O_APPEND) on the new live file, or -1 when the name exists
 * (another process made it first): open that one.
 */
async function createWithHeader(file: string, header: Buffer): Promise<number> {
  const temp = tempPath(file);
  const fd = await open(temp, 'ax', LOG_FILE_MODE);
  let linked = false;
  try {
    await writeAll(fd, header);
    try {
      await link(temp, file);
      linked = true;
      return fd;
    } catch (err) {
      // No hard links here: create the file empty; `completeHeader` then puts the header in.
      if (lacksHardLinks(err)) await close(await open(file, 'a', LOG_FILE_MODE));
      return -1;
    }
  } finally {
    if (!linked) await close(fd).catch(ignore);
    await unlink(temp).catch(ignore);
  }
}

function createWithHeaderSync(file: string, header: Buffer): number {
  const temp = tempPath(file);
  const fd = fs.openSync(temp, 'ax', LOG_FILE_MODE);
  let linked = false;
  try {
    writeAllSync(fd, header);
    try {
      fs.linkSync(temp, file);
      linked = true;
      return fd;
    } catch (err) {
      if (lacksHardLinks(err)) fs.closeSync(fs.openSync(file, 'a', LOG_FILE_MODE));
      return -1;
    }
  } finally {
    // As the async path: a failing close must not hide the error under way, nor keep the temp file.
    if (!linked) closeQuietlySync(fd);
    try {
      fs.unlinkSync(temp);
    } catch {
      // Gone already; a leftover is swept later.
    }
  }
}

/**
 * Put the header into a file found without one: empty (made by another tool, `logrotate`'s `create`, or
 * where there are no hard links), or cut short by a full disk. In a regular file it is written at offset
 * 0 through a second descriptor without O_APPEND: every process that finds the file so writes the same
 * bytes at the same place, so however many do, the file holds one header, and none appends a line before
 * its own header write is done. Bytes already there that are not the start of the header are left alone.
 * Anything else (a FIFO, /dev/stdout) gets the header appended, as a new file.
 */
async function completeHeader(fd: number, st: fs.Stats, header: Buffer): Promise<void> {
  if (!st.isFile()) return writeAll(fd, header);
  let at: number;
  try {
    at = await open(`/proc/self/fd/${fd}`, 'r+');
  } catch {
    // No /proc, or no read permission: append it, which is right when no other process writes the file.
    if (st.size === 0) await writeAll(fd, header);
    return;
  }
  try {
    // Looked at again through this descriptor: another process may have completed it meanwhile.
    const { size } = await fstat(at);
    const head = Buffer.alloc(Math.min(size, header.length));
    if (head.length > 0) await read(at, head, 0, head.length, 0);
    if (head.length < header.length && head.equals(header.subarray(0, head.length))) await writeAll(at, header, 0);
  } finally {
    await close(at).catch(ignore);
  }
}

function completeHeaderSync(fd: number, st: fs.Stats, header: Buffer): void {
  if (!st.isFile()) return writeAllSync(fd, header);
  let at: number;
  try {
    at = fs.openSync(`/proc/self/fd/${fd}`, 'r+');
  } catch {
    if (st.size === 0) writeAllSync(fd, header);
    return;
  }
  try {
    const { size } = fs.fstatSync(at);
    const head = Buffer.alloc(Math.min(size, header.length));
    if (head.length > 0) fs.readSync(at, head, 0, head.length, 0);
    if (head.length < header.length && head.equals(header.subarray(0, head.length))) writeAllSync(at, header, 0);
  } finally {
    closeQuietlySync(at);
  }
}

/** closeSync that never throws (the async paths' `close(fd).catch(ignore)`). */
function closeQuietlySync(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // Nothing to do: the fd is released either way.
  }
}

/** All of `buf`, appended (position null) or from `position` on; a write that takes nothing is a full disk. */
async function writeAll(fd: number, buf: Buffer, position: number | null = null): Promise<void> {
  for (let done = 0; done < buf.length; ) {
    const { bytesWritten } = await write(fd, buf, done, buf.length - done, position === null ? null : position + done);
    if (bytesWritten === 0) throw Object.assign(new Error('no space for the header'), { code: 'ENOSPC' });
    done += bytesWritten;
  }
}

function writeAllSync(fd: number, buf: Buffer, position: number | null = null): void {
  for (let done = 0; done < buf.length; ) {
    const n = fs.writeSync(fd, buf, done, buf.length - done, position === null ? null : position + done);
    if (n === 0) throw Object.assign(new Error('no space for the header'), { code: 'ENOSPC' });
    done += n;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
