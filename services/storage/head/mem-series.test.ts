import fc from 'fast-check';
import { aggregateRange } from '../chunk/aggregate';
import type { Samples } from '../chunk/samples';
import { SUMMARY_ROW_FIELDS, summarize } from '../chunk/summary';
import { MemSeries, SAMPLES_PER_CHUNK } from './mem-series';
import { mergeRuns } from './samples-merge';
import type { SealedChunk } from './sealed-chunk';

const labels = { tenant: 'default', measurement: 'cpu', tags: [], field: 'value' };

/** The brute-force view of a series: last write wins, in time order, within [from, to]. */
function expectedSamples(writes: Map<number, number>, from: number, to: number): Samples {
  const sorted = [...writes].filter(([time]) => time >= from && time <= to).sort((a, b) => a[0] - b[0]);
  return {
    timestamps: Float64Array.from(sorted, ([time]) => time),
    values: Float64Array.from(sorted, ([, value]) => value),
  };
}

const pairs = (samples: Samples) => Array.from(samples.timestamps, (time, index) => [time, samples.values[index]]);

describe('MemSeries aggregation parts', () => {
  it('offers only chunks whose samples are current, and their summaries match the data (property)', () => {
    const write = fc.tuple(fc.integer({ min: 0, max: 3_000 }), fc.oneof(fc.double({ noNaN: true }), fc.constant(NaN)));
    const step = fc.oneof(
      { weight: 4, arbitrary: fc.array(write, { minLength: 1, maxLength: 150 }).map((writes) => ({ writes })) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.integer({ min: -100, max: 3_100 }), fc.integer({ min: 0, max: 3_200 }), fc.boolean())
          .map(([from, length, isTaking]) => ({ query: { from, to: from + length, isTaking } })),
      },
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 12 }), (steps) => {
        const series = new MemSeries(1, labels, 'key');
        const writes = new Map<number, number>();
        // In order at first, so chunks get sealed, then anything: out-of-order samples and rewrites.
        for (let time = 0; time < 3 * SAMPLES_PER_CHUNK * 10; time += 10) {
          series.append(time, time / 10);
          writes.set(time, time / 10);
        }
        for (const entry of [...steps, { query: { from: -Infinity, to: Infinity, isTaking: true } }]) {
          if ('writes' in entry) {
            for (const [time, value] of entry.writes) {
              series.append(time, value);
              writes.set(time, value);
            }
            continue;
          }
          const { from, to, isTaking } = entry.query;
          const taken: SealedChunk[] = [];
          const rest = series.aggregationSamples(from, to, (chunk) => {
            expect(chunk.minTime).toBeGreaterThanOrEqual(from);
            expect(chunk.maxTime).toBeLessThanOrEqual(to);
            if (!isTaking) return false;
            taken.push(chunk);
            return true;
          });
          const expected = expectedSamples(writes, from, to);
          const merged = mergeRuns([...taken.map((chunk) => chunk.samples()), rest]);
          expect(pairs(merged)).toEqual(pairs(expected));
          for (const chunk of taken) {
            // A summary cached before later rewrites must never be offered again once they touch its range.
            const current = summarize(expectedSamples(writes, chunk.minTime, chunk.maxTime));
            expect(chunk.summary()).toEqual(current);
          }
        }
      }),
      { seed: 4, numRuns: 150 },
    );
  });

  it('stops offering a chunk once a rewrite lands in it, and offers the rebuilt chunk with a fresh summary', () => {
    const series = new MemSeries(1, labels, 'key');
    for (let time = 0; time < 2 * SAMPLES_PER_CHUNK; time++) series.append(time * 1000, 1);
    const offered = () => {
      const chunks: SealedChunk[] = [];
      series.aggregationSamples(-Infinity, Infinity, (chunk) => chunks.push(chunk) > 0);
      return chunks;
    };
    const [first, second] = offered();
    expect(first.summary().sum).toBe(SAMPLES_PER_CHUNK);
    series.append(5_000, 101);
    expect(offered()).toEqual([second]);
    const rest = series.aggregationSamples(-Infinity, Infinity, () => true);
    expect(rest.timestamps.length).toBe(SAMPLES_PER_CHUNK);
    expect(rest.values.reduce((a, b) => a + b, 0)).toBe(SAMPLES_PER_CHUNK + 100);
    // The 120th pending rewrite rebuilds the chunks: the new first chunk carries the rewritten values.
    for (let time = 0; time < SAMPLES_PER_CHUNK - 1; time++) series.append(time * 1000, 2);
    const rebuilt = offered();
    expect(rebuilt).toHaveLength(2);
    expect(rebuilt[0]).not.toBe(first);
    expect(rebuilt[0].summary().sum).toBe(2 * (SAMPLES_PER_CHUNK - 1) + 1);
  });
});

describe('SealedChunk partials', () => {
  const series = new MemSeries(1, labels, 'key');
  for (let time = 0; time <= SAMPLES_PER_CHUNK; time++) series.append(time * 10_000, Math.sin(time));
  let chunk: SealedChunk | undefined;
  series.aggregationSamples(-Infinity, Infinity, (offered) => {
    chunk = offered;
    return true;
  });

  it('keeps tier rows equal to the windowed summaries of its samples', () => {
    const rows = chunk!.rows(300_000)!;
    const { starts, summaries } = aggregateRange(chunk!.samples(), 0, Infinity, 300_000);
    expect(rows.length).toBe(starts.length * SUMMARY_ROW_FIELDS);
    summaries.forEach((summary, index) => {
      const row = Array.from(rows.subarray(index * SUMMARY_ROW_FIELDS, (index + 1) * SUMMARY_ROW_FIELDS));
      const { count, sum, sumsq, min, max, first, firstTime, last, lastTime } = summary;
      expect(row).toEqual([starts[index], count, sum, sumsq, min, max, first, firstTime, last, lastTime]);
    });
    expect(chunk!.rows(300_000)).toBe(rows);
  });

  it('keeps no rows for a tier finer than a few samples a row', () => {
    expect(chunk!.rows(60_000)).toBeUndefined();
    expect(chunk!.residentBytes).toBe(chunk!.bytes.byteLength + chunk!.rows(300_000)!.byteLength);
  });
});
