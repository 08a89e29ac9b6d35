/**
 * When the log rolls by time: Traffic Server's rule as pure functions of a time, so they can be checked
 * with any clock and in any time zone. (What a rolled file is called: format/rolled-name.ts.)
 */

const SECONDS_PER_DAY = 86_400;

/**
 * The first time boundary after `nowMs` (ms since the epoch). Boundaries fall at
 * `offsetHr*3600 + k*intervalSec` seconds into the local day as the wall clock reads it, as in Traffic
 * Server's LogUtils::seconds_to_next_roll. `intervalSec` divides 86400 (the option parser raises it to a
 * divisor), so every day has the same boundaries, whatever the offset.
 */
export function nextBoundary(nowMs: number, offsetHr: number, intervalSec: number): number {
  const now = new Date(nowMs);
  const firstOfDay = (offsetHr * 3600) % intervalSec;
  const secondOfDay = localSecondOfDay(now);
  const second = firstOfDay + (Math.floor((secondOfDay - firstOfDay) / intervalSec) + 1) * intervalSec;
  // Two readings of "the wall clock shows that second next", which differ only across a DST change:
  // counted on in elapsed seconds (right within an hour that repeats, where the wall clock shows a time
  // twice), and built as a local date (right over a day of 23 or 25 hours; a time the change skips comes out
  // as the first valid time after it). The earlier one at which the wall clock does read a boundary wins.
  const byElapsed = nowMs - (nowMs % 1000) + (second - secondOfDay) * 1000;
  const byDate = new Date(now.getFullYear(), now.getMonth(), now.getDate(), 0, 0, second).getTime();
  if (byElapsed > nowMs && byElapsed < byDate && readsBoundary(byElapsed, firstOfDay, intervalSec)) return byElapsed;
  if (byDate > nowMs) return byDate;
  return byElapsed > nowMs ? byElapsed : nowMs + Math.min(intervalSec, SECONDS_PER_DAY) * 1000;
}

/**
 * The latest boundary at or before `nowMs`, counting from `boundaryMs` (a boundary): the one that counts when
 * several passed at once, after a suspended machine wakes or the clock is stepped forward.
 */
export function latestBoundary(boundaryMs: number, nowMs: number, offsetHr: number, intervalSec: number): number {
  let boundary = boundaryMs;
  // A week asleep with 60 s intervals is ten thousand steps; past the bound, the last one reached will do.
  for (let steps = 0; steps < 100_000; steps++) {
    const next = nextBoundary(boundary, offsetHr, intervalSec);
    if (next > nowMs) break;
    boundary = next;
  }
  return boundary;
}

/** The local wall clock at `ms` reads a boundary time. */
function readsBoundary(ms: number, firstOfDay: number, intervalSec: number): boolean {
  return (localSecondOfDay(new Date(ms)) - firstOfDay) % intervalSec === 0;
}

function localSecondOfDay(date: Date): number {
  return date.getHours() * 3600 + date.getMinutes() * 60 + date.getSeconds();
}
