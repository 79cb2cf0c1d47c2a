import fc from 'fast-check';
import { ChunkCorruptionError } from './errors';
import { rollup } from './rollup';
import { Samples } from './samples';
import { Summary, decodeSummary, emptySummary, encodeSummary, mergeSummaries, summarize } from './summary';
import { anyValue, expectOnlyCorruption, gaugeSamples, samplesOf } from './test/arbitraries';
import { bruteForceSummary as bruteForce } from './test/oracle';

/**
 * Exact on everything but the sums, whose rounding depends on the order of additions: those may differ by what n
 * roundings of the partial sums can add up to, relative to the sum of magnitudes.
 */
function expectSameSummary(actual: Summary, expected: Summary, samples: Samples): void {
  const { sum, sumsq, ...rest } = actual;
  const { sum: expectedSum, sumsq: expectedSumsq, ...expectedRest } = expected;
  expect(rest).toEqual(expectedRest);
  const finite = Array.from(samples.values).filter((value) => !Number.isNaN(value));
  const magnitude = finite.reduce((total, value) => total + Math.abs(value), 0);
  const squares = finite.reduce((total, value) => total + value * value, 0);
  const tolerance = finite.length * Number.EPSILON;
  expect(Math.abs(sum - expectedSum)).toBeLessThanOrEqual(tolerance * magnitude);
  expect(Math.abs(sumsq - expectedSumsq)).toBeLessThanOrEqual(tolerance * squares);
}

const finiteSums = (samples: Samples) =>
  samples.values.every((value) => Number.isNaN(value) || Math.abs(value) < 1e100);

describe('summaries', () => {
  it('hold the very sketch DDSketch makes, for any values (property)', () => {
    fc.assert(
      fc.property(samplesOf(anyValue, 300), (samples) => {
        const { sketch } = summarize(samples);
        expect(sketch).toEqual(bruteForce(samples, 0, samples.timestamps.length).sketch);
      }),
      { seed: 21, numRuns: 300 },
    );
  });

  it('equal a brute-force computation over any index range', () => {
    fc.assert(
      fc.property(gaugeSamples, fc.nat(), fc.nat(), (samples, fromSeed, toSeed) => {
        const length = samples.timestamps.length;
        const from = fromSeed % (length + 1);
        const to = from + (toSeed % (length - from + 1));
        const actual = summarize(samples, from, to);
        const expected = bruteForce(samples, from, to);
        expect(actual).toEqual(expected);
      }),
    );
  });

  it('merge like a summary of the concatenation', () => {
    fc.assert(
      fc.property(gaugeSamples, fc.nat(), (samples, cutSeed) => {
        fc.pre(finiteSums(samples));
        const length = samples.timestamps.length;
        const cut = cutSeed % (length + 1);
        const merged = mergeSummaries(summarize(samples, 0, cut), summarize(samples, cut, length));
        expectSameSummary(merged, summarize(samples), samples);
      }),
    );
  });

  it('keep an empty summary as the identity of merging', () => {
    const summary = summarize({ timestamps: Float64Array.of(1, 2), values: Float64Array.of(3, NaN) });
    expect(mergeSummaries(emptySummary(), summary)).toEqual(summary);
    expect(mergeSummaries(summary, emptySummary())).toEqual(summary);
    expect(mergeSummaries(emptySummary(), emptySummary())).toEqual(emptySummary());
  });

  it('round-trip through the binary form, infinities and -0 included', () => {
    fc.assert(
      fc.property(samplesOf(anyValue, 100), (samples) => {
        const summary = summarize(samples);
        expect(decodeSummary(encodeSummary(summary))).toEqual(summary);
      }),
    );
  });

  it('throw only ChunkCorruptionError on truncated or altered summaries', () => {
    fc.assert(
      fc.property(gaugeSamples, fc.nat(), fc.nat(), (samples, positionSeed, byteSeed) => {
        const bytes = encodeSummary(summarize(samples));
        expect(() => decodeSummary(bytes.subarray(0, positionSeed % bytes.length))).toThrow(ChunkCorruptionError);
        const altered = bytes.slice();
        altered[positionSeed % bytes.length] ^= (byteSeed % 255) + 1;
        expectOnlyCorruption(() => decodeSummary(altered));
      }),
    );
  });
});

describe('rollups', () => {
  it('hold one brute-force summary per epoch-aligned window that has samples', () => {
    fc.assert(
      fc.property(gaugeSamples, fc.constantFrom(1, 7, 60_000, 300_000, 3_600_000), (samples, windowMs) => {
        const { starts, summaries } = rollup(samples, windowMs);
        const expectedStarts: number[] = [];
        const expectedSummaries: Summary[] = [];
        const { timestamps } = samples;
        for (let index = 0; index < timestamps.length;) {
          const start = Number(
            BigInt(timestamps[index]) -
              (((BigInt(timestamps[index]) % BigInt(windowMs)) + BigInt(windowMs)) % BigInt(windowMs)),
          );
          let end = index;
          while (end < timestamps.length && timestamps[end] < start + windowMs) end++;
          expectedStarts.push(start);
          expectedSummaries.push(bruteForce(samples, index, end));
          index = end;
        }
        expect(Array.from(starts)).toEqual(expectedStarts);
        expect(summaries).toEqual(expectedSummaries);
      }),
    );
  });

  it('rejects a window that is not a positive integer', () => {
    const samples = { timestamps: Float64Array.of(1), values: Float64Array.of(1) };
    expect(() => rollup(samples, 0)).toThrow(RangeError);
    expect(() => rollup(samples, 1.5)).toThrow(RangeError);
  });
});
