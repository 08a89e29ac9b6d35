/**
 * The lines a writer holds until they are in the file, bounded in lines and in bytes, and counted: every
 * line accepted ends up written or lost, never both, never neither.
 *
 *   add(line) or reserve() + commit() -> batch (bytes at the end of a chunk) -> takeBatch() -> taken (bytes,
 *   oldest first) -> cutNextWrite(limit) -> outgoing (whole lines) -> wrote(n) / dropTornRest() / discard()
 *
 * Lines are bytes from the start: a formatter writes its line straight into the chunk (reserve, commit), a
 * string line is encoded into it once (add). No I/O: the writer does the writing and tells the queue how many
 * bytes landed.
 */

const NEWLINE = 0x0a;
/** Bytes of a chunk the batch is written into: above the writer's eager batch (256 KiB), so a full chunk means a write. */
const CHUNK_BYTES = 320 * 1024;
/** After a take, the rest of the chunk is used for the next batch when at least this much is left. */
const MIN_REST_BYTES = 32 * 1024;

/** The counts the queue keeps (the writer's stats object, shared). */
export interface LineCounts {
  queued: number;
  /** Lines whose every byte reached the file. */
  written: number;
  /** Lines refused: the queue full, or closed. */
  dropped: number;
  /** Lines accepted and never written whole: discarded, or cut by a fault. */
  lost: number;
}

export class LineQueue {
  /** The batch (lines not taken yet) is chunk[batchStart, fill); bytes before batchStart belong to taken buffers. */
  private chunk: Buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private batchStart = 0;
  /** Where the next line goes in the chunk (after reserve(), where the reserved line starts). */
  fill = 0;
  batchLines = 0;
  /** Lines taken, as bytes, oldest first. */
  private taken: Buffer[] = [];
  private takenLines: number[] = [];
  /** The bytes of the next write, or of the one under way, or the rest of one a fault cut short. */
  outgoing: Buffer | null = null;
  /** Lines ending in `outgoing`. */
  outgoingLines = 0;
  /** `outgoing` begins inside a line whose start is already in the file. */
  outgoingMidLine = false;
  /** Lines taken and not written yet (in `outgoing` and in `taken`), and their bytes. */
  heldLines = 0;
  heldBytes = 0;
  closed = false;

  constructor(
    /** Lines that may wait before further lines are dropped. */
    readonly maxLines: number,
    /** Bytes that may wait. */
    readonly maxBytes: number,
    private readonly counts: LineCounts,
  ) {}

  /** Bytes of the batch (lines not taken yet). */
  get batchBytes(): number {
    return this.fill - this.batchStart;
  }

  /** The batch as text (for tests and debugging). */
  batchText(): string {
    return this.chunk.toString('utf8', this.batchStart, this.fill);
  }

  /**
   * Room for one line of at most `max` bytes: the buffer to write it into, from `fill`; then commit(end). Null (the
   * line counted dropped) when the queue is closed or holds its most lines.
   */
  reserve(max: number): Buffer | null {
    if (this.closed || this.batchLines + this.heldLines >= this.maxLines) {
      this.counts.dropped++;
      return null;
    }
    if (this.fill + max > this.chunk.length) this.newChunk(max);
    return this.chunk;
  }

  /**
   * The reserved line was written up to `end` (its newline included): the batch's bytes after it, or -1 (dropped)
   * when it would take the queue past its bytes.
   */
  commit(end: number): number {
    if (end - this.batchStart + this.heldBytes > this.maxBytes) {
      this.counts.dropped++;
      return -1;
    }
    this.fill = end;
    this.batchLines++;
    this.counts.queued++;
    return end - this.batchStart;
  }

  /** Accept one line (newline added if missing): the batch's bytes after it, or -1 (dropped) when full or closed. */
  add(line: string): number {
    // Its bytes are at least its length: a line that cannot fit is refused before any room is made for it.
    if (this.batchBytes + this.heldBytes + line.length > this.maxBytes) {
      this.counts.dropped++;
      return -1;
    }
    // UTF-8 takes at most 3 bytes for a UTF-16 unit (a surrogate pair: 4 for 2).
    const chunk = this.reserve(3 * line.length + 1);
    if (chunk === null) return -1;
    let end = this.fill + chunk.write(line, this.fill, 'utf8');
    if (end === this.fill || chunk[end - 1] !== NEWLINE) chunk[end++] = NEWLINE;
    return this.commit(end);
  }

