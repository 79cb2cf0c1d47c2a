import fs from 'node:fs/promises';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { decodeChunk } from '../chunk/codec';
import type { Samples } from '../chunk/samples';
import { decodeSummary, type Summary } from '../chunk/summary';
import type { SketchWire } from '../../kit/sketch';
import type { SeriesIndex } from '../head/head';
import { indexName, type Matcher } from '../series/series';
import type { IndexCodec } from './builder';
import {
  decodeRollupColumns,
  decodeRollupSketches,
  decodeSomeRollupColumns,
  type RollupColumnName,
  type RollupColumns,
  type SomeRollupColumns,
} from './rollup-format';
import {
  decodeSeriesTable,
  parseBlockMeta,
  type BlockMeta,
  type BlockSeries,
  type ChunkMeta,
  type RollupRef,
} from './format';

/** A block's files, once read. */
interface LoadedBlock {
  series: BlockSeries[];
  index: SeriesIndex;
  chunks: Uint8Array;
  rollups: Uint8Array;
}

/** A block that is corrupt or unreadable; the engine reports it and leaves the block alone. */
export class BlockCorruptionError extends Error {
  override readonly name = 'BlockCorruptionError';
  readonly code = 'block_corrupted';
}

/**
 * Reads one immutable block. Opening reads only meta.json; the series table, index, chunks and rollups are read on the
 * first query that touches the block's time range, and kept until the engine's block cache unloads them (never while
 * pinned by `acquire`).
 */
export class BlockReader {
  private loading: Promise<LoadedBlock> | undefined;
  private loaded: LoadedBlock | undefined;
  private inflatedRollups: Uint8Array | undefined;
  /** Rollup columns decoded for queries, per tier of a series; kept (and counted) until unload. */
  private decodedRollups = new Map<RollupRef, SomeRollupColumns>();
  private decodedRollupBytes = 0;
  /** How many times each rollup column (and the sketch section) was decoded since open; tests read it. */
  readonly rollupDecodes = new Map<RollupColumnName | 'sketches', number>();
  private pins = 0;
  /** Sizes of the (inflated) series table and the index file, counted for the structures decoded from them. */
  private decodedFileBytes = 0;

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

  overlaps(from: number, to: number): boolean {
    return this.meta.minTime <= to && this.meta.maxTime > from;
  }

  load(): Promise<LoadedBlock> {
    if (this.loading === undefined) {
      const loading = this.readFiles().then((loaded) => {
        // An unload while reading leaves `loading` replaced or cleared; this read then answers only its own callers.
        if (this.loading === loading) this.loaded = loaded;
        return loaded;
      });
      this.loading = loading;
      loading.catch(() => {
        if (this.loading === loading) this.loading = undefined;
      });
    }
    return this.loading;
  }

  /** Loads the block and keeps it loaded until the matching `release`. */
  async acquire(): Promise<void> {
    this.pins++;
    try {
      await this.load();
    } catch (error) {
      this.pins--;
      throw error;
    }
  }

  release(): void {
    this.pins--;
  }

  get isPinned(): boolean {
    return this.pins > 0;
  }

  get isLoaded(): boolean {
    return this.loaded !== undefined;
  }

  /** Memory the loaded block holds: its files as read, decoded structures counted at their encoded size. */
  get residentBytes(): number {
    if (this.loaded === undefined) return 0;
    return (
      this.decodedFileBytes +
      this.loaded.chunks.byteLength +
      this.loaded.rollups.byteLength +
      (this.inflatedRollups?.byteLength ?? 0) +
      this.decodedRollupBytes
    );
  }

