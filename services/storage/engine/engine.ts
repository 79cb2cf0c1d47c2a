import fs from 'node:fs/promises';
import path from 'node:path';
import type { Clock, Random } from '../../kit/clock';
import type { Logger } from '../../kit/logger';
import { BlockBuilder, type BlockLayout, type IndexCodec } from '../block/builder';
import type { BlockMeta, BlockSeries } from '../block/format';
import { BlockCache } from '../block/cache';
import { BlockReader } from '../block/reader';
import type { RollupColumnName } from '../block/rollup-format';
import { isUlid, newUlid } from '../block/ulid';
import type { Samples } from '../chunk/samples';
import { windowStart } from '../chunk/rollup';
import { acquireAll, compactBlocks } from '../compact/compactor';
import { expiredBlocks, planCompaction, supersededBlocks } from '../compact/planner';
import { sizeOfTree, syncDirectory } from '../fileutil/fileutil';
import { Head, type Rejection, type SeriesIndex } from '../head/head';
import type { SealedChunk } from '../head/sealed-chunk';
import { lowerBound, mergeRuns, sliceRange } from '../head/samples-merge';
import { RecordType, decodeRecord, encodeRecord, type WalRecord } from '../record/record';
import { seriesKey, splitIndexName, type Matcher, type Point, type SeriesLabels } from '../series/series';
import { Wal } from '../wal/wal';
import {
  AggregateCollector,
  rollupColumnsFor,
  type GroupWindows,
  type AggregateGroup,
  type AggregateSpec,
  type AggregateStats,
} from './aggregate';
import type { EngineMetrics } from './metrics';

export interface EngineOptions {
  directory: string;
  /** Range of a head cut, the first compaction level (2 h). */
  blockRangeMs: number;
  /** Further compaction levels, each a multiple of the previous (6 h, 24 h). */
  compactionRangesMs: readonly number[];
  /** Blocks wholly older than this are deleted; 0 keeps everything. */
  retentionMs: number;
  outOfOrderWindowMs: number;
  walSegmentBytes: number;
  isSyncing: boolean;
  layout: BlockLayout;
  indexCodec: IndexCodec;
  createIndex: () => SeriesIndex;
  clock: Clock;
  random: Random;
  logger: Logger;
  metrics?: EngineMetrics;
  /** Bound on the memory of loaded blocks (least recently used unloaded first); absent: unbounded. */
  blockCacheBytes?: number;
}

export interface WriteResult {
  written: number;
  rejections: Rejection[];
}

export interface SeriesSelection {
  measurement: string;
  field: string;
  matchers: readonly Matcher[];
}

export interface SeriesSamples {
  labels: SeriesLabels;
  samples: Samples;
}

/** Samples per checkpoint record: bounds one record's size. */
const CHECKPOINT_BATCH = 65_536;

/**
 * The database (tsdb's db.go): the WAL-backed head, the immutable blocks, and the maintenance that moves data from
 * one to the other (head cut → block, blocks → larger blocks, retention), with queries planned across all of them.
 *
 * Durability: a write is applied to the head and queued to the WAL in the same tick, and resolves once the WAL
 * fsync covers it. A head cut raises the head's valid minimum before writing the block, so no sample can land in a
 * range while it is being persisted; the head drops the range and the block appears in the same tick.
 */
export class Engine {
  private blocks: BlockReader[] = [];
  private maintaining: Promise<void> | undefined;
  private inFlightQueries = 0;
  private pendingDeletion: string[] = [];
  private isClosed = false;
  readonly blockCache: BlockCache<BlockReader>;

  private constructor(
    private readonly options: EngineOptions,
    readonly head: Head,
    private wal: Wal | undefined,
  ) {
    this.blockCache = new BlockCache(options.blockCacheBytes ?? Infinity);
  }

  static async open(options: EngineOptions): Promise<Engine> {
    const blocksDirectory = path.join(options.directory, 'blocks');
    await fs.mkdir(blocksDirectory, { recursive: true });
    const head = new Head({ outOfOrderWindowMs: options.outOfOrderWindowMs, createIndex: options.createIndex });
    const engine = new Engine(options, head, undefined);
    await engine.openBlocks(blocksDirectory);
    head.minValidTime = engine.persistedUntil();
    const { wal, repaired } = await Wal.open(
      path.join(options.directory, 'wal'),
      {
        segmentBytes: options.walSegmentBytes,
        isSyncing: options.isSyncing,
        onSync: (seconds) => options.metrics?.walFsyncSeconds.observe(seconds),
      },
      (bytes) => engine.replay(decodeRecord(bytes)),
    );
    if (repaired) options.logger.warn('cut off a torn WAL tail', { error: repaired.message });
    engine.wal = wal;
    engine.updateGauges();
    options.logger.info('storage engine open', {
      blocks: engine.blocks.length,
      headSeries: head.seriesCount,
      persistedUntil: head.minValidTime,
    });
    return engine;
  }

