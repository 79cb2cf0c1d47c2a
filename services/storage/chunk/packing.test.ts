import fc from 'fast-check';
import { ChunkCorruptionError } from './errors';
import { readPacked, writePacked } from './packing';
import { ByteReader, ByteWriter } from './varint';

const safeNatural = fc.oneof(
  fc.integer({ min: 0, max: 40 }),
  fc.integer({ min: 0, max: 2 ** 30 }),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
);

describe('patched bit packing', () => {
  it('round-trips any safe naturals', () => {
    fc.assert(
      fc.property(fc.array(safeNatural, { maxLength: 200 }), (list) => {
        const values = Float64Array.from(list);
        const writer = new ByteWriter();
        writer.writeByte(0xaa);
        writePacked(writer, values);
        const bytes = writer.bytes();
        const reader = new ByteReader(bytes, 1);
        const output = new Float64Array(values.length);
        readPacked(reader, bytes, output, 0, values.length);
        expect(Array.from(output)).toEqual(list);
        expect(reader.remaining).toBe(0);
      }),
    );
  });

  it('reads into any offset of the output, leaving the rest alone', () => {
    const writer = new ByteWriter();
    writePacked(writer, Float64Array.of(3, 1, 2 ** 40, 0));
    const bytes = writer.bytes();
    const output = new Float64Array(7).fill(-1);
    readPacked(new ByteReader(bytes), bytes, output, 2, 4);
    expect(Array.from(output)).toEqual([-1, -1, 3, 1, 2 ** 40, 0, -1]);
  });

  it('packs small values narrowly and a burst as an exception', () => {
    const values = Float64Array.from({ length: 100 }, (_, index) => (index === 50 ? 5000 : index % 8));
    const writer = new ByteWriter();
    writePacked(writer, values);
    const bytes = writer.bytes();
    expect(bytes[0]).toBe(3);
    expect(bytes.length).toBeLessThanOrEqual(1 + 38 + 1 + 3);
  });

  it('reports widths and exceptions that no writer produces', () => {
    const output = new Float64Array(4);
    expect(() => readPacked(new ByteReader(Uint8Array.of(60)), Uint8Array.of(60), output, 0, 4)).toThrow(
      ChunkCorruptionError,
    );
    const tooMany = Uint8Array.of(0, 9);
    expect(() => readPacked(new ByteReader(tooMany), tooMany, output, 0, 4)).toThrow(ChunkCorruptionError);
    const outOfRange = Uint8Array.of(0, 1, 7, 1);
    expect(() => readPacked(new ByteReader(outOfRange), outOfRange, output, 0, 4)).toThrow(ChunkCorruptionError);
  });
});
