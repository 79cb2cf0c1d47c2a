import fc from 'fast-check';
import { seededRandom } from '../../kit/clock';
import { BinaryFormatError } from '../encoding/binary';
import { decodeSeriesTable, encodeSeriesTable, type BlockSeries } from './format';
import {
  decodeRollupColumns,
  decodeRollupSketches,
  decodeSomeRollupColumns,
  encodeRollupColumns,
  encodeRollupSketches,
  ROLLUP_COLUMN_NAMES,
} from './rollup-format';

const name = fc.string({ minLength: 1, maxLength: 10 });
const time = fc.integer({ min: -1e13, max: 1e13 });
const series: fc.Arbitrary<BlockSeries> = fc.record({
  labels: fc.record({
    tenant: name,
    measurement: name,
    field: name,
    tags: fc.array(fc.tuple(name, name), { maxLength: 3 }),
  }),
  chunks: fc.array(
    fc
      .record({
        minTime: time,
        span: fc.nat(1e9),
        count: fc.nat(65_535),
        offset: fc.nat(),
        length: fc.nat(),
        summary: fc.uint8Array({ maxLength: 20 }),
      })
      .map(({ span, ...chunk }) => ({ ...chunk, maxTime: chunk.minTime + span })),
    { maxLength: 4 },
  ),
  rollups: fc.array(
    fc.record({
      windowMs: fc.nat(),
      offset: fc.nat(),
      length: fc.nat(),
      sketchOffset: fc.nat(),
      sketchLength: fc.nat(),
    }),
    { maxLength: 3 },
  ),
});

describe('block series table', () => {
  it('round-trips, and every truncation is a BinaryFormatError (property)', () => {
    fc.assert(
      fc.property(fc.array(series, { maxLength: 4 }), (table) => {
        const bytes = encodeSeriesTable(table);
        expect(decodeSeriesTable(bytes)).toEqual(table);
        for (let cut = 0; cut < bytes.length; cut += 3)
          expect(() => decodeSeriesTable(bytes.subarray(0, cut))).toThrow(BinaryFormatError);
      }),
      { seed: 4, numRuns: 50 },
    );
  });
});

