/**
 * The live log file on disk, which several processes may write at once: open it (created with its header
 * via link(2)), append whole lines (O_APPEND), roll it (claimed: roll-claim.ts), and tell whether the live
 * name still leads to the file held open. One operation at a time: the writer's pump serialises them.
 * Never follows a symlink at the name (O_NOFOLLOW), never writes a file with other names (hard links) or,
 * as root, another user's; works in the directory held since start-up (log-dir.ts); never blocks on a
 * FIFO (O_NONBLOCK), and starts a torn last line's successor on a line of its own.
 * Why: docs/design.md#several-processes-the-roll-claim, docs/design.md#whatever-sits-at-the-live-name
 */
import * as fs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { rolledName } from '../format/rolled-name.js';
import { close, fchmod, fstat, ignore, link, lstat, open, read, readdir, rename, unlink, write } from './fs-async.js';
import { LogDir } from './log-dir.js';
import { CREATE_NEW, claimRoll, releaseClaim, tempPath } from './roll-claim.js';

/** Log files hold client addresses: owner read-write, group read, others nothing (--log-file-mode changes it). */
export const LOG_FILE_MODE = 0o640;
/** Versions tried for a rolled name already taken (ATS tries without a limit). */
const MAX_VERSIONS = 1000;
/** Tries at opening a name that keeps vanishing (made by another process, then rolled, ...) before failing. */
const MAX_OPEN_TRIES = 8;
/** Open the existing live file for appending: never through a symlink at its name, never waiting (a FIFO). */
const APPEND_ONLY = fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;
/** A second descriptor, to read the end and pwrite the header: with O_APPEND Linux appends whatever the offset. */
const READ_WRITE = fs.constants.O_RDWR | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;
const NEWLINE = 0x0a;
const NEWLINE_BUF = Buffer.from('\n');
/** Errors met writing (the header, the newline after a torn line), as opposed to opening or creating. */
const writeErrors = new WeakSet<object>();
/** link(2) refused because the file system has no hard links. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/** A file found at the log path that is not to be written (refusedFile says why): start-up's error, or a fault. */
export class LogFileRefused extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'LogFileRefused';
  }
}

/**
 * Why the file found at the log path (`st`, its lstat or fstat) is not to be written, or undefined:
 * - it has other names (a hard link): whoever made the link could have linked any file of the file system;
 * - running as root, it belongs to another user: that user reads the client addresses, and may swap its content.
 * `creating`: its names that are another process's new file, being linked to the live name (createWithHeader).
 */
