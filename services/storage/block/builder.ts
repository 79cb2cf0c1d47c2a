import fs from 'node:fs/promises';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { encodeChunk } from '../chunk/codec';
import { rollup, windowStart } from '../chunk/rollup';
import type { Samples } from '../chunk/samples';
import { encodeSummary, summarize } from '../chunk/summary';
import { syncDirectory, writeFileSynced } from '../fileutil/fileutil';
import type { SeriesIndex } from '../head/head';
import { indexName, seriesKey, tagRecord, type SeriesLabels } from '../series/series';
import type { SketchWire } from '../../kit/sketch';
import {
  FORMAT_VERSION,
  encodeSeriesTable,
  type BlockMeta,
  type BlockSeries,
  type ChunkMeta,
  type RollupRef,
} from './format';
import { columnsOf, encodeRollupColumns, encodeRollupSketches, type RollupColumns } from './rollup-format';

/** The tag index as blocks store it (index/'s TagIndex fits). */
export interface EncodableIndex extends SeriesIndex {
  encode(): Uint8Array;
}

export interface IndexCodec {
  create(): EncodableIndex;
  decode(bytes: Uint8Array): SeriesIndex;
}

export interface BlockLayout {
  /** Samples per sealed chunk: larger compresses better, smaller lets more aggregations use whole-chunk summaries. */
  samplesPerChunk: number;
  /** Rollup tiers, e.g. 1 m, 5 m, 1 h. */
  rollupWindowsMs: readonly number[];
  /** A tier is kept for a series only when its rows summarise at least this many samples on average. */
  minSamplesPerRollupRow: number;
}

export const defaultBlockLayout: BlockLayout = {
  samplesPerChunk: 1024,
  rollupWindowsMs: [60_000, 300_000, 3_600_000],
  minSamplesPerRollupRow: 10,
};

/** One rollup tier of a series: scalar columns and the sketch of each row. */
export interface RollupTier {
  columns: RollupColumns;
  sketches: SketchWire[];
}

interface PendingSeries {
  key: string;
  series: BlockSeries;
}

/**
 * Builds one block: series are added with their samples for the block's range (in any order), encoded at once, so
 * only the encoded bytes stay in memory; `write` puts the directory in place crash-safely.
 */
export class BlockBuilder {
  private readonly pending: PendingSeries[] = [];
  private readonly chunkParts: Uint8Array[] = [];
  private chunkBytes = 0;
  private readonly rollupParts: Uint8Array[] = [];
  private rollupBytes = 0;
  private sampleCount = 0;
  private chunkCount = 0;

  constructor(
    private readonly layout: BlockLayout,
    private readonly indexCodec: IndexCodec,
  ) {}

  get seriesCount(): number {
    return this.pending.length;
  }

  /**
   * Adds a series' samples for the block. `knownRollups` are tiers already computed for exactly these samples (the
   * concatenated rows of compacted blocks); the other tiers are computed here.
   */
  addSeries(labels: SeriesLabels, samples: Samples, knownRollups: ReadonlyMap<number, RollupTier> = new Map()): void {
    const count = samples.timestamps.length;
    if (count === 0) return;
    const chunks: ChunkMeta[] = [];
    for (let start = 0; start < count; start += this.layout.samplesPerChunk) {
      const end = Math.min(count, start + this.layout.samplesPerChunk);
      const part = { timestamps: samples.timestamps.subarray(start, end), values: samples.values.subarray(start, end) };
      const bytes = encodeChunk(part);
      chunks.push({
        minTime: part.timestamps[0],
        maxTime: part.timestamps[end - start - 1],
        count: end - start,
        offset: this.chunkBytes,
        length: bytes.length,
        summary: encodeSummary(summarize(part)),
      });
      this.chunkParts.push(bytes);
      this.chunkBytes += bytes.length;
    }
    this.addRollupsAndFinish(labels, samples, chunks, knownRollups);
  }

  /**
   * Adds a series whose chunks are already encoded and summarised (compaction of disjoint blocks): the bytes are
   * copied, nothing is decoded. `knownRollups` must hold every tier the layout keeps for the series.
   */
  addEncodedSeries(
    labels: SeriesLabels,
    chunks: readonly { meta: ChunkMeta; bytes: Uint8Array }[],
    knownRollups: ReadonlyMap<number, RollupTier>,
  ): void {
    const metas: ChunkMeta[] = [];
    for (const { meta, bytes } of chunks) {
      metas.push({ ...meta, offset: this.chunkBytes, length: bytes.length });
      this.chunkParts.push(bytes);
      this.chunkBytes += bytes.length;
    }
    this.addRollupsAndFinish(labels, undefined, metas, knownRollups);
  }

