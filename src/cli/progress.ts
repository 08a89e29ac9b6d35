/** A progress line on stderr while reading large inputs, rewritten in place; only on a terminal. */
import { grouped } from './units.js';

const FIRST_UPDATE_MS = 500;
const UPDATE_EVERY_MS = 200;

export class Progress {
  private readonly stream: NodeJS.WritableStream & { isTTY?: boolean };
  private readonly totalBytes: number;
  private readonly startedAt = Date.now();
  private nextUpdate: number;
  private doneBytes = 0;
  private shown = false;

  constructor(stream: NodeJS.WritableStream & { isTTY?: boolean }, totalBytes: number) {
    this.stream = stream;
    this.totalBytes = totalBytes;
    this.nextUpdate = stream.isTTY === true ? this.startedAt + FIRST_UPDATE_MS : Infinity;
  }

  /** `bytes` more were read, from `label`; `readings` so far. */
  advance(bytes: number, label: string, readings: number): void {
    this.doneBytes += bytes;
    const now = Date.now();
    if (now < this.nextUpdate) return;
    this.nextUpdate = now + UPDATE_EVERY_MS;
    const percent = this.totalBytes > 0 ? Math.min(100, Math.floor((100 * this.doneBytes) / this.totalBytes)) : 100;
    const columns = (this.stream as { columns?: number }).columns || 80;
    const line = `reading ${label}: ${percent}%, ${grouped(readings)} readings`;
    this.stream.write('\r\x1b[K' + line.slice(0, Math.max(10, columns - 1)));
    this.shown = true;
  }

  /** Remove the line, before other output goes to the terminal. */
  clear(): void {
    if (!this.shown) return;
    this.stream.write('\r\x1b[K');
    this.shown = false;
  }
}
