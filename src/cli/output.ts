/** Standard output for the commands: a TTY (colours unless NO_COLOR)? and EPIPE (`| head`) aborts `closed`. */

export class Output {
  private readonly stream: NodeJS.WritableStream & { isTTY?: boolean };
  private readonly controller = new AbortController();
  /** Aborted when the reader of the output has gone. */
  readonly closed: AbortSignal = this.controller.signal;

  constructor(stream: NodeJS.WritableStream & { isTTY?: boolean }) {
    this.stream = stream;
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') {
        process.stderr.write(`tcpinfo: cannot write the output: ${err.message}\n`);
        process.exitCode = 1;
      }
      this.controller.abort();
    });
  }

  get isTTY(): boolean {
    return this.stream.isTTY === true;
  }

  /** The terminal's width in characters; undefined when not a terminal. */
  get columns(): number | undefined {
    return this.isTTY ? (this.stream as { columns?: number }).columns : undefined;
  }

  /** True when colours may be used: a terminal, and the user has not set NO_COLOR. */
  get color(): boolean {
    return this.isTTY && !process.env.NO_COLOR;
  }

  write(text: string): void {
    if (!this.closed.aborted && text.length > 0) this.stream.write(text);
  }
}

export const BOLD = '\x1b[1m';
export const RESET = '\x1b[0m';

/** Rows as columns padded to their widest cell; `right[i]` right-aligns column i. */
export function table(rows: string[][], right: boolean[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (right[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ').trimEnd());
}
