import fc from 'fast-check';
import { lastWhere } from '../../src/shared/application/monotone-search.js';

/** A search over [lo, hi] whose test holds up to `boundary` (inclusive), counting probes. */
function search(lo: number, hi: number, boundary: number, guess?: (lo: bigint, hi: bigint) => bigint) {
  const probes: bigint[] = [];
  const result = lastWhere({
    lo: BigInt(lo),
    hi: BigInt(hi),
    test: async (index) => {
      probes.push(index);
      if (index < BigInt(lo) || index > BigInt(hi)) throw new Error(`probe ${index} outside [${lo}, ${hi}]`);
      return index <= BigInt(boundary);
    },
    ...(guess ? { guess } : {}),
  });
  return { result, probes };
}

const log2 = (n: number) => Math.ceil(Math.log2(Math.max(2, n)));

describe('lastWhere (binary search through single reads)', () => {
  it('finds the last index whose test holds, in at most log2(n) + 2 probes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: -1, max: 100_001 }),
        async (lo, width, rawBoundary) => {
          const hi = lo + width;
          const boundary = Math.min(hi, lo - 1 + Math.max(0, Math.min(rawBoundary, width + 1)));
          const { result, probes } = search(lo, hi, boundary);
          expect(await result).toBe(boundary < lo ? null : BigInt(boundary));
          expect(probes.length).toBeLessThanOrEqual(log2(width + 1) + 2);
        },
      ),
    );
  });

  it('stays correct and logarithmic whatever the guess proposes (even out of range or adversarial)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 100_000 }),
        fc.nat(),
        fc.array(fc.bigInt({ min: -10n, max: 200_000n }), { minLength: 1 }),
        async (width, seed, guesses) => {
          const boundary = seed % (width + 1);
          let i = 0;
          const { result, probes } = search(0, width, boundary, () => guesses[i++ % guesses.length]!);
          expect(await result).toBe(BigInt(boundary));
          expect(probes.length).toBeLessThanOrEqual(2 * log2(width + 1) + 3);
        },
      ),
    );
  });

  it('needs only a couple of probes when the guess is right (interpolation on aligned snapshots)', async () => {
    const boundary = 73_456;
    const { result, probes } = search(0, 100_000, boundary, (lo, hi) =>
      BigInt(boundary) > lo && BigInt(boundary) < hi ? BigInt(boundary) : lo + 1n,
    );
    expect(await result).toBe(BigInt(boundary));
    expect(probes.length).toBeLessThanOrEqual(4);
  });

  it('answers null when even the first index fails, and handles an empty range', async () => {
    expect(await search(5, 10, 4).result).toBeNull();
    expect(await lastWhere({ lo: 3n, hi: 2n, test: async () => true })).toBeNull();
    expect(await search(7, 7, 7).result).toBe(7n);
  });
});