  private async openBlocks(directory: string): Promise<void> {
    for (const name of await fs.readdir(directory)) {
      if (name.includes('.tmp')) await fs.rm(path.join(directory, name), { recursive: true, force: true });
    }
    const readers: BlockReader[] = [];
    for (const name of await fs.readdir(directory)) {
      if (!isUlid(name)) continue;
      readers.push(await BlockReader.open(path.join(directory, name), this.options.indexCodec));
    }
    const superseded = new Set(supersededBlocks(readers.map((reader) => reader.meta)).map((meta) => meta.ulid));
    for (const reader of readers.filter((candidate) => superseded.has(candidate.meta.ulid))) {
      this.options.logger.warn('removing a block left behind by an interrupted compaction', { ulid: reader.meta.ulid });
      await this.deleteBlockDirectory(reader.directory);
    }
    this.blocks = sortBlocks(readers.filter((reader) => !superseded.has(reader.meta.ulid)));
  }

  private replay(record: WalRecord): void {
    switch (record.type) {
      case RecordType.series:
        this.head.restoreSeries(record.series);
        return;
      case RecordType.samples:
        this.head.restoreSamples(record.samples, record.offsets);
        return;
      case RecordType.checkpoint:
        this.head.minValidTime = Math.max(this.head.minValidTime, record.state.minValidTime);
        this.head.nextSeriesId = Math.max(this.head.nextSeriesId, record.state.nextSeriesId);
        this.head.recordOffsets(record.state.offsets);
        return;
      default: {
        const exhaustive: never = record;
        return exhaustive;
      }
    }
  }

  /** End of the newest block: the head holds only samples at or after it. */
  private persistedUntil(): number {
    return this.blocks.reduce((latest, block) => Math.max(latest, block.meta.maxTime), -Infinity);
  }

  get blockMetas(): BlockMeta[] {
    return this.blocks.map((block) => block.meta);
  }

  /** Whether the block at `index` (in time order, as `blockMetas`) holds its files in memory now. */
  isBlockLoaded(index: number): boolean {
    return this.blocks[index]?.isLoaded ?? false;
  }

  get appliedOffsets(): ReadonlyMap<number, number> {
    return this.head.appliedOffsets;
  }

  /**
   * Appends validated points; resolves once they are durable. `offsets` are the queue offsets these points complete,
   * logged in the same record so a restart knows exactly what was applied.
   */
  async write(
    tenant: string,
    points: readonly Point[],
    offsets: ReadonlyMap<number, number> = new Map(),
  ): Promise<WriteResult> {
    const wal = this.requireWal();
    const result = this.head.append(tenant, points);
    this.head.recordOffsets(offsets);
    const durable: Promise<void>[] = [];
    if (result.newSeries.length > 0)
      durable.push(wal.append(encodeRecord({ type: RecordType.series, series: result.newSeries })));
    if (result.accepted.seriesIds.length > 0 || offsets.size > 0)
      durable.push(wal.append(encodeRecord({ type: RecordType.samples, offsets, samples: result.accepted })));
    const metrics = this.options.metrics;
    if (metrics) {
      metrics.samplesAppended.inc(result.accepted.seriesIds.length);
      for (const rejection of result.rejections) metrics.samplesRejected.inc({ reason: rejection.reason });
    }
    await Promise.all(durable);
    if (this.isHeadCuttable())
      void this.maintain().catch((error) => this.options.logger.error('maintenance failed', { error }));
    return { written: result.accepted.seriesIds.length, rejections: result.rejections };
  }

  private requireWal(): Wal {
    if (this.wal === undefined || this.isClosed) throw new Error('storage engine is closed');
    return this.wal;
  }

  /** Tsdb's rule: cut once the head spans 1.5 block ranges, so the half range after the cut absorbs late samples. */
  private isHeadCuttable(): boolean {
    if (this.head.maxTime === -Infinity) return false;
    const from = Math.max(this.head.minValidTime, this.head.minTime);
    return this.head.maxTime - from > this.options.blockRangeMs * 1.5;
  }

