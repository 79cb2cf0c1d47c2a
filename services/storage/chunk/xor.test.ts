import fc from 'fast-check';
import { ChunkCorruptionError } from './errors';
import { Samples } from './samples';
import { XorAppender, decodeXor, xorEncodedLength } from './xor';
import { arbitrarySamples, expectBitExact, expectOnlyCorruption } from './test/arbitraries';

function encodeXor(samples: Samples, from = 0, to = samples.timestamps.length, appender = XorAppender.create()) {
  for (let index = from; index < to; index++) appender.append(samples.timestamps[index], samples.values[index]);
  return appender;
}

describe('XOR chunks', () => {
  it('matches the Prometheus layout for a small known chunk', () => {
    const appender = XorAppender.create();
    appender.append(1000, 1);
    appender.append(2000, 1);
    appender.append(3000, 2);
    const bytes = appender.bytes();
    // count 3; zigzag varint of 1000 = d0 0f; float 1.0 = 3ff0000000000000
    expect(Array.from(bytes.subarray(0, 12))).toEqual([0, 3, 0xd0, 0x0f, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]);
    expect(decodeXor(bytes)).toEqual({
      timestamps: Float64Array.from([1000, 2000, 3000]),
      values: Float64Array.from([1, 1, 2]),
    });
  });

  it('round-trips any samples bit-exactly', () => {
    fc.assert(
      fc.property(arbitrarySamples(), (samples) => {
        const appender = encodeXor(samples);
        expect(appender.count).toBe(samples.timestamps.length);
        expectBitExact(decodeXor(appender.bytes()), samples);
      }),
      { numRuns: 300 },
    );
  });

  it('resumes a chunk at any point and appends the same bytes as one appender', () => {
    fc.assert(
      fc.property(arbitrarySamples(), fc.nat(), (samples, cutSeed) => {
        const cut = cutSeed % (samples.timestamps.length + 1);
        const whole = encodeXor(samples).bytes();
        const resumed = encodeXor(samples, cut, undefined, XorAppender.resume(encodeXor(samples, 0, cut).bytes()));
        expect(resumed.count).toBe(samples.timestamps.length);
        expect(resumed.bytes()).toEqual(whole);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects timestamps that are not safe integers or do not ascend, appending nothing', () => {
    const appender = XorAppender.create();
    appender.append(10, 1);
    expect(() => appender.append(10, 2)).toThrow(RangeError);
    expect(() => appender.append(9, 2)).toThrow(RangeError);
    expect(() => appender.append(10.5, 2)).toThrow(RangeError);
    expect(() => appender.append(2 ** 53, 2)).toThrow(RangeError);
    expect(appender.count).toBe(1);
    const far = XorAppender.create();
    far.append(-Number.MAX_SAFE_INTEGER, 0);
    expect(() => far.append(Number.MAX_SAFE_INTEGER, 0)).toThrow(RangeError);
  });

  it('throws only ChunkCorruptionError on truncated or altered bytes', () => {
    fc.assert(
      fc.property(arbitrarySamples(), fc.nat(), fc.nat(), (samples, positionSeed, byteSeed) => {
        const bytes = encodeXor(samples).bytes();
        expect(() => decodeXor(bytes.subarray(0, positionSeed % bytes.length))).toThrow(ChunkCorruptionError);
        const altered = bytes.slice();
        altered[positionSeed % bytes.length] ^= (byteSeed % 255) + 1;
        expectOnlyCorruption(() => decodeXor(altered));
        expectOnlyCorruption(() => XorAppender.resume(altered));
      }),
      { numRuns: 300 },
    );
    expect(() => decodeXor(Uint8Array.of(0, 1, 2, 3))).toThrow(ChunkCorruptionError);
  });
});

describe('xorEncodedLength', () => {
  it('is the length of the chunk the appender writes (property)', () => {
    fc.assert(
      fc.property(arbitrarySamples(), (samples) => {
        expect(xorEncodedLength(samples)).toBe(encodeXor(samples).bytes().length);
      }),
      { numRuns: 500 },
    );
  });
});
