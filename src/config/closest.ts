/** The known name a mistyped one was most likely meant to be, for "did you mean ...?" (options, hooks, CLI flags). */

/** Edits from `a` to `b`: insertions, deletions, substitutions and swaps of two neighbours (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  // Three rows: a swap looks two rows back.
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  let current = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) current[j] = Math.min(current[j], before[j - 2] + 1);
    }
    [before, previous, current] = [previous, current, before];
  }
  return previous[b.length];
}

/**
 * The name of `known` closest to `name` (case aside), or undefined when none is close enough to be a typo:
 * at most one edit per three characters, from 1 to 3 (ties go to the first in `known`); else the one name
 * that `name` begins (`rolling-interval` for `rolling-interval-sec`).
 */
export function closest(name: string, known: Iterable<string>): string | undefined {
  const typed = name.toLowerCase();
  const limit = Math.min(3, Math.max(1, Math.floor(typed.length / 3)));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of known) {
    const distance = editDistance(typed, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best !== undefined || typed.length < 3) return best;
  const longer = [...known].filter((candidate) => candidate.toLowerCase().startsWith(typed));
  return longer.length === 1 ? longer[0] : undefined;
}
