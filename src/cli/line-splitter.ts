/**
 * Splitting bytes into lines in bounded memory: a line longer than `maxLineBytes` is dropped whole and
 * counted; empty lines are left out (no reading; a log of 2 GiB of newlines must not cost 2 G strings).
 */

/** Longest line kept; a tcpinfo line is a few hundred bytes. */
export const MAX_LINE_BYTES = 1 << 20;

export class LineSplitter {
  private readonly maxLineBytes: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** True while the rest of an overlong line is being skipped. */
  private skipping = false;
  /** Lines dropped for being longer than the bound. */
  overlong = 0;

  constructor(maxLineBytes = MAX_LINE_BYTES) {
    this.maxLineBytes = maxLineBytes;
  }

  /** Append the complete, non-empty lines of `chunk` (without newline or `\r`) to `out`. */
  push(chunk: Buffer, out: string[]): void {
    let start = this.pendingBytes === 0 && !this.skipping ? afterEmptyLines(chunk, 0) : 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      if (this.skipping) {
        this.skipping = false;
      } else if (this.pendingBytes > 0) {
        this.hold(chunk.subarray(start, nl));
        if (!this.skipping) out.push(decodeLine(Buffer.concat(this.pending, this.pendingBytes)));
        this.skipping = false;
        this.pending = [];
        this.pendingBytes = 0;
      } else if (nl > start) {
        out.push(decodeLine(chunk.subarray(start, nl)));
      }
      start = afterEmptyLines(chunk, nl + 1);
    }
    if (start < chunk.length && !this.skipping) this.hold(chunk.subarray(start));
  }

  /** The input ended: a last line without newline counts as a line. */
  end(out: string[]): void {
    if (this.pendingBytes > 0 && !this.skipping) out.push(decodeLine(Buffer.concat(this.pending, this.pendingBytes)));
    this.reset();
  }

  /** Forget any unfinished line (the file it came from is gone). */
  reset(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.skipping = false;
  }

  private hold(part: Buffer): void {
    if (this.pendingBytes + part.length > this.maxLineBytes) {
      this.overlong++;
      this.pending = [];
      this.pendingBytes = 0;
      this.skipping = true;
      return;
    }
    // Copy: the caller reuses its read buffer.
    this.pending.push(Buffer.from(part));
    this.pendingBytes += part.length;
  }
}

/** Where the run of empty lines (LF or CRLF) at `start` ends: they cost no string each. */
function afterEmptyLines(chunk: Buffer, start: number): number {
  const length = chunk.length;
  while (start < length) {
    if (chunk[start] === 10) start++;
    else if (chunk[start] === 13 && chunk[start + 1] === 10) start += 2;
    else break;
  }
  return start;
}

function decodeLine(bytes: Buffer): string {
  const end = bytes.length > 0 && bytes[bytes.length - 1] === 13 ? bytes.length - 1 : bytes.length;
  return bytes.toString('utf8', 0, end);
}
