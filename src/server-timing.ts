/**
 * --server-timing: each response carries its connection's TCP_INFO from its txn_start to the browser, as a `Server-Timing`
 * entry `tcpinfo;desc="rtt=...&..."` (docs/server-timing.md), and with --timing-allow-origin a `Timing-Allow-Origin`.
 *
 *   txn_start (attach.ts) -> record(): the entry text, per transaction -> the hooks, just before the headers go out
 *   (http1.ts writeHead, http2.ts respond) -> the entry appended to the app's own Server-Timing, on a copy of its headers
 */
import type { ServerResponse } from 'node:http';
import { fieldSpec, type FieldSpec } from './tcpinfo/layout.js';
import type { Reading } from './tcpinfo/read.js';

/** What one response gets: the Server-Timing entry, and the Timing-Allow-Origin value (undefined: none). */
interface Pending {
  readonly entry: string;
  readonly allowOrigin: string | undefined;
}

/** Each transaction's entry, from its txn_start to its headers (a WeakMap: nothing is added to the response). */
const pendingByTxn = new WeakMap<object, Pending>();

/** Open loggers with --server-timing: while 0, the hooks pass by at the cost of this one test. */
export let serverTimingUsers = 0;

export function useServerTiming(delta: 1 | -1): void {
  serverTimingUsers += delta;
}

const spec = (name: string): FieldSpec => fieldSpec(name)!;
/** The description's keys and their struct tcp_info fields, in order; `ms`: microseconds shown as ms with one decimal. */
const KEYS: readonly { key: string; field: FieldSpec; ms: boolean }[] = [
  { key: 'rtt', field: spec('rtt'), ms: true },
  { key: 'min_rtt', field: spec('min_rtt'), ms: true },
  { key: 'rttvar', field: spec('rttvar'), ms: true },
  { key: 'cwnd', field: spec('snd_cwnd'), ms: false },
  { key: 'retrans', field: spec('total_retrans'), ms: false },
  { key: 'delivery_rate', field: spec('delivery_rate'), ms: false },
  { key: 'sent', field: spec('bytes_sent'), ms: false },
  { key: 'recv', field: spec('bytes_received'), ms: false },
];

/** A field of the reading as a number (u32 words: no bounds-checked reads); undefined beyond what the kernel returned. */
function value(field: FieldSpec, reading: Reading): number | undefined {
  if (field.offset + field.size > reading.length) return undefined;
  const w = reading.words;
  const i = field.offset >> 2;
  return field.size === 8 ? w[i + 1] * 4294967296 + w[i] : w[i];
}

/** Microseconds as milliseconds with one decimal, half up (a third of toFixed's cost). */
function tenthsOfMs(us: number): string {
  const tenths = Math.round(us / 100);
  return `${Math.floor(tenths / 10)}.${tenths % 10}`;
}

/** The entry for a reading: `tcpinfo;desc="rtt=31.2&min_rtt=12.0&..."`; a field this kernel lacks is left out. */
export function serverTimingEntry(reading: Reading): string {
  let desc = '';
  for (const { key, field, ms } of KEYS) {
    const v = value(field, reading);
    if (v === undefined) continue;
    desc += `${desc === '' ? '' : '&'}${key}=${ms ? tenthsOfMs(v) : v}`;
  }
  return `tcpinfo;desc="${desc}"`;
}

/** At txn_start: what the transaction's headers will carry (nothing when the read failed). */
export function recordServerTiming(txn: object, reading: Reading | null, allowOrigin: string | undefined): void {
  if (reading === null) return;
  pendingByTxn.set(txn, { entry: serverTimingEntry(reading), allowOrigin });
}

/** `existing` (a header's value as given) with `entry` added to its list. */
function appended(existing: unknown, entry: string): unknown {
  if (Array.isArray(existing)) return [...(existing as unknown[]), entry];
  if (existing === undefined || existing === null || existing === '') return entry;
  // A header value is a string or a number (Node takes String() of either).
  return `${existing as string}, ${entry}`;
}

/** The key under which `headers` (an object) has `name`, in any case; undefined when it has none. */
function keyOf(headers: object, name: string): string | undefined {
  for (const key of Object.keys(headers)) if (key.length === name.length && key.toLowerCase() === name) return key;
  return undefined;
}

/** Whether a flat [name, value, ...] list or a list of [name, value] pairs names `name`. */
function listHas(list: unknown[], name: string, pairs: boolean): boolean {
  const step = pairs ? 1 : 2;
  for (let i = 0; i < list.length; i += step) {
    const key = pairs ? (list[i] as unknown[])[0] : list[i];
    if (typeof key === 'string' && key.toLowerCase() === name) return true;
  }
  return false;
}

