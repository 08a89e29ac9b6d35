/**
 * Reading `TCP_INFO` from a Node socket through getsockopt(2), via koffi. The hot path is `readRaw`: one
 * getsockopt into a buffer allocated once. The fd is never kept: the kernel reuses fd numbers at once.
 */
import { endianness, platform } from 'node:os';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { TCP_INFO_FIELDS, TCP_INFO_MAX_LENGTH, decodeField, type FieldSpec } from './layout.js';

const IPPROTO_TCP = 6;
const TCP_INFO = 11;
const AF_INET = 2;
const SOCK_STREAM = 1;

type GetSockOpt = (fd: number, level: number, name: number, value: Buffer, length: Buffer) => number;

interface Binding {
  getsockopt: GetSockOpt;
  dup: (fd: number) => number;
  close: (fd: number) => number;
  /** Bytes of `struct tcp_info` this kernel returns (probed once on a fresh socket). */
  kernelLength: number;
}

let binding: Binding | null | undefined;
let unsupportedReason = '';

/** A `struct tcp_info` as read: bytes, the same as u32 words (no bounds-checking calls), and the length returned. */
export class Reading {
  readonly words: Uint32Array;
  constructor(
    readonly bytes: Buffer,
    public length: number,
  ) {
    this.words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2);
  }
}

/** The raw struct of the last successful `readRaw`, valid until the next read. */
export const rawInfo: Buffer = Buffer.alloc(TCP_INFO_MAX_LENGTH);
/** The reading of an event (readForEvent): rawInfo and its length, one object reused, never allocated per read. */
const eventReading = new Reading(rawInfo, 0);
const rawWords = eventReading.words;
const rawLength = Buffer.alloc(4);
const rawLengthWord = new Uint32Array(rawLength.buffer, rawLength.byteOffset, 1);

let failedReads = 0;

function loadBinding(): Binding | null {
  if (platform() !== 'linux') {
    unsupportedReason = `TCP_INFO is read only on Linux (this is ${platform()})`;
    return null;
  }
  if (endianness() !== 'LE') {
    unsupportedReason = 'the struct tcp_info layout here is little-endian only';
    return null;
  }
  try {
    // koffi is CommonJS; createRequire keeps this module ESM without a default-import interop question.
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    // load(null): the symbols already in this process (libc's), whatever the libc's file is called.
    const libc = koffi.load(null);
    const getsockopt = libc.func('int getsockopt(int fd, int level, int optname, void *optval, void *optlen)') as GetSockOpt;
    const socket = libc.func('int socket(int domain, int type, int protocol)') as (d: number, t: number, p: number) => number;
    const close = libc.func('int close(int fd)') as (fd: number) => number;
    const dup = libc.func('int dup(int fd)') as (fd: number) => number;
    const probe = socket(AF_INET, SOCK_STREAM, 0);
    if (probe < 0) throw new Error('socket() failed while probing TCP_INFO');
    rawLengthWord[0] = TCP_INFO_MAX_LENGTH;
    const rc = getsockopt(probe, IPPROTO_TCP, TCP_INFO, rawInfo, rawLength);
    close(probe);
    if (rc !== 0) throw new Error('getsockopt(TCP_INFO) failed on a fresh TCP socket');
    return { getsockopt, dup, close, kernelLength: rawLengthWord[0] };
  } catch (err) {
    unsupportedReason = `TCP_INFO cannot be read here: ${(err as Error).message}`;
    return null;
  }
}

function getBinding(): Binding | null {
  if (binding === undefined) binding = loadBinding();
  return binding;
}

/** True where this process can read TCP_INFO (Linux, little-endian, koffi loaded). */
export function isSupported(): boolean {
  return getBinding() !== null;
}

/** Why `isSupported()` is false; empty when it is true. */
export function unsupportedMessage(): string {
  getBinding();
  return unsupportedReason;
}

/** Bytes of `struct tcp_info` this kernel returns (280 on 6.18); 0 where unsupported. */
export function kernelTcpInfoLength(): number {
  return getBinding()?.kernelLength ?? 0;
}

/** The OS fd under a net.Socket or tls.TLSSocket right now, or -1 once it is closed. */
export function socketFd(socket: Socket): number {
  // `_handle` is undocumented but stable (Node 20, 22): a TCP wrap, or a TLSWrap that reports the TCP fd.
  const handle = (socket as unknown as { _handle: { fd?: number } | null })._handle;
  const fd = handle == null ? -1 : handle.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : -1;
}

