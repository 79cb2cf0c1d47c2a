import fc from 'fast-check';
import { aggregateRange } from '../chunk/aggregate';
import type { Samples } from '../chunk/samples';
import { SUMMARY_ROW_FIELDS, packSummaryRows, summarize } from '../chunk/summary';
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

/** The values' bit patterns: NaN payloads and -0 compare exactly. */
const valueBits = (samples: Samples) => Array.from(new BigUint64Array(Float64Array.from(samples.values).buffer));

/** A quiet NaN with a payload, as a float64 carries it. */
const payloadNaN = new Float64Array(new BigUint64Array([0x7ff8_0000_dead_beefn]).buffer)[0];

/** The sealed chunks a full-range aggregation is offered, in order. */
const offeredChunks = (series: MemSeries): SealedChunk[] => {
  const chunks: SealedChunk[] = [];
  series.aggregationSamples(-Infinity, Infinity, (chunk) => chunks.push(chunk) > 0);
  return chunks;
};

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

describe('MemSeries.dropBefore', () => {
  it('answers as if the dropped samples were never written, with partials matching the data (property)', () => {
    const value = fc.oneof(
      fc.double(),
      fc.constantFrom(NaN, payloadNaN, Infinity, -Infinity, -0, 0),
      fc.integer({ min: -50, max: 50 }).map((tenths) => tenths / 10),
    );
    const write = fc.tuple(fc.integer({ min: 0, max: 6_000 }), value);
    const step = fc.oneof(
      { weight: 4, arbitrary: fc.array(write, { minLength: 1, maxLength: 150 }).map((writes) => ({ writes })) },
      { weight: 2, arbitrary: fc.integer({ min: -100, max: 6_500 }).map((drop) => ({ drop })) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 400 }).map((advance) => ({ advance })) },
      {
        // A run of rewrites and out-of-order samples, enough to merge the pending overrides into the chunks.
        weight: 2,
        arbitrary: fc
          .tuple(fc.integer({ min: 0, max: 6_000 }), fc.integer({ min: 1, max: 130 }), value)
          .map(([from, count, written]) => ({
            writes: Array.from({ length: count }, (_, k) => [from + k * 7, written]),
          })),
      },
    );
    const tierMs = 200;
    fc.assert(
      fc.property(fc.array(step, { maxLength: 14 }), (steps) => {
        const series = new MemSeries(1, labels, 'key');
        const writes = new Map<number, number>();
        const put = (time: number, written: number) => {
          series.append(time, written);
          writes.set(time, written);
        };
        for (let time = 0; time < 3 * SAMPLES_PER_CHUNK * 10; time += 10) put(time, time / 10);
        for (const entry of steps) {
          if ('writes' in entry) for (const [time, written] of entry.writes) put(time, written);
          else if ('advance' in entry) {
            // In-order samples past the newest, so chunks keep being sealed after drops.
            const start = series.isEmpty ? 0 : series.maxTime + 1;
            for (let time = start; time < start + entry.advance * 5; time += 5) put(time, Math.sin(time));
          } else {
            series.dropBefore(entry.drop);
            for (const time of [...writes.keys()]) if (time < entry.drop) writes.delete(time);
          }
          const expected = expectedSamples(writes, -Infinity, Infinity);
          const actual = series.samples(-Infinity, Infinity);
          expect(pairs(actual)).toEqual(pairs(expected));
          expect(valueBits(actual)).toEqual(valueBits(expected));
          expect(series.isEmpty).toBe(writes.size === 0);
          if (writes.size > 0) {
            expect(series.minTime).toBe(expected.timestamps[0]);
            expect(series.maxTime).toBe(expected.timestamps[expected.timestamps.length - 1]);
          }
          for (const chunk of offeredChunks(series)) {
            const current = expectedSamples(writes, chunk.minTime, chunk.maxTime);
            expect(chunk.count).toBe(current.timestamps.length);
            expect(chunk.summary()).toEqual(summarize(current));
            const rows = chunk.rows(tierMs);
            if (rows === undefined) continue;
            const { starts, summaries } = aggregateRange(current, chunk.minTime, chunk.maxTime + 1, tierMs);
            expect(Array.from(rows)).toEqual(Array.from(packSummaryRows(starts, summaries)));
          }
        }
      }),
      { seed: 7, numRuns: 60 },
    );
  });

  it('drops whole chunks before the cut, splits only the straddling one and keeps later chunks as they are', () => {
    const series = new MemSeries(1, labels, 'key');
    for (let time = 0; time < 4 * SAMPLES_PER_CHUNK + 10; time++) series.append(time * 1000, time === 130 ? -0 : 1);
    const [, second, third, fourth] = offeredChunks(series);
    const thirdSummary = third.summary();
    const fourthRows = fourth.rows(60_000);
    series.dropBefore(140_000);
    const [split, ...rest] = offeredChunks(series);
    expect(rest).toEqual([third, fourth]);
    expect(rest[0]).toBe(third);
    expect(third.summary()).toBe(thirdSummary);
    expect(fourth.rows(60_000)).toBe(fourthRows);
    expect(split).not.toBe(second);
    expect([split.minTime, split.maxTime, split.count]).toEqual([140_000, second.maxTime, 2 * SAMPLES_PER_CHUNK - 140]);
    expect(split.summary().sum).toBe(split.count);
    expect(series.minTime).toBe(140_000);
    const samples = series.samples(-Infinity, 150_000);
    expect(samples.timestamps[0]).toBe(140_000);
    expect(samples.timestamps.length).toBe(11);
  });

  it('splits the open chunk when the cut falls inside it and keeps appending to it', () => {
    const series = new MemSeries(1, labels, 'key');
    const special = new Map([
      [155, -0],
      [160, payloadNaN],
    ]);
    for (let time = 0; time < SAMPLES_PER_CHUNK + 50; time++) series.append(time * 1000, special.get(time) ?? time);
    series.dropBefore(150_000);
    expect(offeredChunks(series)).toEqual([]);
    for (let time = SAMPLES_PER_CHUNK + 50; time < 2 * SAMPLES_PER_CHUNK + 50; time++) series.append(time * 1000, time);
    const samples = series.samples(-Infinity, Infinity);
    expect(samples.timestamps[0]).toBe(150_000);
    expect(samples.timestamps.length).toBe(2 * SAMPLES_PER_CHUNK + 50 - 150);
    const expected = Float64Array.from({ length: samples.timestamps.length }, (_, index) => 150 + index);
    expected[5] = -0;
    expected[10] = payloadNaN;
    expect(valueBits(samples)).toEqual(valueBits({ timestamps: samples.timestamps, values: expected }));
    // The reopened chunk seals at SAMPLES_PER_CHUNK samples as any other.
    const [sealed] = offeredChunks(series);
    expect([sealed.minTime, sealed.count]).toEqual([150_000, SAMPLES_PER_CHUNK]);
  });

  it('empties the series when the cut is past its newest sample', () => {
    const series = new MemSeries(1, labels, 'key');
    for (let time = 0; time < 2 * SAMPLES_PER_CHUNK; time++) series.append(time, time);
    series.append(5, 50);
    series.dropBefore(2 * SAMPLES_PER_CHUNK);
    expect(series.isEmpty).toBe(true);
    expect(series.minTime).toBe(Infinity);
    expect(series.samples(-Infinity, Infinity).timestamps.length).toBe(0);
    expect(series.encodedBytes).toBe(0);
  });

  it('keeps chunks before the earliest pending override when merging overrides', () => {
    const series = new MemSeries(1, labels, 'key');
    for (let time = 0; time < 3 * SAMPLES_PER_CHUNK; time++) series.append(time * 1000, 1);
    const [first, second] = offeredChunks(series);
    const firstSummary = first.summary();
    for (let time = SAMPLES_PER_CHUNK; time < 2 * SAMPLES_PER_CHUNK; time++) series.append(time * 1000, 3);
    const [keptFirst, rebuilt] = offeredChunks(series);
    expect(keptFirst).toBe(first);
    expect(first.summary()).toBe(firstSummary);
    expect(rebuilt).not.toBe(second);
    expect(rebuilt.summary().sum).toBe(3 * SAMPLES_PER_CHUNK);
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
