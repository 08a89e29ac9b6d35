/** Which records a command keeps: by event, by client address or subnet, by rtt, by time, by verdict. */
import { BlockList, isIP } from 'node:net';
import { eventList, pointInTime, UsageError } from './args.js';
import type { LogRecord } from '../format/log-record.js';

export interface RecordFilter {
  events?: ReadonlySet<string>;
  /** Keep only lines whose verdict (--explain) is one of these. */
  verdicts?: ReadonlySet<string>;
  clients?: BlockList;
  /** Keep only readings with rtt at or above this, in microseconds. */
  minRttUs?: number;
  /** Keep only readings at or after this time (ms since the epoch). */
  since?: number;
  /** Keep only readings before this time (ms since the epoch). */
  until?: number;
}

/** A comma list of addresses and CIDR subnets (`10.0.0.0/8`, `::1`, `2001:db8::/32`) as a BlockList. */
export function clientList(option: string, text: string): BlockList {
  const list = new BlockList();
  const entries = text.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  if (entries.length === 0) throw new UsageError(`${option}=${text}: give an address or subnet, e.g. 127.0.0.1 or 10.0.0.0/8`);
  for (const entry of entries) {
    const [address, prefixText, extra] = entry.split('/');
    const family = isIP(address);
    const max = family === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? max : Number(prefixText);
    if (family === 0 || extra !== undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > max || prefixText === '') {
      throw new UsageError(`${option}=${text}: ${entry} is not an IP address or subnet (e.g. 127.0.0.1, ::1, 10.0.0.0/8)`);
    }
    list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return list;
}

/** True when the record passes every part of the filter. */
export function accepts(filter: RecordFilter, record: LogRecord): boolean {
  if (filter.events !== undefined && !filter.events.has(record.event)) return false;
  if (filter.verdicts !== undefined && !filter.verdicts.has(record.text('verdict') ?? '')) return false;
  if (filter.since !== undefined && !(record.time >= filter.since)) return false;
  if (filter.until !== undefined && !(record.time < filter.until)) return false;
  if (filter.minRttUs !== undefined) {
    const rtt = record.number('rtt');
    if (rtt === undefined || rtt < filter.minRttUs) return false;
  }
  if (filter.clients !== undefined) {
    const family = isIP(record.client);
    if (family === 0 || !filter.clients.check(record.client, family === 4 ? 'ipv4' : 'ipv6')) return false;
  }
  return true;
}

/** The filter of the options every log-reading command takes: --since, --until, --event, --client. */
export function recordFilter(
  values: { since?: string; until?: string; event?: string; client?: string },
  now = Date.now(),
): RecordFilter {
  const filter: RecordFilter = {};
  if (values.since !== undefined) filter.since = pointInTime('--since', values.since, now);
  if (values.until !== undefined) filter.until = pointInTime('--until', values.until, now);
  if (filter.since !== undefined && filter.until !== undefined && filter.until <= filter.since) {
    throw new UsageError(`--until=${values.until} is not after --since=${values.since}`);
  }
  if (values.event !== undefined) filter.events = eventList('--event', values.event);
  if (values.client !== undefined) filter.clients = clientList('--client', values.client);
  return filter;
}
