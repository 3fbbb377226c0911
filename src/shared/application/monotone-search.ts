/**
 * Binary search over something that can only be read one item at a time (a stream, through the event store
 * port): the last index whose test holds, for a test that holds up to some index and fails after it.
 */
export interface MonotoneSearch {
  /** Lowest and highest index to consider (inclusive). */
  readonly lo: bigint;
  readonly hi: bigint;
  /** True up to some index, false after it. Each call is one probe (usually one read). */
  readonly test: (index: bigint) => Promise<boolean>;
  /**
   * Proposes the next index to probe strictly between `lo` (test true) and `hi` (test false), e.g. by
   * interpolation. Out-of-range proposals are clamped. A proposal that does not halve the interval is followed
   * by a plain bisection, so the worst case stays about 2·log2(n) probes; a good guess needs one or two.
   */
  readonly guess?: (lo: bigint, hi: bigint) => bigint;
}

/** The last index in [lo, hi] whose test holds, or null when even `lo` fails. O(log n) probes. */
export async function lastWhere({ lo, hi, test, guess }: MonotoneSearch): Promise<bigint | null> {
  if (hi < lo || !(await test(lo))) return null;
  if (await test(hi)) return hi;
  // Invariant: test(lo) holds, test(hi) fails.
  let bisectNext = guess === undefined;
  while (hi - lo > 1n) {
    const width = hi - lo;
    let probe = bisectNext || !guess ? lo + width / 2n : guess(lo, hi);
    if (probe <= lo) probe = lo + 1n;
    if (probe >= hi) probe = hi - 1n;
    if (await test(probe)) lo = probe;
    else hi = probe;
    bisectNext = !bisectNext && hi - lo > width / 2n;
  }
  return lo;
}
