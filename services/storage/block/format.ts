import { BinaryReader, BinaryWriter } from '../encoding/binary';
import type { SeriesLabels } from '../series/series';

/**
 * The series table of a block (FORMAT.md, "Blocks"): per series its labels, its chunks (where they are in the
 * `chunks` file, their time range and count, and their encoded summary) and where its rollup rows are in `rollups`.
 * Pure encoding; block ids in the `index` file are positions in this table.
 */
export const SERIES_MAGIC = 0x4d535352; // "MSSR"
export const FORMAT_VERSION = 1;

export interface ChunkMeta {
  minTime: number;
  maxTime: number;
  count: number;
  offset: number;
  length: number;
  /** encodeSummary bytes. */
  summary: Uint8Array;
}

export interface RollupRef {
  windowMs: number;
  /** Scalar columns in the `rollups` file. */
  offset: number;
  length: number;
  /** Sketch section in the `rollups` file. */
  sketchOffset: number;
  sketchLength: number;
}

export interface BlockSeries {
  labels: SeriesLabels;
  chunks: ChunkMeta[];
  rollups: RollupRef[];
}

export interface BlockMeta {
  ulid: string;
  /** Inclusive. */
  minTime: number;
  /** Exclusive: the block covers [minTime, maxTime). */
  maxTime: number;
  stats: { series: number; samples: number; chunks: number };
  compaction: { level: number; sources: string[] };
  version: number;
}

export function encodeSeriesTable(series: readonly BlockSeries[]): Uint8Array {
  const writer = new BinaryWriter(1024 + series.length * 256);
  writer.writeUint32(SERIES_MAGIC);
  writer.writeByte(FORMAT_VERSION);
  writer.writeUvarint(series.length);
  for (const { labels, chunks, rollups } of series) {
    writer.writeString(labels.tenant);
    writer.writeString(labels.measurement);
    writer.writeString(labels.field);
    writer.writeUvarint(labels.tags.length);
    for (const [key, value] of labels.tags) {
      writer.writeString(key);
      writer.writeString(value);
    }
    writer.writeUvarint(chunks.length);
    for (const chunk of chunks) {
      writer.writeVarint(chunk.minTime);
      writer.writeUvarint(chunk.maxTime - chunk.minTime);
      writer.writeUvarint(chunk.count);
      writer.writeUvarint(chunk.offset);
      writer.writeUvarint(chunk.length);
      writer.writeBytes(chunk.summary);
    }
    writer.writeUvarint(rollups.length);
    for (const rollup of rollups) {
      writer.writeUvarint(rollup.windowMs);
      writer.writeUvarint(rollup.offset);
      writer.writeUvarint(rollup.length);
      writer.writeUvarint(rollup.sketchOffset);
      writer.writeUvarint(rollup.sketchLength);
    }
  }
  return writer.bytes();
}

/** Throws BinaryFormatError on bytes this module did not write. */
export function decodeSeriesTable(bytes: Uint8Array): BlockSeries[] {
  const reader = new BinaryReader(bytes);
  if (reader.readUint32() !== SERIES_MAGIC) throw reader.fail('not a series table');
  const version = reader.readByte();
  if (version !== FORMAT_VERSION) throw reader.fail(`unknown series table version ${version}`);
  const count = reader.readUvarint();
  const series: BlockSeries[] = [];
  for (let index = 0; index < count; index++) {
    const tenant = reader.readString();
    const measurement = reader.readString();
    const field = reader.readString();
    const tagCount = reader.readUvarint();
    const tags: [string, string][] = [];
    for (let tag = 0; tag < tagCount; tag++) tags.push([reader.readString(), reader.readString()]);
    const chunkCount = reader.readUvarint();
    const chunks: ChunkMeta[] = [];
    for (let chunk = 0; chunk < chunkCount; chunk++) {
      const minTime = reader.readVarint();
      const maxTime = minTime + reader.readUvarint();
      const sampleCount = reader.readUvarint();
      const offset = reader.readUvarint();
      const length = reader.readUvarint();
      chunks.push({ minTime, maxTime, count: sampleCount, offset, length, summary: reader.readBytes() });
    }
    const rollupCount = reader.readUvarint();
    const rollups: RollupRef[] = [];
    for (let rollup = 0; rollup < rollupCount; rollup++)
      rollups.push({
        windowMs: reader.readUvarint(),
        offset: reader.readUvarint(),
        length: reader.readUvarint(),
        sketchOffset: reader.readUvarint(),
        sketchLength: reader.readUvarint(),
      });
    series.push({ labels: { tenant, measurement, field, tags }, chunks, rollups });
  }
  if (reader.remaining !== 0) throw reader.fail(`${reader.remaining} bytes after the series table`);
  return series;
}

/** Checks a parsed meta.json; throws a message naming the first problem. */
export function parseBlockMeta(text: string): BlockMeta {
  const meta = JSON.parse(text) as BlockMeta;
  const isValid =
    typeof meta.ulid === 'string' &&
    Number.isSafeInteger(meta.minTime) &&
    Number.isSafeInteger(meta.maxTime) &&
    meta.maxTime > meta.minTime &&
    meta.version === FORMAT_VERSION &&
    Array.isArray(meta.compaction?.sources);
  if (!isValid) throw new Error('meta.json lacks ulid, minTime < maxTime, version or compaction.sources');
  return meta;
}
