/**
 * Following a log file by name, as `tail -F`, across the plugin's rolls: each poll reads what was appended,
 * then looks at the name (another inode: finish the old file, open the new; missing: keep the old;
 * shorter: truncated, read again). Polling, not fs.watch: watch events are lost across renames.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { LineSplitter, MAX_LINE_BYTES } from './line-splitter.js';

const CHUNK_BYTES = 64 * 1024;
/** Read at most this much per poll, so signals and a closed stdout are noticed between polls. */
const POLL_BUDGET_BYTES = 8 * 1024 * 1024;
/** Accepted lines `lastLines` holds at most, in bytes (as records, a few times that in memory). */
const HELD_BYTES = 1024 * 1024;

export interface FollowerEvents {
  /** Complete lines, in file order. */
  lines(lines: string[]): void;
  /** A different file is now being read from its start (after a roll, or the file appeared). */
  newFile(): void;
  /** Something worth telling the user on stderr. */
  notice(message: string): void;
}

interface OpenFile {
  handle: FileHandle;
  dev: number;
  ino: number;
  pos: number;
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

export class LogFollower {
  readonly path: string;
  private readonly events: FollowerEvents;
  private readonly splitter = new LineSplitter();
  private readonly buffer = Buffer.alloc(CHUNK_BYTES);
  private file: OpenFile | undefined;

  constructor(path: string, events: FollowerEvents) {
    this.path = path;
    this.events = events;
  }

  /** Open the file, its end the position to follow from (`wholeLines`: its last newline); false when missing. */
  async openAtEnd(wholeLines = true): Promise<boolean> {
    if (!(await this.openFile())) return false;
    const file = this.file!;
    const { size } = await file.handle.stat();
    if (!wholeLines) {
      file.pos = size;
      return true;
    }
    // Start after the last complete line; an unfinished one is read when its newline arrives.
    const length = Math.min(size, CHUNK_BYTES);
    const { bytesRead } = await file.handle.read(this.buffer, 0, length, size - length);
    const lastNewline = this.buffer.subarray(0, bytesRead).lastIndexOf(10);
    if (lastNewline >= 0) file.pos = size - length + lastNewline + 1;
    else file.pos = size <= CHUNK_BYTES ? 0 : size;
    return true;
  }

  /** The first line of the open file (where a text log has its header). */
  async firstLine(): Promise<string | undefined> {
    if (this.file === undefined) return undefined;
    const { bytesRead } = await this.file.handle.read(this.buffer, 0, CHUNK_BYTES, 0);
    const end = this.buffer.subarray(0, bytesRead).indexOf(10);
    return end < 0 ? undefined : this.buffer.toString('utf8', 0, end).replace(/\r$/, '');
  }