let faultReported = false;

/** A header object of the app's that could not be read or copied: the response goes out without the entry. */
function fault(err: unknown): void {
  if (faultReported) return;
  faultReported = true;
  process.emitWarning(`tcpinfo: --server-timing: a response went out without its entry: ${(err as Error)?.message}`, { code: 'TCPINFO_SERVER_TIMING' });
}

/**
 * HTTP/1, in writeHead before Node's: `headers` is writeHead's headers argument (object, flat list, list of pairs or
 * none). Returns what to pass on instead: the same, or a copy with the entry. The app's objects are never changed.
 */
export function http1Headers(res: ServerResponse, headers: unknown): unknown {
  const p = pendingByTxn.get(res);
  if (p === undefined) return headers;
  pendingByTxn.delete(res);
  try {
    if (Array.isArray(headers)) {
      const pairs = headers.length > 0 && Array.isArray(headers[0]);
      // Node's writeHead drops a name given earlier by setHeader when the list names it: then the entry goes in the list.
      if (pairs || listHas(headers, 'server-timing', false)) {
        const copy = headers.slice();
        if (pairs) copy.push(['Server-Timing', p.entry]);
        else copy.push('Server-Timing', p.entry);
        if (p.allowOrigin !== undefined && !listHas(headers, 'timing-allow-origin', pairs) && (pairs || !res.hasHeader('timing-allow-origin'))) {
          if (pairs) copy.push(['Timing-Allow-Origin', p.allowOrigin]);
          else copy.push('Timing-Allow-Origin', p.allowOrigin);
        }
        return copy;
      }
      outgoing(res, p, listHas(headers, 'timing-allow-origin', false));
      return headers;
    }
    if (headers !== null && typeof headers === 'object') {
      const stKey = keyOf(headers, 'server-timing');
      const hasTao = keyOf(headers, 'timing-allow-origin') !== undefined;
      if (stKey === undefined) {
        // writeHead sets the object's headers over the ones set before: ours, not named in it, stays.
        outgoing(res, p, hasTao);
        return headers;
      }
      const copy: Record<string, unknown> = { ...(headers as Record<string, unknown>) };
      copy[stKey] = appended(copy[stKey], p.entry);
      if (p.allowOrigin !== undefined && !hasTao && !res.hasHeader('timing-allow-origin')) copy['Timing-Allow-Origin'] = p.allowOrigin;
      return copy;
    }
    outgoing(res, p, false);
  } catch (err) {
    fault(err);
  }
  return headers;
}

/** The entry on the response's own headers (those of setHeader), after the app's Server-Timing if it set one. */
function outgoing(res: ServerResponse, p: Pending, taoGiven: boolean): void {
  res.setHeader('Server-Timing', appended(res.getHeader('server-timing'), p.entry) as string | string[]);
  if (p.allowOrigin !== undefined && !taoGiven && !res.hasHeader('timing-allow-origin')) res.setHeader('Timing-Allow-Origin', p.allowOrigin);
}

/**
 * HTTP/2, in respond() (or respondWithFD/File) before Node's, with the stream's exchange: the headers to pass on, the
 * same or a copy with the entry (the compatibility API's writeHead and setHeader come here as respond()'s headers).
 */
export function http2Headers(txn: object, headers: unknown): unknown {
  const p = pendingByTxn.get(txn);
  if (p === undefined) return headers;
  pendingByTxn.delete(txn);
  try {
    if (Array.isArray(headers)) {
      const copy = headers.slice();
      copy.push('server-timing', p.entry);
      if (p.allowOrigin !== undefined && !listHas(headers, 'timing-allow-origin', false)) copy.push('timing-allow-origin', p.allowOrigin);
      return copy;
    }
    if (headers === undefined || headers === null) {
      return p.allowOrigin === undefined ? { 'server-timing': p.entry } : { 'server-timing': p.entry, 'timing-allow-origin': p.allowOrigin };
    }
    if (typeof headers !== 'object') return headers;
    // Spread keeps symbol keys too (http2.sensitiveHeaders).
    const copy: Record<string, unknown> = { ...(headers as Record<string, unknown>) };
    const stKey = keyOf(headers, 'server-timing') ?? 'server-timing';
    copy[stKey] = appended(copy[stKey], p.entry);
    if (p.allowOrigin !== undefined && keyOf(headers, 'timing-allow-origin') === undefined) copy['timing-allow-origin'] = p.allowOrigin;
    return copy;
  } catch (err) {
    fault(err);
    return headers;
  }
}
