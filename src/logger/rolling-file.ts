/**
 * The live log file on disk: open it (a new file gets mode 0640 and the header line), append to it, roll it
 * (rename it to its Traffic Server name; the writer then opens a new file under the live name), and tell
 * whether the live name still leads to the file held open. One operation at a time: the writer's pump
 * serialises them, so a line goes to exactly one file.
 */
import * as fs from 'node:fs';
import { promisify } from 'node:util';
import { rolledName } from './roll-schedule.js';

/** Log files hold client addresses: owner read-write, group read, others nothing (less if the umask says so). */
export const LOG_FILE_MODE = 0o640;
/** Versions tried for a rolled name already taken (ATS tries without a limit). */
const MAX_VERSIONS = 1000;

const open = promisify(fs.open);
const close = promisify(fs.close);
const fstat = promisify(fs.fstat);
const stat = promisify(fs.stat);
const lstat = promisify(fs.lstat);
const rename = promisify(fs.rename);
const ftruncate = promisify(fs.ftruncate);
const write = promisify(fs.write);

export class LiveFile {
  /** The open descriptor, or -1 when none is open. */
  fd = -1;
  /** Bytes in the file. */
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
  openSync(nowMs: number): void {
    const fd = fs.openSync(this.path, 'a', LOG_FILE_MODE);
    try {
      const st = fs.fstatSync(fd);
      if (st.size === 0) {
        let done = 0;
        while (done < this.header.length) done += fs.writeSync(fd, this.header, done);
      }
      this.adopt(fd, st, nowMs);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
  }

  /**
   * Open the file under the live name, creating it with the header if it is new or empty. `startMs` is
   * the period start of a file created here; a file found with lines in it keeps its birth time.
   */
  async open(startMs: number): Promise<void> {
    const fd = await open(this.path, 'a', LOG_FILE_MODE);
    try {
      const st = await fstat(fd);
      if (st.size === 0) await this.writeHeader(fd);
      this.adopt(fd, st, startMs);
    } catch (err) {
      await close(fd).catch(ignore);
      throw err;
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
   * True while the live name leads to the file held open. False once it was removed, renamed by another
   * tool, replaced, or its directory deleted: lines written to the open file would then reach no reader.
   */
  async isInPlace(): Promise<boolean> {
    if (!this.regular) return true;
    try {
      const st = await stat(this.path);
      return st.ino === this.ino && st.dev === this.dev;
    } catch {
      return false;
    }
  }

  /**
   * Rename the live file to `<file>_<host>.<start>-<end>[.<n>].old`, the first such name not taken. The
   * descriptor stays open on the renamed file; the caller closes it and opens a new live file.
   */
  async rollAway(endMs: number): Promise<string> {
    for (let version = 0; version < MAX_VERSIONS; version++) {
      const target = rolledName(this.path, this.hostname, this.startMs, endMs, version);
      if (await exists(target)) continue;
      await rename(this.path, target);
      return target;
    }
    throw Object.assign(new Error(`${MAX_VERSIONS} rolled file names are taken`), { code: 'EEXIST' });
  }

  async close(): Promise<void> {
    const fd = this.fd;
    if (fd < 0) return;
    this.fd = -1;
    await close(fd).catch(ignore);
  }

  private adopt(fd: number, st: fs.Stats, startMs: number): void {
    const created = st.size === 0;
    this.fd = fd;
    this.dev = st.dev;
    this.ino = st.ino;
    this.regular = st.isFile();
    this.size = created ? this.header.length : st.size;
    this.hasRecords = st.size > this.header.length;
    // A file found with lines began before we came: its birth time is the best start (ATS keeps it in a
    // .meta file); a file system that keeps none reports 0, and then it starts now.
    this.startMs = created || st.birthtimeMs <= 0 ? startMs : st.birthtimeMs;
  }

  /** The header, whole or not at all: a new file cut short by a full disk is emptied, to get it on the next try. */
  private async writeHeader(fd: number): Promise<void> {
    try {
      const { bytesWritten } = await write(fd, this.header, 0, this.header.length, null);
      if (bytesWritten !== this.header.length) throw Object.assign(new Error('no space for the header'), { code: 'ENOSPC' });
    } catch (err) {
      await ftruncate(fd, 0).catch(ignore);
      throw err;
    }
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

function ignore(): void {}
