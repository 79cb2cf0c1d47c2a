import type { SampleBatch, SeriesDefinition } from '../record/record';
import { indexName, seriesKey, tagRecord, type Matcher, type Point, type SeriesLabels } from '../series/series';
import { MemSeries } from './mem-series';

/** What the head needs of a tag index (services/storage/index's TagIndex provides it). */
export interface SeriesIndex {
  add(seriesId: number, measurement: string, tags: Record<string, string>): void;
  select(measurement: string, matchers: readonly Matcher[]): Uint32Array;
  measurements(prefix?: string): string[];
  tagKeys(measurement: string): string[];
  tagValues(measurement: string, key: string): string[];
}

export type RejectionReason = 'too_old' | 'out_of_order';

export interface Rejection {
  /** Index of the point in the batch. */
  index: number;
  field: string;
  reason: RejectionReason;
  message: string;
}

export interface AppendResult {
  /** Series the batch created, to be logged before its samples. */
  newSeries: SeriesDefinition[];
  /** The accepted samples, as the WAL records them. */
  accepted: SampleBatch;
  rejections: Rejection[];
}

export interface HeadOptions {
  /** Samples up to this much older than their series' newest sample are accepted and merged. */
  outOfOrderWindowMs: number;
  createIndex: () => SeriesIndex;
}

/**
 * The in-memory part of the engine: every series with samples not yet in a block. Pure (no I/O, no clock): the
 * engine logs what `append` returns to the WAL and persists ranges with `samplesOf` + `dropBefore`.
 */
export class Head {
  private readonly byKey = new Map<string, MemSeries>();
  private readonly byId = new Map<number, MemSeries>();
  /**
   * The series each tags array was last appended to: parsers share one array between the points of a series (the
   * line-protocol parser across requests too), so most lookups are by identity, not by key. A hit is checked against
   * tenant, measurement and field; the map starts over whenever a series is removed, so it never holds a dead one.
   */
  private seriesByTags = new WeakMap<Point['tags'], MemSeries>();
  private index: SeriesIndex;
  nextSeriesId = 1;
  /** Everything before this is in blocks: older samples are rejected as too old. */
  minValidTime = -Infinity;
  /** Newest sample appended (any series). */
  maxTime = -Infinity;
  /** The last queue offset applied, per partition. */
  readonly appliedOffsets = new Map<number, number>();

  constructor(private readonly options: HeadOptions) {
    this.index = options.createIndex();
  }

  get seriesCount(): number {
    return this.byId.size;
  }

  get minTime(): number {
    let minimum = Infinity;
    for (const series of this.byId.values()) if (series.minTime < minimum) minimum = series.minTime;
    return minimum;
  }

  /** Appends validated points of one tenant; decides per sample, so a batch can hold out-of-order samples. */
  append(tenant: string, points: readonly Point[]): AppendResult {
    const newSeries: SeriesDefinition[] = [];
    const rejections: Rejection[] = [];
    let sampleCount = 0;
    for (const point of points) sampleCount += point.fields.length;
    const seriesIds = new Uint32Array(sampleCount);
    const timestamps = new Float64Array(sampleCount);
    const values = new Float64Array(sampleCount);
    let accepted = 0;
    for (let index = 0; index < points.length; index++) {
      const point = points[index];
      let tagSuffix: string | undefined;
      for (const [field, value] of point.fields) {
        let series = this.seriesByTags.get(point.tags);
        if (
          series === undefined ||
          series.labels.measurement !== point.measurement ||
          series.labels.field !== field ||
          series.labels.tenant !== tenant
        ) {
          if (tagSuffix === undefined) {
            tagSuffix = '';
            for (const [name, tagValue] of point.tags) tagSuffix += `\0${name}\0${tagValue}`;
          }
          const key = `${tenant}\0${point.measurement}\0${field}${tagSuffix}`;
          series = this.byKey.get(key);
          if (series === undefined) {
            const labels: SeriesLabels = { tenant, measurement: point.measurement, tags: point.tags, field };
            series = this.createSeries(this.nextSeriesId++, labels, key);
            newSeries.push({ id: series.id, labels });
          }
          this.seriesByTags.set(point.tags, series);
        }
        const reason = this.rejectionOf(series, point.timestamp);
        if (reason !== undefined) {
          rejections.push({ index, field, reason, message: this.explain(reason, series, point.timestamp) });
          continue;
        }
        series.append(point.timestamp, value);
        if (point.timestamp > this.maxTime) this.maxTime = point.timestamp;
        seriesIds[accepted] = series.id;
        timestamps[accepted] = point.timestamp;
        values[accepted++] = value;
      }
    }
    return {
      newSeries,
      accepted: {
        seriesIds: seriesIds.subarray(0, accepted),
        timestamps: timestamps.subarray(0, accepted),
        values: values.subarray(0, accepted),
      },
      rejections,
    };
  }

