import fc from 'fast-check';
import { DDSketch } from '../../kit/sketch';
import { ChunkCorruptionError } from './errors';
import { rollup } from './rollup';
import { Samples } from './samples';
import {
  SKETCH_ALPHA,
  Summary,
  decodeSummary,
  emptySummary,
  encodeSummary,
  mergeSummaries,
  summarize,
} from './summary';
import { anyValue, decimalValue, expectOnlyCorruption, samplesOf } from './test/arbitraries';

/** The definition, one field at a time, with nothing shared with the implementation but the sketch. */
function bruteForce(samples: Samples, from: number, to: number): Summary {
  const kept: [number, number][] = [];
  for (let index = from; index < to; index++) {
    if (!Number.isNaN(samples.values[index])) kept.push([samples.timestamps[index], samples.values[index]]);
  }
  if (kept.length === 0) return emptySummary();
  const values = kept.map(([, value]) => value);
  const sketch = new DDSketch(SKETCH_ALPHA);
  values.forEach((value) => sketch.add(value));
  const wire = sketch.toWire();
  const byIndex = (left: [number, number], right: [number, number]) => left[0] - right[0];
  return {
    count: values.length,
    sum: values.reduce((sum, value) => sum + value, 0),
    sumsq: values.reduce((sum, value) => sum + value * value, 0),
    min: values.reduce((min, value) => (value < min ? value : min)),
    max: values.reduce((max, value) => (value > max ? value : max)),
    first: values[0],
    firstTime: kept[0][0],
    last: values[values.length - 1],
    lastTime: kept[kept.length - 1][0],
    sketch: { ...wire, pos: wire.pos.sort(byIndex), neg: wire.neg.sort(byIndex) },
  };
}

/** Exact on everything but the sums, whose rounding depends on the order of additions. */
function expectSameSummary(actual: Summary, expected: Summary): void {
  const { sum, sumsq, ...rest } = actual;
  const { sum: expectedSum, sumsq: expectedSumsq, ...expectedRest } = expected;
  expect(rest).toEqual(expectedRest);
  for (const [value, reference] of [
    [sum, expectedSum],
    [sumsq, expectedSumsq],
  ]) {
    if (Number.isFinite(reference))
      expect(Math.abs(value - reference)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(reference) * 1e3));
    else expect(value).toBe(reference);
  }
}

const gaugeSamples = samplesOf(
  fc.oneof(decimalValue, fc.constant(NaN), fc.double({ min: -1e6, max: 1e6, noNaN: true })),
  200,
);
const finiteSums = (samples: Samples) =>
  samples.values.every((value) => Number.isNaN(value) || Math.abs(value) < 1e100);

describe('summaries', () => {
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
        expectSameSummary(merged, summarize(samples));
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
