import fc from 'fast-check';
import { BinaryFormatError, BinaryWriter } from '../encoding/binary';
import { RecordType, decodeRecord, encodeRecord, type WalRecord } from './record';

const name = fc.string({ minLength: 1, maxLength: 12 });
const labels = fc.record({
  tenant: name,
  measurement: name,
  field: name,
  tags: fc.array(fc.tuple(name, fc.string({ maxLength: 12 })), { maxLength: 4 }),
});
const offsets = fc.array(fc.tuple(fc.nat(11), fc.nat()), { maxLength: 12 }).map((pairs) => new Map(pairs));
const time = fc.integer({ min: -1e14, max: 1e14 });
const samples = fc.array(fc.tuple(fc.nat(1e6), time, fc.double()), { maxLength: 50 }).map((rows) => ({
  seriesIds: Uint32Array.from(rows.map((row) => row[0])),
  timestamps: Float64Array.from(rows.map((row) => row[1])),
  values: Float64Array.from(rows.map((row) => row[2])),
}));
const record: fc.Arbitrary<WalRecord> = fc.oneof(
  fc
    .array(fc.record({ id: fc.nat(), labels }), { maxLength: 5 })
    .map((series) => ({ type: RecordType.series, series })),
  fc.record({ offsets, samples }).map(({ offsets: applied, samples: batch }) => ({
    type: RecordType.samples,
    offsets: applied,
    samples: batch,
  })),
  fc
    .record({ minValidTime: time, nextSeriesId: fc.nat(), offsets })
    .map((state) => ({ type: RecordType.checkpoint, state })),
);

describe('WAL records', () => {
  it('round-trip bit-exactly, NaN payloads and -0 included (property)', () => {
    fc.assert(
      fc.property(record, (original) => {
        const decoded = decodeRecord(encodeRecord(original));
        expect(decoded).toEqual(original);
        if (original.type === RecordType.samples && decoded.type === RecordType.samples) {
          const bits = (values: Float64Array) => Array.from(new Uint32Array(values.buffer.slice(0)));
          expect(bits(decoded.samples.values)).toEqual(bits(Float64Array.from(original.samples.values)));
        }
      }),
      { seed: 9, numRuns: 200 },
    );
  });

  it('reject every truncation with BinaryFormatError', () => {
    fc.assert(
      fc.property(record, (original) => {
        const bytes = encodeRecord(original);
        for (let cut = 0; cut < bytes.length; cut++)
          expect(() => decodeRecord(bytes.subarray(0, cut))).toThrow(BinaryFormatError);
      }),
      { seed: 10, numRuns: 40 },
    );
  });

  it('write samples byte for byte as BinaryWriter would (property)', () => {
    const anyTime = fc.oneof(time, fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }));
    const rows = fc.array(fc.tuple(fc.nat(0xffffffff), anyTime, fc.double()), { maxLength: 40 });
    fc.assert(
      fc.property(offsets, rows, (applied, sampleRows) => {
        const batch = {
          seriesIds: Uint32Array.from(sampleRows.map((row) => row[0])),
          timestamps: Float64Array.from(sampleRows.map((row) => row[1])),
          values: Float64Array.from(sampleRows.map((row) => row[2])),
        };
        const writer = new BinaryWriter(16);
        writer.writeByte(RecordType.samples);
        writer.writeUvarint(applied.size);
        for (const [partition, offset] of applied) {
          writer.writeUvarint(partition);
          writer.writeUvarint(offset);
        }
        writer.writeUvarint(sampleRows.length);
        if (sampleRows.length > 0) writer.writeVarint(batch.timestamps[0]);
        for (let index = 0; index < sampleRows.length; index++) {
          writer.writeUvarint(batch.seriesIds[index]);
          writer.writeVarint(batch.timestamps[index] - batch.timestamps[0]);
          writer.writeFloat64(batch.values[index]);
        }
        const encoded = encodeRecord({ type: RecordType.samples, offsets: applied, samples: batch });
        expect(Array.from(encoded)).toEqual(Array.from(writer.bytes()));
      }),
      { seed: 12, numRuns: 300 },
    );
  });
});