describe('rollup columns', () => {
  it('round-trip rows, including rows with no first or last time', () => {
    const windowMs = 300_000;
    const columns = {
      starts: Float64Array.from([0, 300_000, 1_500_000]),
      counts: Float64Array.from([3, 0, 30]),
      sums: Float64Array.from([1.5, 0, -2]),
      sumsqs: Float64Array.from([2.25, 0, 4]),
      mins: Float64Array.from([0.1, Infinity, -0]),
      maxs: Float64Array.from([1, -Infinity, 5e300]),
      firsts: Float64Array.from([0.1, NaN, 1]),
      firstTimes: Float64Array.from([10, NaN, 1_500_000]),
      lasts: Float64Array.from([1, NaN, 2]),
      lastTimes: Float64Array.from([299_999, NaN, 1_799_999]),
    };
    expect(decodeRollupColumns(encodeRollupColumns(columns, windowMs), windowMs)).toEqual(columns);
    // One-decimal gauges: min, max, first and last take the scaled-decimal form, and still come back bit-exact.
    const gauges = { ...columns, counts: Float64Array.from([3, 1, 30]), mins: Float64Array.from([0.1, 45.3, 99.9]) };
    for (const name of ['maxs', 'firsts', 'lasts'] as const) gauges[name] = Float64Array.from([0.3, 45.3, 100]);
    gauges.firstTimes = Float64Array.from([10, 300_000, 1_500_000]);
    gauges.lastTimes = gauges.firstTimes;
    const encoded = encodeRollupColumns(gauges, windowMs);
    expect(decodeRollupColumns(encoded, windowMs)).toEqual(gauges);
    expect(encoded.length).toBeLessThan(encodeRollupColumns(columns, windowMs).length);
    const sketches = [
      { alpha: 0.01, zero: 1, pos: [[3, 2] as [number, number]], neg: [] },
      { alpha: 0.01, zero: 0, pos: [], neg: [[-5, 1] as [number, number], [7, 4] as [number, number]] },
    ];
    expect(decodeRollupSketches(encodeRollupSketches(sketches))).toEqual(sketches);
  });

  it('round-trips rollup float columns bit for bit: decimals, sums of decimals, and anything else (property)', () => {
    const windowMs = 300_000;
    const sumOfDecimals = fc
      .array(fc.integer({ min: -100_000, max: 100_000 }), { minLength: 1, maxLength: 40 })
      .chain((tenths) =>
        fc.constantFrom(
          tenths.reduce((sum, tenth) => sum + tenth / 10, 0),
          tenths.reduce((sum, tenth) => sum + (tenth / 10) * (tenth / 10), 0),
          tenths.reduce((sum, tenth) => sum + tenth / 100, 0),
        ),
      );
    const value = fc.oneof(sumOfDecimals, fc.double(), fc.constantFrom(0, -0, NaN, 1e300, -5e-324));
    const column = (rows: number) =>
      fc.array(value, { minLength: rows, maxLength: rows }).map((values) => Float64Array.from(values));
    const columns = fc.integer({ min: 1, max: 30 }).chain((rows) =>
      fc.record({
        rows: fc.constant(rows),
        sums: column(rows),
        sumsqs: fc.oneof(
          column(rows),
          fc.array(sumOfDecimals, { minLength: rows, maxLength: rows }).map((v) => Float64Array.from(v)),
        ),
        mins: column(rows),
      }),
    );
    fc.assert(
      fc.property(columns, ({ rows, sums, sumsqs, mins }) => {
        const starts = Float64Array.from({ length: rows }, (_, index) => index * windowMs);
        const encoded = {
          starts,
          counts: new Float64Array(rows).fill(3),
          sums,
          sumsqs,
          mins,
          maxs: mins,
          firsts: sums,
          firstTimes: starts,
          lasts: sumsqs,
          lastTimes: starts,
        };
        const bytes = encodeRollupColumns(encoded, windowMs);
        const decoded = decodeRollupColumns(bytes, windowMs);
        for (const name of ['sums', 'sumsqs', 'mins', 'maxs', 'firsts', 'lasts'] as const)
          decoded[name].forEach((decodedValue, index) => {
            if (!Object.is(decodedValue, encoded[name][index]))
              throw new Error(`${name}[${index}]: ${decodedValue} instead of ${encoded[name][index]}`);
          });
        // Any one column alone decodes as in the whole, skipping the columns before it.
        for (const name of ROLLUP_COLUMN_NAMES) {
          const some = decodeSomeRollupColumns(bytes, windowMs, new Set([name]));
          expect(some[name]).toEqual(decoded[name]);
          const extra = Object.keys(some).filter((key) => !['starts', 'counts', name].includes(key));
          expect(extra).toEqual(name === 'sumsqs' ? ['sums'] : []);
        }
      }),
      { seed: 17, numRuns: 400 },
    );
  });

  it('stores sums of a one-decimal gauge in fewer bytes than raw float64s', () => {
    const random = seededRandom(3);
    const rows = 288;
    const sums = new Float64Array(rows);
    const sumsqs = new Float64Array(rows);
    let level = 50;
    for (let row = 0; row < rows; row++)
      for (let sample = 0; sample < 30; sample++) {
        level += random() - 0.5;
        const value = Math.round(level * 10) / 10;
        sums[row] += value;
        sumsqs[row] += value * value;
      }
    const starts = Float64Array.from({ length: rows }, (_, index) => index * 300_000);
    const gauge = new Float64Array(rows).fill(1.5);
    const columns = {
      starts,
      counts: new Float64Array(rows).fill(30),
      sums,
      sumsqs,
      mins: gauge,
      maxs: gauge,
      firsts: gauge,
      firstTimes: starts,
      lasts: gauge,
      lastTimes: starts,
    };
    const encoded = encodeRollupColumns(columns, 300_000);
    expect(decodeRollupColumns(encoded, 300_000)).toEqual(columns);
    // Raw, the two sum columns would take 16 bytes per row.
    const withoutSums = encodeRollupColumns({ ...columns, sums: gauge, sumsqs: gauge }, 300_000);
    expect((encoded.length - withoutSums.length) / rows).toBeLessThan(8);
  });
});
