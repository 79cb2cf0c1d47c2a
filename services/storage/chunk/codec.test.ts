import fc from 'fast-check';
import { ChunkCorruptionError, ChunkEncoding, decodeChunk, encodeChunk } from './codec';
import { arbitrarySamples, decimalValue, expectBitExact, expectOnlyCorruption, samplesOf } from './test/arbitraries';
import { seededRandom } from '../../kit/clock';
import { XorAppender } from './xor';

function gauge(count: number, seed: number) {
  const random = seededRandom(seed);
  const timestamps = new Float64Array(count);
  const values = new Float64Array(count);
  let level = 50;
  for (let index = 0; index < count; index++) {
    level = Math.min(100, Math.max(0, level + (random() - 0.5) * 2));
    timestamps[index] = 1_700_000_000_000 + index * 10_000;
    values[index] = Math.round(level * 10) / 10;
  }
  return { timestamps, values };
}

describe('sealed chunk codec', () => {
  it('round-trips any samples bit-exactly', () => {
    fc.assert(
      fc.property(arbitrarySamples(), (samples) => {
        expectBitExact(decodeChunk(encodeChunk(samples)), samples);
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips decimal gauges and counters bit-exactly, never larger than XOR', () => {
    fc.assert(
      fc.property(samplesOf(decimalValue, 500), (samples) => {
        const chunk = encodeChunk(samples);
        expectBitExact(decodeChunk(chunk), samples);
        const xor = XorAppender.create();
        samples.timestamps.forEach((timestamp, index) => xor.append(timestamp, samples.values[index]));
        expect(chunk.length).toBeLessThanOrEqual(1 + xor.bytes().length);
      }),
      { numRuns: 200 },
    );
  });

  it('bit-packs scaled decimals for a small chunk of a gauge rounded to one decimal', () => {
    const samples = gauge(120, 7);
    const chunk = encodeChunk(samples);
    expect(chunk[0]).toBe(ChunkEncoding.decimalPacked);
    expect(chunk.length).toBeLessThan(120);
    expectBitExact(decodeChunk(chunk), samples);
  });

  it('deflates scaled decimals when the data repeats', () => {
    const timestamps = Float64Array.from({ length: 4000 }, (_, index) => index * 1000 + (index % 3));
    const values = Float64Array.from({ length: 4000 }, (_, index) => [0.5, 7.25, -3, 12.75, 0.5, 1][index % 6]);
    const chunk = encodeChunk({ timestamps, values });
    expect(chunk[0]).toBe(ChunkEncoding.decimalDeflate);
    expect(chunk.length).toBeLessThan(100);
    expectBitExact(decodeChunk(chunk), { timestamps, values });
  });

  it('bit-packs with exceptions for bursts and wide residuals', () => {
    const samples = gauge(200, 9);
    samples.values[100] = 1e9;
    samples.timestamps[199] = samples.timestamps[198] + 2 ** 40;
    const chunk = encodeChunk(samples);
    expect(chunk[0]).toBe(ChunkEncoding.decimalPacked);
    expectBitExact(decodeChunk(chunk), samples);
  });

  it('falls back to XOR when a value is not a small decimal', () => {
    const samples = gauge(120, 8);
    samples.values[60] = -0;
    expect(encodeChunk(samples)[0]).toBe(ChunkEncoding.xor);
    samples.values[60] = Math.PI;
    const chunk = encodeChunk(samples);
    expect(chunk[0]).toBe(ChunkEncoding.xor);
    expectBitExact(decodeChunk(chunk), samples);
  });

  it('picks delta-of-delta for counters', () => {
    const timestamps = Float64Array.from({ length: 200 }, (_, index) => index * 15_000);
    const values = Float64Array.from({ length: 200 }, (_, index) => 1e6 + index * 123.4);
    const chunk = encodeChunk({ timestamps, values });
    expect(chunk.length).toBeLessThan(40);
    expectBitExact(decodeChunk(chunk), { timestamps, values });
  });

  it('rejects invalid samples with RangeError', () => {
    expect(() => encodeChunk({ timestamps: Float64Array.of(2, 1), values: Float64Array.of(1, 1) })).toThrow(RangeError);
    expect(() => encodeChunk({ timestamps: Float64Array.of(1), values: Float64Array.of() })).toThrow(RangeError);
    expect(() => encodeChunk({ timestamps: new Float64Array(70_000), values: new Float64Array(70_000) })).toThrow(
      RangeError,
    );
  });

  it('throws only ChunkCorruptionError on truncated or altered chunks', () => {
    fc.assert(
      fc.property(arbitrarySamples(), fc.nat(), fc.nat(), (samples, positionSeed, byteSeed) => {
        const chunk = encodeChunk(samples);
        expect(() => decodeChunk(chunk.subarray(0, positionSeed % chunk.length))).toThrow(ChunkCorruptionError);
        const altered = chunk.slice();
        altered[positionSeed % chunk.length] ^= (byteSeed % 255) + 1;
        expectOnlyCorruption(() => decodeChunk(altered));
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => expectOnlyCorruption(() => decodeChunk(bytes))),
    );
    expect(() => decodeChunk(Uint8Array.of(9, 0, 0))).toThrow(ChunkCorruptionError);
  });
});
