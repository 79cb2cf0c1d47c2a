import { BinaryReader, BinaryWriter } from '../encoding/binary';
import type { SeriesLabels } from '../series/series';

/**
 * What a WAL record holds (FORMAT.md, "WAL records"). The WAL itself treats records as opaque bytes, as tsdb's wlog
 * does; this module gives them meaning. Every record starts with a type byte.
 */
export const RecordType = { series: 1, samples: 2, checkpoint: 3 } as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

export interface SeriesDefinition {
  id: number;
  labels: SeriesLabels;
}

/** Queue offsets applied by this batch: the last offset of each partition it holds. */
export type AppliedOffsets = ReadonlyMap<number, number>;

export interface SampleBatch {
  seriesIds: Uint32Array;
  timestamps: Float64Array;
  values: Float64Array;
}

/**
 * The state a checkpoint carries besides the series and samples that follow it: persisted data ends before
 * `minValidTime`, and the offsets survive the truncation of the records that carried them.
 */
export interface CheckpointState {
  minValidTime: number;
  nextSeriesId: number;
  offsets: AppliedOffsets;
}

export type WalRecord =
  | { type: typeof RecordType.series; series: SeriesDefinition[] }
  | { type: typeof RecordType.samples; offsets: AppliedOffsets; samples: SampleBatch }
  | { type: typeof RecordType.checkpoint; state: CheckpointState };

export function encodeRecord(record: WalRecord): Uint8Array {
  switch (record.type) {
    case RecordType.series:
      return encodeSeries(record.series);
    case RecordType.samples:
      return encodeSamples(record.offsets, record.samples);
    case RecordType.checkpoint:
      return encodeCheckpoint(record.state);
    default: {
      const exhaustive: never = record;
      return exhaustive;
    }
  }
}

function writeOffsets(writer: BinaryWriter, offsets: AppliedOffsets): void {
  writer.writeUvarint(offsets.size);
  for (const [partition, offset] of offsets) {
    writer.writeUvarint(partition);
    writer.writeUvarint(offset);
  }
}

function readOffsets(reader: BinaryReader): Map<number, number> {
  const offsets = new Map<number, number>();
  const count = reader.readUvarint();
  for (let index = 0; index < count; index++) offsets.set(reader.readUvarint(), reader.readUvarint());
  return offsets;
}

function encodeSeries(series: readonly SeriesDefinition[]): Uint8Array {
  const writer = new BinaryWriter(64 * series.length + 16);
  writer.writeByte(RecordType.series);
  writer.writeUvarint(series.length);
  for (const { id, labels } of series) {
    writer.writeUvarint(id);
    writer.writeString(labels.tenant);
    writer.writeString(labels.measurement);
    writer.writeString(labels.field);
    writer.writeUvarint(labels.tags.length);
    for (const [key, value] of labels.tags) {
      writer.writeString(key);
      writer.writeString(value);
    }
  }
  return writer.bytes();
}

/** Bytes a sample takes at most: uvarint series id (u32) 5, zigzag varint time difference 8, float64 8. */
const MAX_SAMPLE_BYTES = 21;
const TWO_POW_31 = 0x80000000;

/**
 * The samples are written straight into one buffer (not through BinaryWriter's per-value calls), byte for byte what
 * BinaryWriter's uvarint, zigzag varint and float64 would write: this runs for every sample written.
 */
function encodeSamples(offsets: AppliedOffsets, samples: SampleBatch): Uint8Array {
  const count = samples.seriesIds.length;
  const header = new BinaryWriter(32 + offsets.size * 16);
  header.writeByte(RecordType.samples);
  writeOffsets(header, offsets);
  header.writeUvarint(count);
  if (count === 0) return header.bytes();
  // Timestamps of one batch sit close together: differences from the first keep them to a byte or two.
  const base = samples.timestamps[0];
  header.writeVarint(base);
  const head = header.subarray();
  const bytes = new Uint8Array(head.length + count * MAX_SAMPLE_BYTES);
  const view = new DataView(bytes.buffer);
  bytes.set(head);
  let position = head.length;
  const { seriesIds, timestamps, values } = samples;
  for (let index = 0; index < count; index++) {
    let id = seriesIds[index];
    while (id >= 0x80) {
      bytes[position++] = (id & 0x7f) | 0x80;
      id >>>= 7;
    }
    bytes[position++] = id;
    const difference = timestamps[index] - base;
    let zigzag = difference >= 0 ? difference * 2 : -difference * 2 - 1;
    if (zigzag < TWO_POW_31) {
      while (zigzag >= 0x80) {
        bytes[position++] = (zigzag & 0x7f) | 0x80;
        zigzag >>>= 7;
      }
    } else {
      while (zigzag >= 0x80) {
        bytes[position++] = (zigzag % 0x80) | 0x80;
        zigzag = Math.floor(zigzag / 0x80);
      }
    }
    bytes[position++] = zigzag;
    view.setFloat64(position, values[index], true);
    position += 8;
  }
  return bytes.subarray(0, position);
}

function encodeCheckpoint(state: CheckpointState): Uint8Array {
  const writer = new BinaryWriter(64);
  writer.writeByte(RecordType.checkpoint);
  writer.writeVarint(state.minValidTime);
  writer.writeUvarint(state.nextSeriesId);
  writeOffsets(writer, state.offsets);
  return writer.bytes();
}

/** Throws BinaryFormatError when the bytes are not a record this module wrote. */
export function decodeRecord(bytes: Uint8Array): WalRecord {
  const reader = new BinaryReader(bytes);
  const type = reader.readByte() as RecordType;
  let record: WalRecord;
  switch (type) {
    case RecordType.series: {
      const count = reader.readUvarint();
      const series: SeriesDefinition[] = [];
      for (let index = 0; index < count; index++) {
        const id = reader.readUvarint();
        const tenant = reader.readString();
        const measurement = reader.readString();
        const field = reader.readString();
        const tagCount = reader.readUvarint();
        const tags: [string, string][] = [];
        for (let tag = 0; tag < tagCount; tag++) tags.push([reader.readString(), reader.readString()]);
        series.push({ id, labels: { tenant, measurement, field, tags } });
      }
      record = { type, series };
      break;
    }
    case RecordType.samples: {
      const offsets = readOffsets(reader);
      const count = reader.readUvarint();
      if (count > reader.remaining) throw reader.fail(`${count} samples cannot fit in ${reader.remaining} bytes`);
      const samples = {
        seriesIds: new Uint32Array(count),
        timestamps: new Float64Array(count),
        values: new Float64Array(count),
      };
      if (count > 0) {
        const base = reader.readVarint();
        for (let index = 0; index < count; index++) {
          samples.seriesIds[index] = reader.readUvarint();
          samples.timestamps[index] = base + reader.readVarint();
          samples.values[index] = reader.readFloat64();
        }
      }
      record = { type, offsets, samples };
      break;
    }
    case RecordType.checkpoint: {
      const minValidTime = reader.readVarint();
      const nextSeriesId = reader.readUvarint();
      record = { type, state: { minValidTime, nextSeriesId, offsets: readOffsets(reader) } };
      break;
    }
    default: {
      const unknown: never = type;
      throw reader.fail(`unknown record type ${unknown as number}`);
    }
  }
  if (reader.remaining !== 0) throw reader.fail(`${reader.remaining} bytes after the record`);
  return record;
}
