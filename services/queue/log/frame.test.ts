import fc from 'fast-check';
import { FrameDecoder, encodeFrames, readFrame, recordsIn, type StoredEntry } from './frame';
import { decodeRecordBatch, encodeRecordBatch, type QueueRecord } from './record-batch';

const recordArbitrary: fc.Arbitrary<QueueRecord> = fc.record({
  key: fc.string({ maxLength: 20 }),
  value: fc.uint8Array({ maxLength: 40 }),
  timestamp: fc.oneof(fc.integer({ min: 0, max: 2 ** 45 }), fc.double({ noNaN: true })),
});

const entryArbitrary: fc.Arbitrary<StoredEntry> = fc.oneof(
  fc.record({
    index: fc.integer({ min: 1, max: 2 ** 50 }),
    term: fc.integer({ min: 0, max: 2 ** 50 }),
    kind: fc.constant('normal' as const),
    baseOffset: fc.integer({ min: 0, max: 2 ** 50 }),
    data: fc.array(recordArbitrary, { maxLength: 4 }).map((records) => new Uint8Array(encodeRecordBatch(records))),
  }),
  fc.record({
    index: fc.integer({ min: 1, max: 2 ** 50 }),
    term: fc.integer({ min: 0, max: 2 ** 50 }),
    kind: fc.constantFrom('noop' as const, 'config' as const),
    baseOffset: fc.integer({ min: 0, max: 2 ** 50 }),
    data: fc.uint8Array({ maxLength: 30 }),
  }),
);

const plain = (entry: StoredEntry) => ({ ...entry, data: Array.from(entry.data) });

describe('record batches', () => {
  it('decode what they encode, including odd timestamps and unicode keys', () => {
    fc.assert(
      fc.property(fc.array(recordArbitrary, { maxLength: 10 }), (records) => {
        const decoded = decodeRecordBatch(encodeRecordBatch(records));
        expect(decoded.map((record) => ({ ...record, value: Array.from(record.value) }))).toEqual(
          records.map((record) => ({ ...record, value: Array.from(record.value) })),
        );
      }),
    );
  });

  it('rejects truncated batches with their own error', () => {
    const batch = encodeRecordBatch([{ key: 'k', value: Buffer.from('"v"'), timestamp: 1 }]);
    for (let cut = 0; cut < batch.length; cut++)
      expect(() => decodeRecordBatch(batch.subarray(0, cut))).toThrow(/record|batch/);
  });
});

describe('frames', () => {
  it('decode what they encode', () => {
    fc.assert(
      fc.property(fc.array(entryArbitrary, { maxLength: 5 }), (entries) => {
        const bytes = encodeFrames(entries);
        const decoded: StoredEntry[] = [];
        for (let position = 0; position < bytes.length;) {
          const read = readFrame(bytes, position);
          if (read.kind !== 'frame') throw new Error(`unexpected ${read.kind}`);
          decoded.push(read.entry);
          position = read.end;
        }
        expect(decoded.map(plain)).toEqual(entries.map(plain));
      }),
    );
  });

  it('count records only in normal entries', () => {
    const data = new Uint8Array(encodeRecordBatch([{ key: 'a', value: new Uint8Array(1), timestamp: 0 }]));
    expect(recordsIn({ index: 1, term: 1, kind: 'normal', data })).toBe(1);
    expect(recordsIn({ index: 1, term: 1, kind: 'noop', data })).toBe(0);
  });

  it('report any flipped bit as damage, never as a different entry', () => {
    fc.assert(
      fc.property(entryArbitrary, fc.nat(), fc.integer({ min: 0, max: 7 }), (entry, where, bit) => {
        const bytes = encodeFrames([entry]);
        const position = where % bytes.length;
        bytes[position] ^= 1 << bit;
        const read = readFrame(bytes, 0);
        expect(read.kind).not.toBe('frame');
      }),
    );
  });

  it('never throw on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        readFrame(Buffer.from(bytes), 0);
        new FrameDecoder().push(bytes);
      }),
    );
  });

  it('stream through the decoder one byte at a time', () => {
    fc.assert(
      fc.property(fc.array(entryArbitrary, { minLength: 1, maxLength: 4 }), (entries) => {
        const bytes = encodeFrames(entries);
        const decoder = new FrameDecoder();
        const decoded = [];
        for (let position = 0; position < bytes.length; position++)
          decoded.push(...decoder.push(bytes.subarray(position, position + 1)));
        expect(decoded.map((frame) => plain(frame.entry))).toEqual(entries.map(plain));
        expect(decoder.pendingBytes).toBe(0);
        expect(decoder.position).toBe(bytes.length);
      }),
    );
  });

  it('leave a cut-off last frame pending, at every cut', () => {
    const entries: StoredEntry[] = [
      { index: 1, term: 1, kind: 'noop', baseOffset: 0, data: new Uint8Array(0) },
      {
        index: 2,
        term: 1,
        kind: 'normal',
        baseOffset: 0,
        data: encodeRecordBatch([{ key: 'k', value: Buffer.from('{"a":1}'), timestamp: 5 }]),
      },
    ];
    const whole = encodeFrames(entries);
    const firstSize = encodeFrames([entries[0]]).length;
    for (let cut = firstSize; cut < whole.length; cut++) {
      const decoder = new FrameDecoder();
      const frames = decoder.push(whole.subarray(0, cut));
      expect(frames).toHaveLength(1);
      expect(decoder.damage).toBeUndefined();
      expect(decoder.position).toBe(firstSize);
    }
  });
});
