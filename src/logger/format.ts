/**
 * The Traffic Server tcpinfo log format: a header line naming the columns at the top of each new file,
 * then one line per event: timestamp, event, client IP, server IP, then the level's columns.
 */
import type { Socket } from 'node:net';
import { rawWords } from '../tcpinfo/read.js';

/** Level-2 columns in ATS order, with the byte offset of the u32 field each one reads. */
const LEVEL2_COLUMNS: ReadonlyArray<readonly [column: string, offset: number]> = [
  ['rtt', 68],
  ['rttvar', 72],
  ['last_sent', 44],
  ['last_recv', 52],
  ['snd_cwnd', 80],
  ['snd_ssthresh', 76],
  ['rcv_ssthresh', 64],
  ['unacked', 24],
  ['sacked', 28],
  ['lost', 32],
  ['retrans', 36],
  ['fackets', 40],
  ['all_retrans', 100],
];
/** Offsets of data_segs_in and data_segs_out: Linux 4.6+, and ATS writes them only where the kernel has them. */
const DATA_SEGS_IN = 152;
const DATA_SEGS_OUT = 156;
const DATA_SEGS_END = 160;

/** The header line for a level; `withDataSegs` when the kernel reports data_segs_in/out. */
export function headerLine(level: 1 | 2, withDataSegs: boolean): string {
  let header = 'timestamp event client server rtt';
  if (level === 2) {
    header += ' ' + LEVEL2_COLUMNS.slice(1).map(([column]) => column).join(' ');
    if (withDataSegs) header += ' data_segs_in data_segs_out';
  }
  return header + '\n';
}

/** True when a struct of this length has data_segs_in/out. */
export function hasDataSegs(kernelLength: number): boolean {
  return kernelLength >= DATA_SEGS_END;
}

/**
 * The start of every line: `timestamp event client server `. Addresses are the bare IP text as ATS
 * writes it (no port, no brackets; `::ffff:1.2.3.4` for v4-mapped). Node caches them on the socket.
 */
export function linePrefix(timestamp: string, event: string, socket: Socket): string {
  return timestamp + ' ' + event + ' ' + socket.remoteAddress + ' ' + socket.localAddress + ' ';
}

/** Level-1 columns of the struct last read: rtt in microseconds. */
export function level1Columns(): string {
  return rawWords[68 >> 2] + '\n';
}

/** Level-2 columns of the struct last read, in ATS order. */
export function level2Columns(length: number): string {
  const w = rawWords;
  let text =
    w[17] + ' ' + w[18] + ' ' + w[11] + ' ' + w[13] + ' ' + w[20] + ' ' + w[19] + ' ' + w[16] + ' ' +
    w[6] + ' ' + w[7] + ' ' + w[8] + ' ' + w[9] + ' ' + w[10] + ' ' + w[25];
  if (length >= DATA_SEGS_END) text += ' ' + w[DATA_SEGS_IN >> 2] + ' ' + w[DATA_SEGS_OUT >> 2];
  return text + '\n';
}

/** Column names of level 2 with the struct offset each reads: for tests and tools that decode lines. */
export function level2ColumnOffsets(withDataSegs: boolean): ReadonlyArray<readonly [string, number]> {
  return withDataSegs
    ? [...LEVEL2_COLUMNS, ['data_segs_in', DATA_SEGS_IN], ['data_segs_out', DATA_SEGS_OUT]]
    : LEVEL2_COLUMNS;
}
