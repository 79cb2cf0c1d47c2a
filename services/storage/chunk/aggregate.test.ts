import fc from 'fast-check';
import { aggregateRange } from './aggregate';
import { gaugeSamples } from './test/arbitraries';
import { bruteForceSummary } from './test/oracle';

/** Reference window of a time, in BigInt so no rounding can move a sample across an edge. */
function referenceStart(time: number, windowMs: number, offsetMs: number): number {
  const size = BigInt(windowMs);
  const shifted = BigInt(time) - BigInt(offsetMs);
  return Number(BigInt(time) - (((shifted % size) + size) % size));
}

describe('aggregateRange', () => {
  it('equals brute-force summaries per window over the samples in [from, to)', () => {
    fc.assert(
      fc.property(
        gaugeSamples,
        fc.nat(),
        fc.nat(),
        fc.constantFrom(0, 1, 7_000, 60_000, 300_000),
        fc.integer({ min: -100_000, max: 100_000 }),
        fc.boolean(),
        (samples, fromSeed, toSeed, windowMs, offsetMs, withSketch) => {
          const { timestamps } = samples;
          fc.pre(timestamps.length > 0);
          const pick = (seed: number) => timestamps[seed % timestamps.length] + ((seed % 3) - 1);
          const from = Math.min(pick(fromSeed), pick(toSeed));
          const to = Math.max(pick(fromSeed), pick(toSeed));
          const actual = aggregateRange(samples, from, to, windowMs, offsetMs, { withSketch });
          const expectedStarts: number[] = [];
          const expected = [];
          let index = timestamps.findIndex((time) => time >= from);
          while (index >= 0 && index < timestamps.length && timestamps[index] < to) {
            const start = windowMs === 0 ? from : referenceStart(timestamps[index], windowMs, offsetMs);
            const end = windowMs === 0 ? to : start + windowMs;
            let last = index;
            while (last < timestamps.length && timestamps[last] < Math.min(end, to)) last++;
            const { sketch, ...summary } = bruteForceSummary(samples, index, last);
            expectedStarts.push(start);
            expected.push(withSketch ? { ...summary, sketch } : summary);
            index = last;
          }
          expect(Array.from(actual.starts)).toEqual(expectedStarts);
          expect(actual.summaries).toEqual(expected);
        },
      ),
    );
  });

  it('rejects a negative or fractional window', () => {
    const samples = { timestamps: Float64Array.of(1), values: Float64Array.of(1) };
    expect(() => aggregateRange(samples, 0, 10, -1)).toThrow(RangeError);
    expect(() => aggregateRange(samples, 0, 10, 0.5)).toThrow(RangeError);
  });
});