  private addRollupsAndFinish(
    labels: SeriesLabels,
    samples: Samples | undefined,
    chunks: ChunkMeta[],
    knownRollups: ReadonlyMap<number, RollupTier>,
  ): void {
    const count = chunks.reduce((total, chunk) => total + chunk.count, 0);
    const rollups: RollupRef[] = [];
    for (const windowMs of this.layout.rollupWindowsMs) {
      let tier = knownRollups.get(windowMs);
      if (tier === undefined) {
        if (samples === undefined) continue;
        // Counted first: summarising (a sketch insert per sample) only to discard the tier would double the cut's cost.
        if (count / countWindows(samples.timestamps, windowMs) < this.layout.minSamplesPerRollupRow) continue;
        const rows = rollup(samples, windowMs);
        tier = { columns: columnsOf(rows), sketches: rows.summaries.map((summary) => summary.sketch) };
      }
      const scalars = encodeRollupColumns(tier.columns, windowMs);
      const sketches = encodeRollupSketches(tier.sketches);
      rollups.push({
        windowMs,
        offset: this.rollupBytes,
        length: scalars.length,
        sketchOffset: this.rollupBytes + scalars.length,
        sketchLength: sketches.length,
      });
      this.rollupParts.push(scalars, sketches);
      this.rollupBytes += scalars.length + sketches.length;
    }
    this.sampleCount += count;
    this.chunkCount += chunks.length;
    this.pending.push({ key: seriesKey(labels), series: { labels, chunks, rollups } });
  }

  /**
   * Writes `<ulid>.tmp/` (every file fsynced, then the directory), renames it to `<ulid>/` and fsyncs the parent,
   * as tsdb's LeveledCompactor.write does. A crash before the rename leaves only a `.tmp` that open() removes.
   */
  async write(
    directory: string,
    ulid: string,
    range: { minTime: number; maxTime: number },
    compaction: BlockMeta['compaction'],
  ): Promise<BlockMeta> {
    this.pending.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const index = this.indexCodec.create();
    this.pending.forEach(({ series: { labels } }, id) =>
      index.add(id, indexName(labels.tenant, labels.measurement, labels.field), tagRecord(labels.tags)),
    );
    const meta: BlockMeta = {
      ulid,
      minTime: range.minTime,
      maxTime: range.maxTime,
      stats: { series: this.pending.length, samples: this.sampleCount, chunks: this.chunkCount },
      compaction,
      version: FORMAT_VERSION,
    };
    const temporary = path.join(directory, `${ulid}.tmp`);
    await fs.rm(temporary, { recursive: true, force: true });
    await fs.mkdir(temporary, { recursive: true });
    try {
      await writeFileSynced(path.join(temporary, 'chunks'), Buffer.concat(this.chunkParts, this.chunkBytes));
      // One deflate stream over every series' rows: a reader inflates it once and then reads rows without zlib calls.
      await writeFileSynced(
        path.join(temporary, 'rollups'),
        deflateRawSync(Buffer.concat(this.rollupParts, this.rollupBytes), { level: 6 }),
      );
      await writeFileSynced(
        path.join(temporary, 'series'),
        deflateRawSync(encodeSeriesTable(this.pending.map((entry) => entry.series)), { level: 6 }),
      );
      await writeFileSynced(path.join(temporary, 'index'), index.encode());
      await writeFileSynced(path.join(temporary, 'meta.json'), JSON.stringify(meta, null, 2));
      await syncDirectory(temporary);
      await fs.rename(temporary, path.join(directory, ulid));
      await syncDirectory(directory);
    } catch (error) {
      await fs.rm(temporary, { recursive: true, force: true });
      throw error;
    }
    return meta;
  }
}

function countWindows(timestamps: Float64Array, windowMs: number): number {
  let windows = 0;
  let windowEnd = -Infinity;
  for (let index = 0; index < timestamps.length; index++) {
    if (timestamps[index] < windowEnd) continue;
    windows++;
    windowEnd = windowStart(timestamps[index], windowMs) + windowMs;
  }
  return windows;
}