  /** The batch so far goes to `taken`; a chunk with room for `max` more bytes takes the next lines. */
  private newChunk(max: number): void {
    this.takeBatch();
    this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, max));
    this.batchStart = 0;
    this.fill = 0;
  }

  get waiting(): number {
    return this.batchLines + this.heldLines;
  }

  /** At most half full, in lines and in bytes: after a full queue, room again for a burst. */
  get hasRoomAgain(): boolean {
    return 2 * this.waiting <= this.maxLines && 2 * (this.batchBytes + this.heldBytes) <= this.maxBytes;
  }

  /** Bytes were taken from the batch and wait to be written. */
  get holdsTaken(): boolean {
    return this.outgoing !== null || this.taken.length > 0;
  }

  takeBatch(): void {
    if (this.batchLines === 0) return;
    const bytes = this.chunk.subarray(this.batchStart, this.fill);
    this.heldBytes += bytes.length;
    this.taken.push(bytes);
    this.takenLines.push(this.batchLines);
    this.heldLines += this.batchLines;
    this.batchLines = 0;
    if (this.chunk.length - this.fill >= MIN_REST_BYTES) {
      this.batchStart = this.fill;
    } else {
      this.chunk = Buffer.allocUnsafe(CHUNK_BYTES);
      this.batchStart = 0;
      this.fill = 0;
    }
  }

  /**
   * Cut the next write from `taken` into `outgoing`: whole lines, about `limit` bytes. `within`: never past
   * `limit` (a pipe's PIPE_BUF; a longer line alone); otherwise up to the line that crosses it.
   */
  cutNextWrite(limit: number, within: boolean): void {
    const first = this.taken[0];
    if (first.length > (within ? limit : limit + 1)) {
      const cut = within ? lastLineEnd(first, limit) : first.indexOf(NEWLINE, limit);
      if (cut >= 0 && cut + 1 < first.length) {
        const lines = countLines(first, cut + 1);
        this.outgoing = first.subarray(0, cut + 1);
        this.outgoingLines = lines;
        this.taken[0] = first.subarray(cut + 1);
        this.takenLines[0] -= lines;
        return;
      }
    }
    let count = 1;
    let bytes = first.length;
    let lines = this.takenLines[0];
    while (count < this.taken.length && bytes + this.taken[count].length <= limit) {
      bytes += this.taken[count].length;
      lines += this.takenLines[count];
      count++;
    }
    this.outgoing = count === 1 ? first : Buffer.concat(this.taken.slice(0, count), bytes);
    this.outgoingLines = lines;
    this.taken.splice(0, count);
    this.takenLines.splice(0, count);
  }

  /** The first `n` bytes of `outgoing` (n > 0) landed; the rest stays for the next write. True when all did. */
  wrote(n: number): boolean {
    const outgoing = this.outgoing as Buffer;
    if (n === outgoing.length) {
      this.counts.written += this.outgoingLines;
      this.heldLines -= this.outgoingLines;
      this.heldBytes -= n;
      this.outgoingLines = 0;
      this.outgoing = null;
      this.outgoingMidLine = false;
      return true;
    }
    const lines = countLines(outgoing, n);
    this.counts.written += lines;
    this.outgoingLines -= lines;
    this.heldLines -= lines;
    this.heldBytes -= n;
    this.outgoingMidLine = outgoing[n - 1] !== NEWLINE;
    this.outgoing = outgoing.subarray(n);
    return false;
  }

  /** The file holding the start of `outgoing`'s first line was let go: drop its rest (counted lost). */
  dropTornRest(): void {
    if (!this.outgoingMidLine) return;
    const outgoing = this.outgoing as Buffer;
    const end = outgoing.indexOf(NEWLINE);
    this.counts.lost++;
    this.outgoingLines--;
    this.heldLines--;
    this.outgoingMidLine = false;
    this.heldBytes -= end < 0 ? outgoing.length : end + 1;
    this.outgoing = end < 0 || end + 1 === outgoing.length ? null : outgoing.subarray(end + 1);
  }

  /**
   * At exit: everything waiting, as one buffer, to `writeSync` (which returns the bytes written).
   * `keepOutgoing`: a write of `outgoing` is under way (its bytes may or may not land): left alone.
   */
  writeAllSync(keepOutgoing: boolean, writeSync: (bytes: Buffer) => number): void {
    const takeOutgoing = !keepOutgoing && this.outgoing !== null;
    const lines = this.batchLines + this.heldLines - (takeOutgoing ? 0 : this.outgoingLines);
    if (lines === 0) return;
    const parts = takeOutgoing ? [this.outgoing as Buffer, ...this.taken] : this.taken;
    const buf = Buffer.concat([...parts, this.chunk.subarray(this.batchStart, this.fill)]);
    this.batchStart = this.fill;
    this.batchLines = 0;
    this.taken = [];
    this.takenLines = [];
    if (takeOutgoing) {
      this.outgoing = null;
      this.outgoingLines = 0;
    }
    this.heldLines = this.outgoingLines;
    this.heldBytes = this.outgoing === null ? 0 : this.outgoing.length;
    const done = writeSync(buf);
    const written = done === buf.length ? lines : countLines(buf, done);
    this.counts.written += written;
    this.counts.lost += lines - written;
  }

  /** Everything waiting is given up on (counted lost). */
  discard(): void {
    this.counts.lost += this.heldLines + this.batchLines;
    this.outgoing = null;
    this.taken = [];
    this.takenLines = [];
    this.outgoingLines = 0;
    this.heldLines = 0;
    this.heldBytes = 0;
    this.fill = this.batchStart;
    this.batchLines = 0;
  }
}

/** End of the last line within the first `limit` bytes of `buf`, or of the first line when it is longer. */
function lastLineEnd(buf: Buffer, limit: number): number {
  const end = buf.lastIndexOf(NEWLINE, limit - 1);
  return end >= 0 ? end : buf.indexOf(NEWLINE, limit);
}

/** Lines ended within the first `end` bytes of `buf`. */
export function countLines(buf: Buffer, end: number): number {
  let lines = 0;
  for (let i = buf.indexOf(NEWLINE); i !== -1 && i < end; i = buf.indexOf(NEWLINE, i + 1)) lines++;
  return lines;
}
