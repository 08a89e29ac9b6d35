/** The Traffic Server timestamp, local time `%Y%m%d.%Hh%Mm%Ss` (e.g. `20140414.17h40m14s`). */

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
