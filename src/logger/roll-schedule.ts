/**
 * When the log rolls by time: Traffic Server's rule as pure functions of a time, so they can be checked
 * with any clock and in any time zone. (What a rolled file is called: format/rolled-name.ts.)
 */

const SECONDS_PER_DAY = 86_400;

/**
 * The first time boundary after `nowMs`: `offsetHr*3600 + k*intervalSec` seconds into the local day, as
 * ATS's LogUtils::seconds_to_next_roll. `intervalSec` divides 86400, so every day has the same boundaries.
 */
export function nextBoundary(nowMs: number, offsetHr: number, intervalSec: number): number {
  const now = new Date(nowMs);
  const firstOfDay = (offsetHr * 3600) % intervalSec;
  const secondOfDay = localSecondOfDay(now);
  const second = firstOfDay + (Math.floor((secondOfDay - firstOfDay) / intervalSec) + 1) * intervalSec;
  // Across a DST change: elapsed seconds are right in a repeated hour, a local date over a 23/25-hour day.
  // The earlier one at which the wall clock reads a boundary wins.
  const byElapsed = nowMs - (nowMs % 1000) + (second - secondOfDay) * 1000;
  const byDate = new Date(now.getFullYear(), now.getMonth(), now.getDate(), 0, 0, second).getTime();
  if (byElapsed > nowMs && byElapsed < byDate && readsBoundary(byElapsed, firstOfDay, intervalSec)) return byElapsed;
  if (byDate > nowMs) return byDate;
  return byElapsed > nowMs ? byElapsed : nowMs + Math.min(intervalSec, SECONDS_PER_DAY) * 1000;
}

/** The latest boundary at or before `nowMs`, from `boundaryMs`: after a sleep or a clock step, several passed. */
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
