import fc from 'fast-check';
import { committedIndex } from './quorum';

/** The textbook definition: sort ascending and take the lower median. */
function medianOracle(matches: number[]): number {
  if (matches.length === 0) return 0;
  const sorted = [...matches].sort((left, right) => left - right);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

describe('committedIndex', () => {
  it('agrees with the median oracle on random configurations', () => {
    const scratch: number[] = [];
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 20 }), { maxLength: 9 }), (matches) => {
        expect(committedIndex(matches, scratch)).toBe(medianOracle(matches));
      }),
      { numRuns: 20_000 },
    );
  });

  it('needs a strict majority', () => {
    expect(committedIndex([5])).toBe(5);
    expect(committedIndex([5, 0])).toBe(0);
    expect(committedIndex([5, 3, 0])).toBe(3);
    expect(committedIndex([9, 7, 0, 0])).toBe(0);
    expect(committedIndex([9, 7, 6, 0])).toBe(6);
    expect(committedIndex([])).toBe(0);
  });
});