  private rejectionOf(series: MemSeries, timestamp: number): RejectionReason | undefined {
    if (timestamp < this.minValidTime) return 'too_old';
    if (timestamp < series.maxTime - this.options.outOfOrderWindowMs) return 'out_of_order';
    return undefined;
  }

  private explain(reason: RejectionReason, series: MemSeries, timestamp: number): string {
    switch (reason) {
      case 'too_old':
        return `timestamp ${timestamp} is before ${this.minValidTime}, which is already persisted in a block`;
      case 'out_of_order':
        return `timestamp ${timestamp} is more than ${this.options.outOfOrderWindowMs} ms older than the series' newest sample ${series.maxTime}`;
      default: {
        const exhaustive: never = reason;
        return exhaustive;
      }
    }
  }

  private createSeries(id: number, labels: SeriesLabels, key: string): MemSeries {
    const series = new MemSeries(id, labels, key);
    this.byKey.set(key, series);
    this.byId.set(id, series);
    this.index.add(id, indexName(labels.tenant, labels.measurement, labels.field), tagRecord(labels.tags));
    return series;
  }

  /** Replays a series record from the WAL. */
  restoreSeries(definitions: readonly SeriesDefinition[]): void {
    for (const { id, labels } of definitions) {
      if (!this.byId.has(id)) this.createSeries(id, labels, seriesKey(labels));
      if (id >= this.nextSeriesId) this.nextSeriesId = id + 1;
    }
  }

  /** Replays a samples record from the WAL: no window checks (they passed when it was written), persisted ones skipped. */
  restoreSamples(batch: SampleBatch, offsets: ReadonlyMap<number, number>): void {
    for (let index = 0; index < batch.seriesIds.length; index++) {
      const timestamp = batch.timestamps[index];
      const series = this.byId.get(batch.seriesIds[index]);
      if (series === undefined || timestamp < this.minValidTime) continue;
      series.append(timestamp, batch.values[index]);
      if (timestamp > this.maxTime) this.maxTime = timestamp;
    }
    this.recordOffsets(offsets);
  }

  recordOffsets(offsets: ReadonlyMap<number, number>): void {
    for (const [partition, offset] of offsets)
      if (offset > (this.appliedOffsets.get(partition) ?? -1)) this.appliedOffsets.set(partition, offset);
  }

  series(id: number): MemSeries | undefined {
    return this.byId.get(id);
  }

  allSeries(): IterableIterator<MemSeries> {
    return this.byId.values();
  }

  select(tenant: string, measurement: string, field: string, matchers: readonly Matcher[]): MemSeries[] {
    const ids = this.index.select(indexName(tenant, measurement, field), matchers);
    const found: MemSeries[] = [];
    for (const id of ids) {
      const series = this.byId.get(id);
      if (series !== undefined) found.push(series);
    }
    return found;
  }

  get seriesIndex(): SeriesIndex {
    return this.index;
  }

  /**
   * Forgets samples before `time` (now in a block), raises the valid minimum to it, and drops series left empty;
   * the index is rebuilt without them, since postings lists are append-only.
   */
  dropBefore(time: number): void {
    this.minValidTime = Math.max(this.minValidTime, time);
    let hasRemoved = false;
    for (const series of this.byId.values()) {
      series.dropBefore(time);
      if (series.isEmpty) {
        this.byId.delete(series.id);
        this.byKey.delete(series.key);
        hasRemoved = true;
      }
    }
    if (!hasRemoved) return;
    this.seriesByTags = new WeakMap();
    this.index = this.options.createIndex();
    for (const series of this.byId.values())
      this.index.add(
        series.id,
        indexName(series.labels.tenant, series.labels.measurement, series.labels.field),
        tagRecord(series.labels.tags),
      );
  }
}
