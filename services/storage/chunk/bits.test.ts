import fc from 'fast-check';
import { BitReader, BitWriter } from './bits';

/** The plain definition: one bit at a time, most significant first. */
function referenceBytes(writes: readonly [number, number][]): Uint8Array {
  const bits: number[] = [];
  for (const [value, count] of writes)
    for (let bit = count - 1; bit >= 0; bit--) bits.push(Math.floor(value / 2 ** bit) % 2);
  const bytes = new Uint8Array(Math.ceil(bits.length / 8));
  bits.forEach((bit, position) => (bytes[position >>> 3] |= bit << (7 - (position & 7))));
  return bytes;
}

describe('BitWriter', () => {
  it('writes any run of 0–32-bit values as the bit-at-a-time definition does, and reads them back (property)', () => {
    const write = fc
      .integer({ min: 0, max: 32 })
      .chain((count) => fc.tuple(fc.integer({ min: 0, max: 2 ** count - 1 }), fc.constant(count)));
    fc.assert(
      fc.property(fc.array(write, { maxLength: 60 }), fc.integer({ min: 1, max: 16 }), (writes, initialBytes) => {
        const writer = new BitWriter(initialBytes);
        for (const [value, count] of writes) writer.writeBits(value, count);
        const bytes = writer.bytes();
        expect(Array.from(bytes)).toEqual(Array.from(referenceBytes(writes)));
        const reader = new BitReader(bytes, 0);
        for (const [value, count] of writes) expect(reader.readBits(count)).toBe(value);
      }),
      { seed: 4, numRuns: 500 },
    );
  });
});