  /** Runs one round of maintenance (head cuts, WAL checkpoint, compactions, retention); concurrent calls share it. */
  maintain(): Promise<void> {
    this.maintaining ??= this.runMaintenance(false).finally(() => (this.maintaining = undefined));
    return this.maintaining;
  }

  /**
   * Persists the whole head to blocks now (benchmarks, and before a planned migration). Afterwards samples before the
   * end of the last block range are rejected as too old, as after any cut.
   */
  async persistHead(): Promise<void> {
    while (this.maintaining) await this.maintaining;
    this.maintaining = this.runMaintenance(true).finally(() => (this.maintaining = undefined));
    return this.maintaining;
  }

  private async runMaintenance(isPersistingAll: boolean): Promise<void> {
    let hasCut = false;
    const hasHeadSamples = () => this.head.minTime !== Infinity;
    while (!this.isClosed && (this.isHeadCuttable() || (isPersistingAll && hasHeadSamples()))) {
      await this.cutHead();
      hasCut = true;
    }
    if (hasCut && !this.isClosed) await this.checkpointWal();
    for (;;) {
      if (this.isClosed) break;
      const plan = planCompaction(
        this.blockMetas,
        [this.options.blockRangeMs, ...this.options.compactionRangesMs],
        this.persistedUntil(),
      );
      if (plan === undefined) break;
      const sources = this.blocks.filter((block) => plan.sources.some((source) => source.ulid === block.meta.ulid));
      const ulid = this.newBlockUlid();
      const meta = await compactBlocks(
        this.blocksDirectory,
        plan,
        sources,
        ulid,
        this.options.layout,
        this.options.indexCodec,
      );
      const reader = await BlockReader.open(path.join(this.blocksDirectory, meta.ulid), this.options.indexCodec);
      this.replaceBlocks(sources, [reader]);
      this.options.metrics?.compactions.inc({ kind: 'merge' });
      this.options.logger.info('compacted blocks', { ulid, level: plan.level, sources: plan.sources.length });
    }
    const expired = expiredBlocks(this.blockMetas, this.options.retentionMs, this.options.clock.now());
    if (expired.length > 0) {
      this.replaceBlocks(
        this.blocks.filter((block) => expired.some((meta) => meta.ulid === block.meta.ulid)),
        [],
      );
      this.options.metrics?.compactions.inc({ kind: 'retention' }, expired.length);
      this.options.logger.info('deleted blocks past retention', { blocks: expired.length });
    }
    await this.collectDeletions();
    await this.updateBytesOnDisk();
  }

  /** A fresh block name; the clock and random source are injected, so uniqueness is checked rather than assumed. */
  private newBlockUlid(): string {
    const taken = new Set(this.blocks.map((block) => block.meta.ulid));
    for (;;) {
      const ulid = newUlid(this.options.clock.now(), this.options.random);
      if (!taken.has(ulid)) return ulid;
    }
  }

  private get blocksDirectory(): string {
    return path.join(this.options.directory, 'blocks');
  }

  /** Persists the oldest block range of the head. */
  private async cutHead(): Promise<void> {
    const rangeMs = this.options.blockRangeMs;
    const from = Math.max(this.head.minValidTime, this.head.minTime);
    const minTime = Math.floor(from / rangeMs) * rangeMs;
    const maxTime = minTime + rangeMs;
    const builder = new BlockBuilder(this.options.layout, this.options.indexCodec);
    for (const series of this.head.allSeries()) builder.addSeries(series.labels, series.samples(minTime, maxTime - 1));
    // From here no sample can join [minTime, maxTime): it would miss the block being written.
    this.head.minValidTime = Math.max(this.head.minValidTime, maxTime);
    if (builder.seriesCount > 0) {
      const ulid = this.newBlockUlid();
      const meta = await builder.write(this.blocksDirectory, ulid, { minTime, maxTime }, { level: 1, sources: [] });
      const reader = await BlockReader.open(path.join(this.blocksDirectory, meta.ulid), this.options.indexCodec);
      this.blocks = sortBlocks([...this.blocks, reader]);
      this.options.metrics?.compactions.inc({ kind: 'head' });
      this.options.logger.info('persisted head block', { ulid, minTime, maxTime, series: meta.stats.series });
    }
    this.head.dropBefore(maxTime);
    this.updateGauges();
  }