  /** Drops the loaded files; the next `load` reads them again. */
  unload(): void {
    if (this.pins > 0) throw new Error(`block ${this.meta.ulid} unloaded while in use`);
    this.loading = undefined;
    this.loaded = undefined;
    this.inflatedRollups = undefined;
    this.decodedRollups = new Map();
    this.decodedRollupBytes = 0;
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
      const seriesTable = inflateRawSync(seriesBytes);
      this.decodedFileBytes = seriesTable.byteLength + indexBytes.byteLength;
      return {
        series: decodeSeriesTable(seriesTable),
        index: this.indexCodec.decode(indexBytes),
        chunks,
        rollups,
      };
    } catch (error) {
      throw new BlockCorruptionError(`block ${this.meta.ulid}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** The inflated rollups file, inflated on first use and kept. */
  private rollupBytes(): Uint8Array {
    const files = this.files();
    this.inflatedRollups ??= files.rollups.length === 0 ? new Uint8Array(0) : inflateRawSync(files.rollups);
    return this.inflatedRollups;
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

  chunkBytes(chunk: ChunkMeta): Uint8Array {
    return this.files().chunks.subarray(chunk.offset, chunk.offset + chunk.length);
  }

  decodeChunk(chunk: ChunkMeta): Samples {
    return decodeChunk(this.chunkBytes(chunk));
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

  /** The scalar rows of a rollup tier of a series, or undefined when the block did not keep that tier for it. */
  rollupColumns(series: BlockSeries, windowMs: number): RollupColumns | undefined {
    const reference = series.rollups.find((rollup) => rollup.windowMs === windowMs);
    if (reference === undefined) return undefined;
    return decodeRollupColumns(this.scalarBytes(reference), windowMs);
  }

  /**
   * Starts, counts and the `wanted` columns of a rollup tier of a series, decoded on first use and kept, so a query
   * inflates only the columns its partials need, once.
   */
  cachedRollupColumns(
    series: BlockSeries,
    windowMs: number,
    wanted: ReadonlySet<RollupColumnName>,
  ): SomeRollupColumns | undefined {
    const reference = series.rollups.find((rollup) => rollup.windowMs === windowMs);
    if (reference === undefined) return undefined;
    const cached = this.decodedRollups.get(reference);
    // Called per series and query: the usual answer, every wanted column at hand, allocates nothing.
    if (cached !== undefined && hasEvery(cached, wanted)) return cached;
    const missing = new Set<RollupColumnName>();
    for (const name of wanted) if (cached?.[name] === undefined) missing.add(name);
    const decoded = decodeSomeRollupColumns(this.scalarBytes(reference), windowMs, missing);
    const kept = cached ?? { starts: decoded.starts, counts: decoded.counts };
    for (const [name, column] of Object.entries(decoded) as [RollupColumnName, Float64Array][]) {
      if (cached !== undefined && cached[name] !== undefined) continue;
      kept[name] = column;
      this.decodedRollupBytes += column.byteLength;
      this.rollupDecodes.set(name, (this.rollupDecodes.get(name) ?? 0) + 1);
    }
    this.decodedRollups.set(reference, kept);
    return kept;
  }

  private scalarBytes(reference: RollupRef): Uint8Array {
    return this.rollupBytes().subarray(reference.offset, reference.offset + reference.length);
  }

  /** The sketch of each row of a rollup tier, in row order. */
  rollupSketches(series: BlockSeries, windowMs: number): SketchWire[] | undefined {
    const reference = series.rollups.find((rollup) => rollup.windowMs === windowMs);
    if (reference === undefined) return undefined;
    const start = reference.sketchOffset;
    this.rollupDecodes.set('sketches', (this.rollupDecodes.get('sketches') ?? 0) + 1);
    return decodeRollupSketches(this.rollupBytes().subarray(start, start + reference.sketchLength));
  }

  chunkSummary(chunk: ChunkMeta): Summary {
    return decodeSummary(chunk.summary);
  }
}

function hasEvery(columns: SomeRollupColumns, wanted: ReadonlySet<RollupColumnName>): boolean {
  for (const name of wanted) if (columns[name] === undefined) return false;
  return true;
}
