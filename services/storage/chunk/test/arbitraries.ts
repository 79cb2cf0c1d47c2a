import fc from 'fast-check';
import { ChunkCorruptionError } from '../errors';
import { Samples } from '../samples';

const words = new Uint32Array(2);
const floats = new Float64Array(words.buffer);

/** Any float64 bit pattern: NaNs with payloads, subnormals, ±Inf, -0. */
const anyBits = fc
  .tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }))
  .map(([high, low]) => {
    words[0] = low;
    words[1] = high;
    return floats[0];
  });

/** Values a gauge rounded to a few decimals takes, which the scaled-decimal encoding can hold. */
export const decimalValue = fc
  .tuple(fc.integer({ min: -1e9, max: 1e9 }), fc.integer({ min: 0, max: 6 }))
  .map(([mantissa, exponent]) => mantissa / 10 ** exponent);

export const anyValue = fc.oneof(
  fc.double(),
  anyBits,
  decimalValue,
  fc.constantFrom(0, -0, NaN, Infinity, -Infinity, Number.MIN_VALUE, -Number.MAX_VALUE, 0.1, 1e300),
);

const step = fc.oneof(
  { weight: 4, arbitrary: fc.constant(10_000) },
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 100_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }) },
);

const start = fc.oneof(
  fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
  fc.integer({ min: 1_600_000_000_000, max: 1_900_000_000_000 }),
  fc.constant(0),
);

function buildSamples(first: number, steps: number[], values: number[]): Samples {
  const timestamps: number[] = [];
  let timestamp = first;
  for (let index = 0; index < values.length; index++) {
    if (index > 0) {
      const next = timestamp + steps[index];
      if (next > Number.MAX_SAFE_INTEGER) break;
      timestamp = next;
    }
    timestamps.push(timestamp);
  }
  return { timestamps: Float64Array.from(timestamps), values: Float64Array.from(values.slice(0, timestamps.length)) };
}

/** Strictly ascending safe-integer timestamps (regular, jittery and huge steps) with the given values. */
export function samplesOf(values: fc.Arbitrary<number>, maxLength = 300): fc.Arbitrary<Samples> {
  return fc.tuple(start, fc.array(fc.tuple(step, values), { maxLength })).map(([first, pairs]) =>
    buildSamples(
      first,
      pairs.map(([stepMs]) => stepMs),
      pairs.map(([, value]) => value),
    ),
  );
}

export function arbitrarySamples(maxLength = 300): fc.Arbitrary<Samples> {
  return fc.oneof(
    samplesOf(anyValue, maxLength),
    samplesOf(decimalValue, maxLength),
    samplesOf(fc.constantFrom(1.5, 2, -0.25), maxLength),
  );
}

/** Compares bit patterns, so NaN payloads and -0 count. */
export function expectBitExact(actual: Samples, expected: Samples): void {
  expect(Array.from(actual.timestamps)).toEqual(Array.from(expected.timestamps));
  expect(Buffer.from(actual.values.buffer, actual.values.byteOffset, actual.values.byteLength).toString('hex')).toBe(
    Buffer.from(expected.values.buffer, expected.values.byteOffset, expected.values.byteLength).toString('hex'),
  );
}

/** The decoder may accept altered bytes (there is no checksum in a chunk), but if it throws it is corruption. */
export function expectOnlyCorruption(decode: () => unknown): void {
  try {
    decode();
  } catch (error) {
    if (!(error instanceof ChunkCorruptionError)) throw error;
  }
}

/** Gauges with staleness markers (NaN) and arbitrary finite values mixed in. */
export const gaugeSamples = samplesOf(
  fc.oneof(decimalValue, fc.constant(NaN), fc.double({ min: -1e6, max: 1e6, noNaN: true })),
  200,
);
