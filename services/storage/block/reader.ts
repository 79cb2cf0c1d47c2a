import fs from 'node:fs/promises';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { decodeChunk } from '../chunk/codec';
import type { Samples } from '../chunk/samples';
import { decodeSummary, type Summary } from '../chunk/summary';
import { BinaryReader } from '../encoding/binary';
import type { SeriesIndex } from '../head/head';
import { indexName, type Matcher } from '../series/series';
import type { IndexCodec } from './builder';
import { decodeSeriesTable, parseBlockMeta, type BlockMeta, type BlockSeries, type ChunkMeta } from './format';

/** A block's files, once read. */
interface LoadedBlock {
  series: BlockSeries[];
  index: SeriesIndex;
  chunks: Uint8Array;
  rollups: Uint8Array;
}

export interface RollupRows {
  starts: Float64Array;
  summaries: Summary[];
}

/** A block that is corrupt or unreadable; the engine reports it and leaves the block alone. */
export class BlockCorruptionError extends Error {
  override readonly name = 'BlockCorruptionError';
  readonly code = 'block_corrupted';
}

/**
 * Reads one immutable block. Opening reads only meta.json; the series table, index, chunks and rollups are read on the
 * first query that touches the block's time range, and kept.
 */
export class BlockReader {
  private loading: Promise<LoadedBlock> | undefined;
  private loaded: LoadedBlock | undefined;

  private constructor(
    readonly directory: string,
    readonly meta: BlockMeta,
    private readonly indexCodec: IndexCodec,
  ) {}

  static async open(directory: string, indexCodec: IndexCodec): Promise<BlockReader> {
    const text = await fs.readFile(path.join(directory, 'meta.json'), 'utf8');
    try {
      return new BlockReader(directory, parseBlockMeta(text), indexCodec);
    } catch (error) {
      throw new BlockCorruptionError(`block ${directory}: ${(error as Error).message}`, { cause: error });
    }
  }

  get isLoaded(): boolean {
    return this.loaded !== undefined;
  }

  overlaps(from: number, to: number): boolean {
    return this.meta.minTime <= to && this.meta.maxTime > from;
  }

  load(): Promise<LoadedBlock> {
    this.loading ??= this.readFiles().then((loaded) => (this.loaded = loaded));
    return this.loading;
  }

  private async readFiles(): Promise<LoadedBlock> {
    const read = (name: string) => fs.readFile(path.join(this.directory, name));
    const [seriesBytes, indexBytes, chunks, rollups] = await Promise.all([
      read('series'),
      read('index'),
      read('chunks'),
      read('rollups'),
    ]);
    try {
      return {
        series: decodeSeriesTable(seriesBytes),
        index: this.indexCodec.decode(indexBytes),
        chunks,
        rollups,
      };
    } catch (error) {
      throw new BlockCorruptionError(`block ${this.meta.ulid}: ${(error as Error).message}`, { cause: error });
    }
  }

  private files(): LoadedBlock {
    if (this.loaded === undefined) throw new Error(`block ${this.meta.ulid} read before load()`);
    return this.loaded;
  }

  /** Series of one tenant, measurement and field matching every matcher; call after `load()`. */
  select(tenant: string, measurement: string, field: string, matchers: readonly Matcher[]): BlockSeries[] {
    const files = this.files();
    return Array.from(files.index.select(indexName(tenant, measurement, field), matchers), (id) => files.series[id]);
  }

  get index(): SeriesIndex {
    return this.files().index;
  }

  allSeries(): readonly BlockSeries[] {
    return this.files().series;
  }

  decodeChunk(chunk: ChunkMeta): Samples {
    return decodeChunk(this.files().chunks.subarray(chunk.offset, chunk.offset + chunk.length));
  }

  /** Every sample of a series in the block, in order. */
  samplesOf(series: BlockSeries): Samples {
    const parts = series.chunks.map((chunk) => this.decodeChunk(chunk));
    if (parts.length === 1) return parts[0];
    const total = parts.reduce((sum, part) => sum + part.timestamps.length, 0);
    const timestamps = new Float64Array(total);
    const values = new Float64Array(total);
    let position = 0;
    for (const part of parts) {
      timestamps.set(part.timestamps, position);
      values.set(part.values, position);
      position += part.timestamps.length;
    }
    return { timestamps, values };
  }

  /** The rows of a rollup tier of a series, or undefined when the block did not keep that tier for it. */
  rollupRows(series: BlockSeries, windowMs: number): RollupRows | undefined {
    const reference = series.rollups.find((rollup) => rollup.windowMs === windowMs);
    if (reference === undefined) return undefined;
    const bytes = inflateRawSync(this.files().rollups.subarray(reference.offset, reference.offset + reference.length));
    const reader = new BinaryReader(bytes);
    const count = reader.readUvarint();
    const starts = new Float64Array(count);
    const summaries: Summary[] = [];
    let start = reader.readVarint();
    for (let index = 0; index < count; index++) {
      if (index > 0) start += reader.readUvarint() * windowMs;
      starts[index] = start;
      summaries.push(decodeSummary(reader.readBytes()));
    }
    return { starts, summaries };
  }

  chunkSummary(chunk: ChunkMeta): Summary {
    return decodeSummary(chunk.summary);
  }
}
