import fc from 'fast-check';
import { BinaryFormatError } from '../encoding/binary';
import { decodeSeriesTable, encodeSeriesTable, type BlockSeries } from './format';
import { decodeRollupColumns, decodeRollupSketches, encodeRollupColumns, encodeRollupSketches } from './rollup-format';

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
});