/** getsockopt(TCP_INFO) into `rawInfo`: the length returned, or -1 (no fd, or failed). Never throws, allocates nothing. */
export function readRaw(socket: Socket): number {
  const b = binding === undefined ? getBinding() : binding;
  if (b === null) return -1;
  const fd = socketFd(socket);
  if (fd < 0) {
    failedReads++;
    return -1;
  }
  rawLengthWord[0] = TCP_INFO_MAX_LENGTH;
  if (b.getsockopt(fd, IPPROTO_TCP, TCP_INFO, rawInfo, rawLength) !== 0) {
    failedReads++;
    return -1;
  }
  return rawLengthWord[0];
}

let eventNumber = 0;
let readEvent = -1;

/** A new event begins: the next readForEvent reads again. */
export function beginEvent(): void {
  eventNumber++;
}

/** readRaw, once per event: the log and the metrics share one reading, valid until the next event; null on failure. */
export function readForEvent(socket: Socket): Reading | null {
  if (readEvent !== eventNumber) {
    readEvent = eventNumber;
    eventReading.length = readRaw(socket);
  }
  return eventReading.length < 0 ? null : eventReading;
}

/** Every field of `struct tcp_info` this kernel returned, by name (see layout.ts for units). */
export type TcpInfo = { [field: string]: number };

/** Decode the struct last read by `readRaw` into an object of every field within `length`. */
export function decodeRaw(length: number): TcpInfo {
  if (length === kernelTcpInfoLength()) {
    decodeKernelLength ??= compileDecoder(length);
    return decodeKernelLength(rawInfo, rawWords);
  }
  const info: TcpInfo = {};
  for (const spec of TCP_INFO_FIELDS) {
    const value = decodeField(spec, rawInfo, length);
    if (value !== undefined) info[spec.name] = value;
  }
  return info;
}

let decodeKernelLength: ((bytes: Buffer, words: Uint32Array) => TcpInfo) | undefined;

/**
 * A decoder for structs of this kernel's length: one generated object literal, one shape, about 40x faster
 * than filling an object field by field. Generated from TCP_INFO_FIELDS only: no outside text reaches it.
 */
function compileDecoder(length: number): (bytes: Buffer, words: Uint32Array) => TcpInfo {
  const read = (spec: FieldSpec): string => {
    const o = spec.offset;
    switch (spec.size) {
      case 1:
        return spec.bits === undefined ? `b[${o}]` : `(b[${o}] >>> ${spec.bits.shift}) & ${(1 << spec.bits.width) - 1}`;
      case 2:
        return `b[${o}] | (b[${o + 1}] << 8)`;
      case 4:
        return `w[${o >> 2}]`;
      case 8:
        return `w[${(o >> 2) + 1}] * 4294967296 + w[${o >> 2}]`;
    }
  };
  const fields = TCP_INFO_FIELDS.filter((spec) => spec.offset + spec.size <= length);
  const body = `return { ${fields.map((spec) => `${spec.name}: ${read(spec)}`).join(', ')} };`;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- a decoder for this kernel's TCP_INFO length, generated once
  return new Function('b', 'w', body) as (bytes: Buffer, words: Uint32Array) => TcpInfo;
}

/** The bare FFI call on an fd the caller has, for the benchmark beside readRaw (the plugin never keeps fds). */
export function rawGetsockopt(fd: number): number {
  const b = binding === undefined ? getBinding() : binding;
  if (b === null) return -1;
  rawLengthWord[0] = TCP_INFO_MAX_LENGTH;
  return b.getsockopt(fd, IPPROTO_TCP, TCP_INFO, rawInfo, rawLength) === 0 ? rawLengthWord[0] : -1;
}

/**
 * A duplicate of the socket's fd, owned by the caller, who must closeOwnedFd it: the one fd this module lets anyone keep,
 * for --explain to follow a response the kernel still delivers after the app closed the connection. -1 on failure.
 */
export function duplicateFd(socket: Socket): number {
  const b = binding === undefined ? getBinding() : binding;
  const fd = socketFd(socket);
  if (b === null || fd < 0) return -1;
  return b.dup(fd);
}

/** Close an fd from duplicateFd. */
export function closeOwnedFd(fd: number): void {
  binding?.close(fd);
}

/** readForEvent on an fd from duplicateFd: a new event's reading, null on failure. */
export function readOwnedFd(fd: number): Reading | null {
  eventNumber++;
  readEvent = eventNumber;
  eventReading.length = rawGetsockopt(fd);
  return eventReading.length < 0 ? null : eventReading;
}

/** TCP_INFO of a connected socket (net or tls, IPv4 or IPv6), in the kernel's units; `null` when closed or failed. */
export function readTcpInfo(socket: Socket): TcpInfo | null {
  const length = readRaw(socket);
  return length < 0 ? null : decodeRaw(length);
}

/** Reads (readTcpInfo's and the plugin's) that found no fd or failed in getsockopt, since the process started. */
export function failedReadCount(): number {
  return failedReads;
}
