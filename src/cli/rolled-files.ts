/**
 * Names of rolled log files, `<logfile>_<hostname>.<start>-<end>[.<n>].old` (Traffic Server's rule),
 * and putting a list of log files in time order: rolled files by the period their name gives, then
 * the live files (which hold the newest lines) in the order they were named.
 */
import { basename } from 'node:path';
import { parseAtsTimestamp } from './log-record.js';

const TS = String.raw`\d{8}\.\d{2}h\d{2}m\d{2}s`;
const ROLLED_NAME = new RegExp(String.raw`^(.+)_(.+)\.(${TS})-(${TS})(?:\.(\d+))?\.old(?:\.gz)?$`);

export interface RolledName {
  /** The live file's name (`tcpinfo.log`). */
  logFile: string;
  host: string;
  /** Start and end of the rolled period, ms since the epoch. */
  start: number;
  end: number;
  /** The `.<n>` added when the name was already taken; 0 without. */
  clash: number;
}

export function parseRolledName(path: string): RolledName | undefined {
  const m = ROLLED_NAME.exec(basename(path));
  if (m === null) return undefined;
  const start = parseAtsTimestamp(m[3]);
  const end = parseAtsTimestamp(m[4]);
  if (Number.isNaN(start) || Number.isNaN(end)) return undefined;
  return { logFile: m[1], host: m[2], start, end, clash: m[5] === undefined ? 0 : Number(m[5]) };
}

/** Rolled files oldest first (by start, end, then clash number), then the others as given. */
export function inTimeOrder(paths: readonly string[]): string[] {
  const rolled: Array<{ path: string; name: RolledName }> = [];
  const live: string[] = [];
  for (const path of paths) {
    const name = parseRolledName(path);
    if (name === undefined) live.push(path);
    else rolled.push({ path, name });
  }
  rolled.sort((a, b) => a.name.start - b.name.start || a.name.end - b.name.end || a.name.clash - b.name.clash);
  return [...rolled.map((r) => r.path), ...live];
}