export function refusedFile(st: fs.Stats, creating = 0): string | undefined {
  if (!st.isFile()) return undefined;
  if (st.nlink - creating > 1) {
    return `has ${st.nlink} hard links, and the log file is never written through one (whoever made the link could have ` +
      'linked any file); remove it, and tcpinfo creates the file';
  }
  if (process.geteuid?.() === 0 && st.uid !== 0) {
    return `belongs to uid ${st.uid}, and tcpinfo runs as root: the log is never written to another user's file (that ` +
      'user could read the client addresses, or make it any file); remove it, and tcpinfo creates the file';
  }
  return undefined;
}

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
  /** A write is done when it resolves: nothing is held back after it (see StdioFile). */
  readonly unsentLines = 0;
  /** The log's directory, held: every name in it is reached through it. */
  readonly dir: LogDir;
  private readonly base: string;
  private dev = 0;
  private ino = 0;
  private readonly header: Buffer;
  private inflight: Promise<unknown> | null = null;

  constructor(
    readonly path: string,
    header: string,
    private readonly hostname: string,
    /** Mode of a file created here, whatever the umask. */
    private readonly mode: number = LOG_FILE_MODE,
  ) {
    this.header = Buffer.from(header);
    this.dir = new LogDir(dirname(this.path));
    this.base = basename(this.path);
  }

  /** Open at start-up, synchronously, so that a bad path is an error where the plugin is attached. */
  openSync(startMs: number): void {
    const file = join(this.dir.holdSync(), this.base);
    for (let tries = 1; ; tries++) {
      let fd: number;
      let created = false;
      try {
        fd = fs.openSync(file, APPEND_ONLY);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || tries === MAX_OPEN_TRIES) throw err;
        fd = createWithHeaderSync(file, this.header, this.mode);
        if (fd < 0) continue;
        created = true;
      }
      try {
        let st = fs.fstatSync(fd);
        if (!created) st = checkFoundSync(file, fd, st);
        const prepared = created ? NOTHING_WRITTEN : prepareSync(file, fd, st, this.header);
        if (prepared === WROTE) st = fs.fstatSync(fd);
        this.adopt(fd, st, created, startMs);
        this.midLineAt = prepared;
        return;
      } catch (err) {
        fs.closeSync(fd);
        throw err;
      }
    }
  }

  /** Open the live name, creating it with the header if none; `startMs`: the period start of a file made here. */
  open(startMs: number): Promise<void> {
    return this.dir.use(async (dir) => {
      const file = join(dir, this.base);
      for (let tries = 1; ; tries++) {
        let fd: number;
        let created = false;
        try {
          fd = await open(file, APPEND_ONLY);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || tries === MAX_OPEN_TRIES) throw err;
          fd = await createWithHeader(file, this.header, this.mode);
          if (fd < 0) continue;
          created = true;
        }
        try {
          let st = await fstat(fd);
          if (!created) st = await checkFound(file, fd, st);
          const prepared = created ? NOTHING_WRITTEN : await prepare(file, fd, st, this.header);
          if (prepared === WROTE) st = await fstat(fd);
          this.adopt(fd, st, created, startMs);
          this.midLineAt = prepared;
          return;
        } catch (err) {
          await close(fd).catch(ignore);
          throw err;
        }
      }
    });
  }

  /** The file ended mid-line at open, at this size (prepare); -1 when it did not, or once that was seen to. */
  private midLineAt = NOTHING_WRITTEN;

  /** Before the first write: a file that ended mid-line at open, and has not grown since (no other process is
   * writing it: a crash tore its last line), gets the newline that starts our first line on a line of its own. */
  private async endTornLine(): Promise<void> {
    const at = this.midLineAt;
    this.midLineAt = NOTHING_WRITTEN;
    if ((await fstat(this.fd)).size !== at) return;
    // A writer of another process may only be paused (a busy machine): a torn file holds still for longer.
    await new Promise((resolve) => setTimeout(resolve, TORN_LINE_WAIT_MS));
    if ((await fstat(this.fd)).size !== at) return;
    this.size += (await write(this.fd, NEWLINE_BUF, 0, 1, null)).bytesWritten;
  }

  /** Bytes of `buf` the one write(2) took: fewer when the disk filled up on the way; a full pipe: EAGAIN. */
  async write(buf: Buffer): Promise<number> {
    if (this.midLineAt >= 0) await this.endTornLine();
    const writing = write(this.fd, buf, 0, buf.length, null);
    this.inflight = writing;
    try {
      const { bytesWritten } = await writing;
      this.size += bytesWritten;
      if (bytesWritten > 0) this.hasRecords = true;
      return bytesWritten;
    } finally {
      this.inflight = null;
    }
  }

  /** Synchronous best effort for process exit: bytes of `buf` written before the end or an error. */
  writeSync(buf: Buffer): number {
    let done = 0;
    try {
      if (this.midLineAt >= 0) {
        const still = fs.fstatSync(this.fd).size === this.midLineAt;
        this.midLineAt = NOTHING_WRITTEN;
        if (still) this.size += fs.writeSync(this.fd, NEWLINE_BUF);
      }
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
   * True while the live name leads to the file held open (not removed, rolled, replaced, or its directory
   * gone: lines would reach no reader). The same look takes the size, which other processes add to.
   */
  async isInPlace(): Promise<boolean> {
    if (!this.regular) return true;
    let st: fs.Stats;
    try {
      // lstat: a symlink put at the name is not our file, wherever it points.
      st = await lstat(this.path);
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
   * Rename the live file to `<file>_<host>.<start>-<end>[.<n>].old`, the first name not taken. Resolves with
   * it, or null when another process is rolling or has rolled it. The descriptor stays open on the renamed file.
   */
  rollAway(endMs: number): Promise<string | null> {
    return this.dir.use(async (dir) => {
      const file = join(dir, this.base);
      const claim = await claimRoll(file, this.dev, this.ino);
      if (claim === null) return null;
      try {
        // Holding the claim, no other process renames this file: if the name leads to it now, it does at the rename.
        const st = await lstat(file);
        if (st.ino !== this.ino || st.dev !== this.dev) return null;
        for (let version = 0; version < MAX_VERSIONS; version++) {
          const target = rolledName(file, this.hostname, this.startMs, endMs, version);
          if (await exists(target)) continue;
          await rename(file, target);
          return join(this.dir.path, basename(target));
        }
        throw Object.assign(new Error(`${MAX_VERSIONS} rolled file names are taken`), { code: 'EEXIST' });
      } finally {
        await releaseClaim(claim);
      }
    });
  }

  /** Let the descriptor go; with a write still in the thread pool, only once it is back (no fd reuse under it). */
  async close(): Promise<void> {
    const fd = this.fd;
    if (fd < 0) return;
    this.fd = -1;
    if (this.inflight !== null) {
      const closeFd = (): Promise<void> => close(fd).catch(ignore);
      void this.inflight.then(closeFd, closeFd);
      return;
    }
    await close(fd).catch(ignore);
  }

  private adopt(fd: number, st: fs.Stats, created: boolean, startMs: number): void {
    this.fd = fd;
    this.dev = st.dev;
    this.ino = st.ino;
    this.regular = st.isFile();
    this.size = st.size;
    this.hasRecords = st.size > this.header.length;
    // Someone else's file began at its birth time (ATS keeps it in a .meta file); 0 where none is kept: now.
    this.startMs = created || st.birthtimeMs <= 0 ? startMs : st.birthtimeMs;
  }
}

/**
 * `st` (fstat of `fd`, the file found at `file`) again, unless refusedFile refuses it: then throws LogFileRefused.
 * A second name that is another process's new file being linked to the live name is no hard link.
 */
async function checkFound(file: string, fd: number, st: fs.Stats): Promise<fs.Stats> {
  if (refusedFile(st) === undefined) return st;
  const creating = st.nlink > 1 ? await tempNamesOf(file, st) : 0;
  // After the look at the directory: a temporary name removed since shows as a link fewer.
  const now = await fstat(fd);
  const reason = refusedFile(now, creating);
  if (reason !== undefined) throw new LogFileRefused(reason);
  return now;
}

function checkFoundSync(file: string, fd: number, st: fs.Stats): fs.Stats {
  if (refusedFile(st) === undefined) return st;
  let creating = 0;
  if (st.nlink > 1) {
    for (const name of fs.readdirSync(dirname(file))) {
      if (!isTempNameOf(name, file)) continue;
      const other = lstatQuietlySync(join(dirname(file), name));
      if (other !== undefined && other.ino === st.ino && other.dev === st.dev) creating++;
    }
  }
  const now = fs.fstatSync(fd);
  const reason = refusedFile(now, creating);
  if (reason !== undefined) throw new LogFileRefused(reason);
  return now;
}

/** How many of the temporary names of `file`'s new files (tempPath) are the file `st`. */
async function tempNamesOf(file: string, st: fs.Stats): Promise<number> {
  let count = 0;
  for (const name of await readdir(dirname(file))) {
    if (!isTempNameOf(name, file)) continue;
    const other = await lstat(join(dirname(file), name)).catch(() => undefined);
    if (other !== undefined && other.ino === st.ino && other.dev === st.dev) count++;
  }
  return count;
}

function isTempNameOf(name: string, file: string): boolean {
  return name.startsWith(`.${basename(file)}.`) && name.endsWith('.tmp');
}

function lstatQuietlySync(file: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(file);
  } catch {
    return undefined;
  }
}

/** After link(2) failed: true where the file system has no hard links, false where the name exists; else throws. */
function lacksHardLinks(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (code === 'EEXIST') return false;
  if (NO_HARD_LINKS.has(code)) return true;
  throw err;
}

/** An error met while writing (the header, or the newline after a torn line) rather than opening. */
export function failedWriting(err: unknown): boolean {
  return typeof err === 'object' && err !== null && writeErrors.has(err);
}

/**
 * Create `file` with the header in it (a temporary file linked to the name). Resolves with a descriptor
 * (O_APPEND), or -1 when the name exists: open that one. `mode` is set before the file has its name.
 */
async function createWithHeader(file: string, header: Buffer, mode: number): Promise<number> {
  const temp = tempPath(file);
  const fd = await open(temp, CREATE_NEW, mode);
  let linked = false;
  try {
    await fchmod(fd, mode);
    await writeAll(fd, header);
    try {
      await link(temp, file);
      linked = true;
      return fd;
    } catch (err) {
      // No hard links here: create the file empty; `prepare` then puts the header in.
      if (lacksHardLinks(err)) await createEmpty(file, mode);
      return -1;
    }
  } finally {
    if (!linked) await close(fd).catch(ignore);
    await unlink(temp).catch(ignore);
  }
}

function createWithHeaderSync(file: string, header: Buffer, mode: number): number {
  const temp = tempPath(file);
  const fd = fs.openSync(temp, CREATE_NEW, mode);
  let linked = false;
  try {
    fs.fchmodSync(fd, mode);
    writeAllSync(fd, header);
    try {
      fs.linkSync(temp, file);
      linked = true;
      return fd;
    } catch (err) {
      if (lacksHardLinks(err)) createEmptySync(file, mode);
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

/** Where there are no hard links: the live file created empty, with its mode; someone else's is left as it is. */
async function createEmpty(file: string, mode: number): Promise<void> {
  let fd: number;
  try {
    fd = await open(file, CREATE_NEW, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw err;
  }
  try {
    await fchmod(fd, mode);
  } finally {
    await close(fd).catch(ignore);
  }
}

function createEmptySync(file: string, mode: number): void {
  let fd: number;
  try {
    fd = fs.openSync(file, CREATE_NEW, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw err;
  }
  try {
    fs.fchmodSync(fd, mode);
  } finally {
    closeQuietlySync(fd);
  }
}

/** How long a file that ended mid-line at open must hold still before the first write ends that line. */
const TORN_LINE_WAIT_MS = 50;

/** prepare's results besides a size: it wrote (the header), or nothing. */
const WROTE = -2;
const NOTHING_WRITTEN = -1;

/**
 * Before the first write to a file this process did not create (`fd`, appending; `st`, its fstat): make
 * sure it starts with the header. WROTE when it wrote the header; the file's size when it ends mid-line
 * (LiveFile's first write ends that line, if the file has not grown since); else NOTHING_WRITTEN.
 * - An empty FIFO or device gets the header appended: each reader of a FIFO gets one.
 * - A regular file without its header gets it at offset 0 through a second descriptor: every process
 *   writes the same bytes at the same place, so one header (docs/design.md#several-processes-the-roll-claim).
 * - A file ending mid-line gets a newline before this process's first line, if it has not grown by then: another
 *   process's write under way shows its pages one by one, so a shared file's end may look mid-line for a moment
 *   (two processes may still both add one: a blank line, readers skip it).
 */
async function prepare(file: string, fd: number, st: fs.Stats, header: Buffer): Promise<number> {
  if (!st.isFile()) return st.size === 0 ? (await writeAll(fd, header), WROTE) : NOTHING_WRITTEN;
  let again: number;
  try {
    again = await open(file, READ_WRITE);
  } catch {
    // No read permission on a file someone else made: what can be done without reading it.
    return st.size === 0 ? (await writeAll(fd, header), WROTE) : NOTHING_WRITTEN;
  }
  try {
    const now = await fstat(again);
    // The name moved on since (rolled, replaced): this file takes no line; the first look before a write follows the name.
    if (now.dev !== st.dev || now.ino !== st.ino) return NOTHING_WRITTEN;
    const head = Buffer.alloc(Math.min(now.size, header.length));
    if (head.length > 0) await read(again, head, 0, head.length, 0);
    if (head.length < header.length && head.equals(header.subarray(0, head.length))) {
      await writeAll(again, header, 0);
      return WROTE;
    }
    const last = Buffer.alloc(1);
    return (await read(again, last, 0, 1, now.size - 1)).bytesRead === 1 && last[0] !== NEWLINE ? now.size : NOTHING_WRITTEN;
  } finally {
    await close(again).catch(ignore);
  }
}

function prepareSync(file: string, fd: number, st: fs.Stats, header: Buffer): number {
  if (!st.isFile()) return st.size === 0 ? (writeAllSync(fd, header), WROTE) : NOTHING_WRITTEN;
  let again: number;
  try {
    again = fs.openSync(file, READ_WRITE);
  } catch {
    return st.size === 0 ? (writeAllSync(fd, header), WROTE) : NOTHING_WRITTEN;
  }
  try {
    const now = fs.fstatSync(again);
    if (now.dev !== st.dev || now.ino !== st.ino) return NOTHING_WRITTEN;
    const head = Buffer.alloc(Math.min(now.size, header.length));
    if (head.length > 0) fs.readSync(again, head, 0, head.length, 0);
    if (head.length < header.length && head.equals(header.subarray(0, head.length))) {
      writeAllSync(again, header, 0);
      return WROTE;
    }
    const last = Buffer.alloc(1);
    return fs.readSync(again, last, 0, 1, now.size - 1) === 1 && last[0] !== NEWLINE ? now.size : NOTHING_WRITTEN;
  } finally {
    closeQuietlySync(again);
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

/** All of `buf`, appended or at `position`; taking nothing is a full disk. Throws marked (`failedWriting`). */
async function writeAll(fd: number, buf: Buffer, position: number | null = null): Promise<void> {
  try {
    for (let done = 0; done < buf.length; ) {
      const { bytesWritten } = await write(fd, buf, done, buf.length - done, position === null ? null : position + done);
      if (bytesWritten === 0) throw Object.assign(new Error('no space for the header'), { code: 'ENOSPC' });
      done += bytesWritten;
    }
  } catch (err) {
    throw markWriteError(err);
  }
}

function writeAllSync(fd: number, buf: Buffer, position: number | null = null): void {
  try {
    for (let done = 0; done < buf.length; ) {
      const n = fs.writeSync(fd, buf, done, buf.length - done, position === null ? null : position + done);
      if (n === 0) throw Object.assign(new Error('no space for the header'), { code: 'ENOSPC' });
      done += n;
    }
  } catch (err) {
    throw markWriteError(err);
  }
}

function markWriteError(err: unknown): unknown {
  if (typeof err === 'object' && err !== null) writeErrors.add(err);
  return err;
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