  /**
   * Give `show` the last `count` lines before the follow position that `pick` accepts, oldest first. Read
   * backwards; past HELD_BYTES of accepted lines none are held: the backward read only finds where the
   * first of them starts, then that part is read forwards and shown a chunk at a time (`pick` sees its
   * lines again, with `again` true). Memory grows with neither `count` nor the file.
   */
  async lastLines<T>(
    count: number,
    pick: (line: string, again: boolean) => T | undefined,
    show: (values: T[]) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    if (this.file === undefined || count <= 0) return;
    const { handle } = this.file;
    const followPos = this.file.pos;
    const found: T[] = [];
    let foundCount = 0;
    let heldBytes = 0;
    let holding = true;
    /** Where the earliest accepted line starts. */
    let firstPos = followPos;
    let end = followPos;
    // The start of a line whose rest was in the chunk after this one.
    let carry = Buffer.alloc(0);
    let carryTooLong = false;
    const consider = (bytes: Buffer, pos: number): void => {
      if (carryTooLong) {
        carryTooLong = false;
        return;
      }
      if (bytes.length === 0) return;
      const value = pick(bytes.toString('utf8').replace(/\r$/, ''), false);
      if (value === undefined) return;
      foundCount++;
      firstPos = pos;
      if (!holding) return;
      heldBytes += bytes.length;
      if (heldBytes <= HELD_BYTES) {
        found.push(value);
      } else {
        holding = false;
        found.length = 0;
      }
    };
    while (end > 0 && foundCount < count && signal?.aborted !== true) {
      const start = Math.max(0, end - CHUNK_BYTES);
      const chunk = Buffer.alloc(end - start);
      await handle.read(chunk, 0, chunk.length, start);
      const data = carry.length > 0 ? Buffer.concat([chunk, carry]) : chunk;
      let lineEnd = data.length;
      let nl = lineEnd > 0 ? data.lastIndexOf(10, lineEnd - 1) : -1;
      while (nl >= 0 && foundCount < count) {
        consider(data.subarray(nl + 1, lineEnd), start + nl + 1);
        lineEnd = nl;
        // Runs of empty lines (LF or CRLF) without a look at each, as the splitter does.
        while (lineEnd > 0 && (data[lineEnd - 1] === 10 || (data[lineEnd - 1] === 13 && lineEnd > 1 && data[lineEnd - 2] === 10))) {
          lineEnd -= data[lineEnd - 1] === 10 ? 1 : 2;
        }
        nl = lineEnd > 0 ? data.lastIndexOf(10, lineEnd - 1) : -1;
      }
      if (foundCount >= count) break;
      carry = Buffer.from(data.subarray(0, lineEnd));
      if (carry.length > MAX_LINE_BYTES) {
        carry = Buffer.alloc(0);
        carryTooLong = true;
      }
      if (start === 0) consider(carry, 0);
      end = start;
    }
    if (holding) {
      show(found.reverse());
      return;
    }
    // Lines from firstPos on, each whole: its start is a line start, followPos a line end.
    const splitter = new LineSplitter();
    const lines: string[] = [];
    const values: T[] = [];
    const showLines = (): void => {
      for (const line of lines) {
        const value = pick(line, true);
        if (value !== undefined) values.push(value);
      }
      lines.length = 0;
      show(values);
      values.length = 0;
    };
    for (let pos = firstPos; pos < followPos; ) {
      if (signal?.aborted === true) return;
      const { bytesRead } = await handle.read(this.buffer, 0, Math.min(CHUNK_BYTES, followPos - pos), pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      splitter.push(this.buffer.subarray(0, bytesRead), lines);
      showLines();
    }
    // Without --follow the position is the file's end, which may be mid-line.
    splitter.end(lines);
    showLines();
  }

  /** Read what is new, following the name after a roll; true when more waits (poll again at once). */
  async poll(): Promise<boolean> {
    if (this.file === undefined) {
      if (!(await this.openFile())) return false;
      this.events.newFile();
    }
    const more = await this.readNew(POLL_BUDGET_BYTES);
    if (more) return true;
    let current;
    try {
      current = await stat(this.path);
    } catch (err) {
      if (isMissing(err)) return false; // Renamed away; the new file is not there yet.
      throw err;
    }
    const file = this.file!;
    if (current.ino !== file.ino || current.dev !== file.dev) {
      // A roll: finish the old file (the writer is done with it), then start on the new one.
      const { size } = await file.handle.stat();
      await this.readNew(Math.max(0, size - file.pos));
      const rest: string[] = [];
      this.splitter.end(rest);
      if (rest.length > 0) this.events.lines(rest);
      await this.closeFile();
      if (await this.openFile()) {
        this.events.newFile();
        return this.readNew(POLL_BUDGET_BYTES);
      }
      return false;
    }
    if (current.size < file.pos) {
      this.events.notice(`${this.path}: file truncated; reading it from the start`);
      file.pos = 0;
      this.splitter.reset();
      return true;
    }
    return false;
  }

  async close(): Promise<void> {
    await this.closeFile();
  }

  /** Open the file at the path, at position 0. False when it does not exist. */
  private async openFile(): Promise<boolean> {
    let handle: FileHandle;
    try {
      handle = await open(this.path, 'r');
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
    const { dev, ino } = await handle.stat();
    this.file = { handle, dev, ino, pos: 0 };
    this.splitter.reset();
    return true;
  }

  private async closeFile(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    if (file !== undefined) await file.handle.close();
  }

  /** Read up to `budget` bytes from the position; true when the budget ran out before the end. */
  private async readNew(budget: number): Promise<boolean> {
    const file = this.file!;
    let left = budget;
    while (left > 0) {
      const { bytesRead } = await file.handle.read(this.buffer, 0, Math.min(CHUNK_BYTES, left), file.pos);
      if (bytesRead === 0) return false;
      file.pos += bytesRead;
      left -= bytesRead;
      const lines: string[] = [];
      this.splitter.push(this.buffer.subarray(0, bytesRead), lines);
      if (lines.length > 0) this.events.lines(lines);
    }
    return true;
  }
}
