/** The log's timestamps, both ways: ATS local `%Y%m%d.%Hh%Mm%Ss` (text, rolled names); ISO-8601 UTC (JSON). */

/** An ATS timestamp, as a regular expression's source (no anchors, no groups). */
export const ATS_TIMESTAMP_SOURCE = String.raw`\d{8}\.\d{2}h\d{2}m\d{2}s`;

function two(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

/** Format a time (ms since the epoch) the ATS way, in local time. */
export function atsTimestamp(ms: number): string {
  const d = new Date(ms);
  return (
    d.getFullYear() + two(d.getMonth() + 1) + two(d.getDate()) +
    '.' + two(d.getHours()) + 'h' + two(d.getMinutes()) + 'm' + two(d.getSeconds()) + 's'
  );
}

let cachedSecond = -1;
let cachedText = '';

/** The ATS timestamp of now. Formatted once per second: lines in the same second share the string. */
export function atsTimestampNow(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedText = atsTimestamp(now);
  }
  return cachedText;
}

const ATS_TIMESTAMP = /^(\d{4})(\d{2})(\d{2})\.(\d{2})h(\d{2})m(\d{2})s$/;

let lastParsedText = '';
let lastParsedMs = NaN;

/** Milliseconds since the epoch of an ATS timestamp (local time); NaN if `text` is not one. */
export function parseAtsTimestamp(text: string): number {
  // Lines of the same second share a timestamp: most calls are this one comparison.
  if (text === lastParsedText) return lastParsedMs;
  lastParsedMs = atsTimestampToMs(text);
  lastParsedText = text;
  return lastParsedMs;
}

function atsTimestampToMs(text: string): number {
  const m = ATS_TIMESTAMP.exec(text);
  if (m === null) return NaN;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return NaN;
  return new Date(year, month - 1, day, hour, minute, second).getTime();
}

let isoMs = -1;
let isoText = '';

/** The JSON lines' time of now: ISO-8601 UTC with milliseconds, formatted once per millisecond. */
export function isoNow(): string {
  const now = Date.now();
  if (now !== isoMs) {
    isoMs = now;
    isoText = new Date(now).toISOString();
  }
  return isoText;
}

/** Milliseconds since the epoch of a JSON line's time; NaN if it is not one. */
export function parseIsoTime(text: unknown): number {
  return typeof text === 'string' ? Date.parse(text) : NaN;
}
