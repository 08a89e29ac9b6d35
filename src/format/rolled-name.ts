/**
 * What a rolled log file is called, both ways: `<log>_<host>.<start>-<end>[.<n>].old` (Traffic Server's
 * rule; `.<n>` when the name was taken). The writer names rolls; retention and the CLI read them.
 */
import { basename } from 'node:path';
import { ATS_TIMESTAMP_SOURCE as TS, atsTimestamp, parseAtsTimestamp } from './timestamp.js';

/** The name a live file (a path) is rolled to. */
export function rolledName(file: string, hostname: string, startMs: number, endMs: number, version: number): string {
  const stem = `${file}_${hostname}.${atsTimestamp(startMs)}-${atsTimestamp(endMs)}`;
  return version === 0 ? `${stem}.old` : `${stem}.${version}.old`;
}

export interface RolledName {
  /** The live file's name (`tcpinfo.log`), no directory. */
  logFile: string;
  host: string;
  /** Start and end of the rolled period as the name writes them (they sort as text), and in ms since the epoch. */
  startText: string;
  endText: string;
  start: number;
  end: number;
  /** The `.<n>` of a name that was taken; 0 without. */
  version: number;
}

const TAIL = String.raw`_(.+)\.(${TS})-(${TS})(?:\.(\d+))?\.old`;
const ANY_LOG = new RegExp(String.raw`^(.+)${TAIL}(?:\.gz)?$`);

function fromMatch(logFile: string, m: RegExpExecArray, first: number): RolledName | undefined {
  const [host, startText, endText, version] = m.slice(first);
  const start = parseAtsTimestamp(startText);
  const end = parseAtsTimestamp(endText);
  if (Number.isNaN(start) || Number.isNaN(end)) return undefined;
  return { logFile, host, startText, endText, start, end, version: version === undefined ? 0 : Number(version) };
}

/** The parts of a rolled file's name (a path or a name), of any log; `.old.gz` too. Undefined for other names. */
export function parseRolledName(path: string): RolledName | undefined {
  const m = ANY_LOG.exec(basename(path));
  return m === null ? undefined : fromMatch(m[1], m, 2);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A reader of the rolled names of one log, `logFile` (no directory), by any host. A host part with `_` is
 * another log's (`<log>_x.log`'s names start with `<log>_` too): host names have none; only `ownHost` may.
 */
export function rolledNamesOf(logFile: string, ownHost: string): (name: string) => RolledName | undefined {
  const re = new RegExp(`^${escapeRegExp(logFile)}${TAIL}$`);
  return (name) => {
    const m = re.exec(name);
    if (m === null || (m[1].includes('_') && m[1] !== ownHost)) return undefined;
    return fromMatch(logFile, m, 1);
  };
}