  /** Rewrites the WAL as a checkpoint of what the head holds now, deleting the segments it replaces. */
  private async checkpointWal(): Promise<void> {
    const wal = this.requireWal();
    const segment = wal.rotate();
    const records = this.snapshotHead().map(encodeRecord);
    await wal.checkpoint(segment, records);
  }

  private snapshotHead(): WalRecord[] {
    const records: WalRecord[] = [
      {
        type: RecordType.checkpoint,
        state: {
          minValidTime: Number.isFinite(this.head.minValidTime) ? this.head.minValidTime : Number.MIN_SAFE_INTEGER,
          nextSeriesId: this.head.nextSeriesId,
          offsets: new Map(this.head.appliedOffsets),
        },
      },
    ];
    const all = [...this.head.allSeries()];
    records.push({ type: RecordType.series, series: all.map((series) => ({ id: series.id, labels: series.labels })) });
    let seriesIds: number[] = [];
    let timestamps: number[] = [];
    let values: number[] = [];
    const flush = () => {
      if (seriesIds.length === 0) return;
      records.push({
        type: RecordType.samples,
        offsets: new Map(),
        samples: {
          seriesIds: Uint32Array.from(seriesIds),
          timestamps: Float64Array.from(timestamps),
          values: Float64Array.from(values),
        },
      });
      seriesIds = [];
      timestamps = [];
      values = [];
    };
    for (const series of all) {
      const samples = series.samples(-Infinity, Infinity);
      for (let index = 0; index < samples.timestamps.length; index++) {
        seriesIds.push(series.id);
        timestamps.push(samples.timestamps[index]);
        values.push(samples.values[index]);
        if (seriesIds.length >= CHECKPOINT_BATCH) flush();
      }
    }
    flush();
    return records;
  }

  private replaceBlocks(removed: readonly BlockReader[], added: readonly BlockReader[]): void {
    const removedSet = new Set(removed);
    for (const block of removed) this.blockCache.forget(block);
    this.blocks = sortBlocks([...this.blocks.filter((block) => !removedSet.has(block)), ...added]);
    this.pendingDeletion.push(...removed.map((block) => block.directory));
    this.updateGauges();
  }

  /** Deletes replaced blocks once no query that might still read them is running (tsdb renames, then removes). */
  private async collectDeletions(): Promise<void> {
    if (this.inFlightQueries > 0 || this.pendingDeletion.length === 0) return;
    const directories = this.pendingDeletion.splice(0);
    for (const directory of directories) await this.deleteBlockDirectory(directory);
  }

  private async deleteBlockDirectory(directory: string): Promise<void> {
    const doomed = `${directory}.tmp-for-deletion`;
    await fs.rename(directory, doomed);
    await syncDirectory(path.dirname(directory));
    await fs.rm(doomed, { recursive: true, force: true });
  }

  private updateGauges(): void {
    this.options.metrics?.headSeries.set(this.head.seriesCount);
    this.options.metrics?.blocks.set(this.blocks.length);
  }

  async bytesOnDisk(): Promise<{ blocks: number; wal: number }> {
    return {
      blocks: await sizeOfTree(this.blocksDirectory),
      wal: await sizeOfTree(path.join(this.options.directory, 'wal')),
    };
  }

  private async updateBytesOnDisk(): Promise<void> {
    if (!this.options.metrics) return;
    const bytes = await this.bytesOnDisk();
    this.options.metrics.bytesOnDisk.set(bytes.blocks + bytes.wal);
  }

  /** Runs `read` over the blocks overlapping [from, to] (loaded) and the head, keeping replaced blocks alive meanwhile. */
  private async reading<T>(from: number, to: number, read: (blocks: readonly BlockReader[]) => T): Promise<T> {
    this.inFlightQueries++;
    const blocks = this.blocks.filter((block) => block.overlaps(from, to));
    try {
      await acquireAll(blocks);
    } catch (error) {
      this.inFlightQueries--;
      throw error;
    }
    try {
      return read(blocks);
    } finally {
      for (const block of blocks) block.release();
      this.touchBlocks(blocks);
      this.inFlightQueries--;
      if (this.inFlightQueries === 0 && this.pendingDeletion.length > 0 && !this.maintaining)
        void this.collectDeletions().catch((error) => this.options.logger.error('block deletion failed', { error }));
    }
  }

