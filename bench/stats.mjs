// Summaries of repeated measurements: medians, and the median of per-pair ratios and differences.

/** Median of the finite numbers in `values`; null when there are none. */
export function median(values) {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Median over pairs of `f(pair)`: the pair-wise comparison that cancels slow drifts of a shared machine. */
export function medianOfPairs(pairs, f) {
  return median(pairs.map(f));
}

/**
 * Nanoseconds per call of `fn`: the median over rounds of `iterations` calls each, after a warm-up.
 * Bounded in count (`rounds`) and in time (`maxMs`, checked between rounds).
 */
export function nsPerCall(fn, { iterations, rounds, maxMs }) {
  for (let i = 0; i < Math.min(iterations, 10_000); i++) fn();
  const perRound = [];
  const deadline = performance.now() + maxMs;
  for (let r = 0; r < rounds && (r === 0 || performance.now() < deadline); r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn();
    perRound.push(Number(process.hrtime.bigint() - start) / iterations);
  }
  return { ns: median(perRound), min: Math.min(...perRound), rounds: perRound.length, iterations };
}
