/**
 * Exact percentiles in memory that grows with distinct values, not lines (kernel readings are integers of
 * limited range: millions of lines, a few thousand values). Nearest-rank: always a value that was seen.
 */
export class ValueCounts {
  private readonly counts = new Map<number, number>();
  private sorted: number[] | null = null;
  total = 0;

  add(value: number, times = 1): void {
    const seen = this.counts.get(value);
    if (seen === undefined) {
      this.counts.set(value, times);
      this.sorted = null;
    } else {
      this.counts.set(value, seen + times);
    }
    this.total += times;
  }

  addAll(other: ValueCounts): void {
    for (const [value, times] of other.counts) this.add(value, times);
  }

  /** Nearest-rank percentile, `p` in 0..100; `undefined` when nothing was added. */
  percentile(p: number): number | undefined {
    return this.percentiles([p])[0];
  }

  /** Several nearest-rank percentiles in one pass over the sorted values. */
  percentiles(ps: readonly number[]): Array<number | undefined> {
    if (this.total === 0) return ps.map(() => undefined);
    const values = this.sortedValues();
    return ps.map((p) => {
      const rank = nearestRank(p, this.total);
      let seen = 0;
      for (const value of values) {
        seen += this.counts.get(value)!;
        if (seen >= rank) return value;
      }
      return values[values.length - 1];
    });
  }

  max(): number | undefined {
    const values = this.sortedValues();
    return values.length === 0 ? undefined : values[values.length - 1];
  }

  /** [value, times] in ascending order of value. */
  *entries(): IterableIterator<[number, number]> {
    for (const value of this.sortedValues()) yield [value, this.counts.get(value)!];
  }

  private sortedValues(): number[] {
    if (this.sorted === null) this.sorted = [...this.counts.keys()].sort((a, b) => a - b);
    return this.sorted;
  }
}

/** ceil(p/100 * n), at least 1, without letting float error turn an exact rank into the next one. */
function nearestRank(p: number, n: number): number {
  const exact = (p * n) / 100;
  const whole = Math.round(exact);
  const rank = Math.abs(exact - whole) < 1e-9 ? whole : Math.ceil(exact);
  return Math.min(n, Math.max(1, rank));
}