  /** Marks blocks as just used in the block cache, which may unload the least recently used others. */
  private touchBlocks(blocks: readonly BlockReader[]): void {
    const evictionsBefore = this.blockCache.evictions;
    for (const block of blocks) if (block.isLoaded) this.blockCache.touch(block);
    const metrics = this.options.metrics;
    if (metrics === undefined) return;
    metrics.blockCacheBytes.set(this.blockCache.bytes);
    if (this.blockCache.evictions > evictionsBefore)
      metrics.blockCacheEvictions.inc(this.blockCache.evictions - evictionsBefore);
  }

  /** Raw samples of every matching series with from ≤ t ≤ to, ordered by series. */
  query(tenant: string, selection: SeriesSelection, from: number, to: number): Promise<SeriesSamples[]> {
    return this.reading(from, to, (blocks) => {
      const runs = new Map<string, { labels: SeriesLabels; runs: Samples[] }>();
      const add = (labels: SeriesLabels, samples: Samples) => {
        if (samples.timestamps.length === 0) return;
        const key = seriesKey(labels);
        const entry = runs.get(key);
        if (entry) entry.runs.push(samples);
        else runs.set(key, { labels, runs: [samples] });
      };
      for (const block of blocks)
        for (const series of block.select(tenant, selection.measurement, selection.field, selection.matchers))
          add(series.labels, blockSamples(block, series, from, to));
      for (const series of this.head.select(tenant, selection.measurement, selection.field, selection.matchers))
        add(series.labels, series.samples(from, to));
      return [...runs.keys()]
        .sort()
        .map((key) => ({ labels: runs.get(key)!.labels, samples: mergeRuns(runs.get(key)!.runs) }));
    });
  }

  /**
   * Partial aggregates per group and window over [start, end). Blocks are read cheapest first: rollup rows when the
   * window is a multiple of a tier (decoding only the edges the rows do not cover), whole-chunk summaries when a chunk
   * lies inside one window, and decoded samples otherwise. The head is decoded.
   */
  aggregate(
    tenant: string,
    selection: SeriesSelection,
    spec: AggregateSpec,
  ): Promise<{ groups: AggregateGroup[]; stats: AggregateStats }> {
    return this.reading(spec.start, spec.end - 1, (blocks) => {
      const collector = new AggregateCollector(spec);
      const columns = rollupColumnsFor(spec.partials);
      for (const block of blocks)
        for (const series of block.select(tenant, selection.measurement, selection.field, selection.matchers))
          aggregateBlockSeries(collector, block, series, columns);
      const headTier = usableTier(
        this.options.layout.rollupWindowsMs.map((windowMs) => ({ windowMs })),
        spec,
      );
      for (const series of this.head.select(tenant, selection.measurement, selection.field, selection.matchers)) {
        const windows = collector.groupOf(series.labels);
        const useChunk = (chunk: SealedChunk) => addHeadChunk(collector, windows, chunk, headTier);
        collector.addSamples(windows, series.aggregationSamples(spec.start, spec.end - 1, useChunk));
      }
      return { groups: collector.result(), stats: collector.stats };
    });
  }

  /** Measurement names of a tenant, optionally by prefix. */
  measurements(tenant: string, prefix = ''): Promise<string[]> {
    return this.reading(-Infinity, Infinity, (blocks) => {
      const names = new Set<string>();
      for (const index of this.indexes(blocks))
        for (const name of index.measurements(`${tenant}\0${prefix}`)) {
          const parts = splitIndexName(name);
          if (parts.tenant === tenant) names.add(parts.measurement);
        }
      return [...names].sort();
    });
  }

  tagKeys(tenant: string, measurement: string): Promise<string[]> {
    return this.fromEachField(tenant, measurement, (index, name) => index.tagKeys(name));
  }

  tagValues(tenant: string, measurement: string, key: string): Promise<string[]> {
    return this.fromEachField(tenant, measurement, (index, name) => index.tagValues(name, key));
  }

  private fromEachField(
    tenant: string,
    measurement: string,
    list: (index: SeriesIndex, name: string) => string[],
  ): Promise<string[]> {
    return this.reading(-Infinity, Infinity, (blocks) => {
      const found = new Set<string>();
      for (const index of this.indexes(blocks))
        for (const name of index.measurements(`${tenant}\0${measurement}\0`)) {
          const parts = splitIndexName(name);
          if (parts.tenant === tenant && parts.measurement === measurement)
            for (const item of list(index, name)) found.add(item);
        }
      return [...found].sort();
    });
  }

  private indexes(blocks: readonly BlockReader[]): SeriesIndex[] {
    return [...blocks.map((block) => block.index), this.head.seriesIndex];
  }

  /** Finishes maintenance and flushes the WAL. The head is not persisted: the WAL replays it at the next open. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await this.maintaining?.catch(() => undefined);
    await this.wal?.close();
  }
}

function sortBlocks(blocks: BlockReader[]): BlockReader[] {
  return blocks.sort((a, b) => a.meta.minTime - b.meta.minTime || (a.meta.ulid < b.meta.ulid ? -1 : 1));
}

function blockSamples(block: BlockReader, series: BlockSeries, from: number, to: number): Samples {
  const runs: Samples[] = [];
  for (const chunk of series.chunks)
    if (chunk.maxTime >= from && chunk.minTime <= to) runs.push(sliceRange(block.decodeChunk(chunk), from, to));
  return mergeRuns(runs);
}

/** The largest of the rollup tiers (window lengths) the request's windows are made of. */
function usableTier(tiers: readonly { windowMs: number }[], spec: AggregateSpec): number | undefined {
  if (spec.windowMs <= 0) return undefined;
  let best: number | undefined;
  for (const { windowMs } of tiers)
    if (spec.windowMs % windowMs === 0 && spec.offsetMs % windowMs === 0 && (best === undefined || windowMs > best))
      best = windowMs;
  return best;
}

/**
 * Adds a sealed head chunk (inside the range, unchanged by overrides) from its partials, as block chunks are: rows of
 * the tier when the windows are made of one (sketches are not kept per row), else its whole summary when it lies in
 * one window. False: the chunk is to be decoded.
 */
function addHeadChunk(
  collector: AggregateCollector,
  windows: GroupWindows,
  chunk: SealedChunk,
  tierMs: number | undefined,
): boolean {
  if (tierMs !== undefined && !collector.spec.hasSketch) {
    const rows = chunk.rows(tierMs);
    if (rows !== undefined) {
      collector.addPackedRows(windows, rows);
      return true;
    }
  }
  const slot = collector.slotOf(chunk.minTime);
  if (slot !== collector.slotOf(chunk.maxTime)) return false;
  collector.addSummary(windows, slot, chunk.summary());
  return true;
}

function aggregateBlockSeries(
  collector: AggregateCollector,
  block: BlockReader,
  series: BlockSeries,
  wantedColumns: ReadonlySet<RollupColumnName>,
): void {
  const spec = collector.spec;
  const windows = collector.groupOf(series.labels);
  const tier = usableTier(series.rollups, spec);
  // Rows wholly inside [start, end) come from the tier; the edges outside them are decoded.
  let coveredFrom = Infinity;
  let coveredTo = -Infinity;
  if (tier !== undefined) {
    coveredFrom = windowStart(spec.start + tier - 1, tier);
    coveredTo = windowStart(spec.end, tier);
    const columns = coveredFrom < coveredTo ? block.cachedRollupColumns(series, tier, wantedColumns) : undefined;
    if (columns !== undefined) {
      const first = lowerBound(columns.starts, coveredFrom);
      const last = lowerBound(columns.starts, coveredTo);
      const sketches = spec.hasSketch ? block.rollupSketches(series, tier) : undefined;
      collector.addRollupRows(windows, columns, first, last, sketches);
    } else {
      coveredFrom = Infinity;
      coveredTo = -Infinity;
    }
  }
  for (const chunk of series.chunks) {
    if (chunk.maxTime < spec.start || chunk.minTime >= spec.end) continue;
    if (chunk.minTime >= coveredFrom && chunk.maxTime < coveredTo) continue;
    const isInsideRange = chunk.minTime >= spec.start && chunk.maxTime < spec.end;
    const isOutsideCover = chunk.maxTime < coveredFrom || chunk.minTime >= coveredTo;
    const slot = collector.slotOf(chunk.minTime);
    if (isInsideRange && isOutsideCover && slot === collector.slotOf(chunk.maxTime)) {
      collector.addSummary(windows, slot, block.chunkSummary(chunk));
      continue;
    }
    const samples = block.decodeChunk(chunk);
    if (coveredFrom < coveredTo) {
      collector.addSamples(windows, sliceRange(samples, -Infinity, coveredFrom - 1));
      collector.addSamples(windows, sliceRange(samples, coveredTo, Infinity));
    } else collector.addSamples(windows, samples);
  }
}
