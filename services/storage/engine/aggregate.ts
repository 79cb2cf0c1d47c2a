import type { Samples } from '../chunk/samples';
import { windowStart } from '../chunk/rollup';
import { SKETCH_ALPHA, type Summary } from '../chunk/summary';
import { DDSketch, type SketchWire } from '../../kit/sketch';
import type { RollupColumnName, SomeRollupColumns } from '../block/rollup-format';
import type { SeriesLabels } from '../series/series';

/** Partial aggregates of one window, as `POST /v1/aggregate` answers them (docs/CONTRACTS.md). */
export interface WindowAggregate {
  start: number;
  count?: number;
  sum?: number;
  sumsq?: number;
  min?: number;
  max?: number;
  first?: number;
  first_time?: number;
  last?: number;
  last_time?: number;
  sketch?: SketchWire;
}

/** The partials besides the sketch a request can ask for. */
export const SCALAR_PARTIALS = ['count', 'sum', 'sumsq', 'min', 'max', 'first', 'last'] as const;
export type ScalarPartial = (typeof SCALAR_PARTIALS)[number];

export interface AggregateGroup {
  tags: Record<string, string>;
  windows: WindowAggregate[];
}

/** A mutable running summary; merging a chunk's or rollup row's summary costs its sketch bins, not its samples. */
class Accumulator {
  count = 0;
  sum = 0;
  sumsq = 0;
  min = Infinity;
  max = -Infinity;
  first = NaN;
  firstTime = Infinity;
  last = NaN;
  lastTime = -Infinity;
  readonly sketch: DDSketch | undefined;

  constructor(hasSketch: boolean) {
    this.sketch = hasSketch ? new DDSketch(SKETCH_ALPHA) : undefined;
  }

  addSample(timestamp: number, value: number): void {
    if (value !== value) return;
    this.count++;
    this.sum += value;
    this.sumsq += value * value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    if (timestamp < this.firstTime) {
      this.firstTime = timestamp;
      this.first = value;
    }
    if (timestamp >= this.lastTime) {
      this.lastTime = timestamp;
      this.last = value;
    }
    this.sketch?.add(value);
  }

  /** Adds a row from the columns at hand: those the request's partials need (rollupColumnsFor). */
  addRow(columns: SomeRollupColumns, row: number, sketch: SketchWire | undefined): void {
    const count = columns.counts[row];
    if (count === 0) return;
    this.count += count;
    const { sums, sumsqs, mins, maxs, firsts, firstTimes, lasts, lastTimes } = columns;
    if (sums !== undefined) this.sum += sums[row];
    if (sumsqs !== undefined) this.sumsq += sumsqs[row];
    if (mins !== undefined && mins[row] < this.min) this.min = mins[row];
    if (maxs !== undefined && maxs[row] > this.max) this.max = maxs[row];
    if (firsts !== undefined && firstTimes !== undefined && firstTimes[row] < this.firstTime) {
      this.firstTime = firstTimes[row];
      this.first = firsts[row];
    }
    if (lasts !== undefined && lastTimes !== undefined && lastTimes[row] >= this.lastTime) {
      this.lastTime = lastTimes[row];
      this.last = lasts[row];
    }
    if (sketch !== undefined) this.sketch?.merge(sketch);
  }

  addSummary(summary: Summary): void {
    if (summary.count === 0) return;
    this.count += summary.count;
    this.sum += summary.sum;
    this.sumsq += summary.sumsq;
    if (summary.min < this.min) this.min = summary.min;
    if (summary.max > this.max) this.max = summary.max;
    if (summary.firstTime < this.firstTime) {
      this.firstTime = summary.firstTime;
      this.first = summary.first;
    }
    if (summary.lastTime >= this.lastTime) {
      this.lastTime = summary.lastTime;
      this.last = summary.last;
    }
    this.sketch?.merge(summary.sketch);
  }

  /** The window as answered: every scalar partial, or only `partials` (first and last bring their times). */
  toWindow(start: number, partials: readonly ScalarPartial[] | undefined): WindowAggregate {
    if (partials === undefined) {
      const window: WindowAggregate = {
        start,
        count: this.count,
        sum: this.sum,
        sumsq: this.sumsq,
        min: this.min,
        max: this.max,
        first: this.first,
        first_time: this.firstTime,
        last: this.last,
        last_time: this.lastTime,
      };
      if (this.sketch) window.sketch = this.sketch.toWire();
      return window;
    }
    const window: WindowAggregate = { start };
    for (const partial of partials) {
      switch (partial) {
        case 'count':
        case 'sum':
        case 'sumsq':
        case 'min':
        case 'max':
          window[partial] = this[partial];
          break;
        case 'first':
          window.first = this.first;
          window.first_time = this.firstTime;
          break;
        case 'last':
          window.last = this.last;
          window.last_time = this.lastTime;
          break;
        default: {
          const exhaustive: never = partial;
          return exhaustive;
        }
      }
    }
    if (this.sketch) window.sketch = this.sketch.toWire();
    return window;
  }
}

const COLUMNS_OF_PARTIAL: Record<ScalarPartial, readonly RollupColumnName[]> = {
  count: ['counts'],
  sum: ['sums'],
  sumsq: ['sumsqs'],
  min: ['mins'],
  max: ['maxs'],
  first: ['firsts', 'firstTimes'],
  last: ['lasts', 'lastTimes'],
};

/** The rollup columns the partials of a request are made from (starts and counts besides): absent partials, all. */
export function rollupColumnsFor(partials: readonly ScalarPartial[] | undefined): Set<RollupColumnName> {
  return new Set((partials ?? SCALAR_PARTIALS).flatMap((partial) => COLUMNS_OF_PARTIAL[partial]));
}

export interface AggregateSpec {
  start: number;
  /** Exclusive. */
  end: number;
  windowMs: number;
  offsetMs: number;
  groupBy: readonly string[];
  hasSketch: boolean;
  /** The scalar partials each window carries; absent: all of them. */
  partials?: readonly ScalarPartial[];
}

/** How many windows, chunks and samples each path served; the benchmark and tests read it. */
export interface AggregateStats {
  rollupRows: number;
  chunkSummaries: number;
  decodedSamples: number;
}

/**
 * Collects partial aggregates by group and window. Pure: the engine feeds it samples, chunk summaries and rollup rows
 * (each already known to lie inside one window and inside [start, end)).
 */
export class AggregateCollector {
  private readonly groups = new Map<string, { tags: Record<string, string>; windows: Map<number, Accumulator> }>();
  readonly stats: AggregateStats = { rollupRows: 0, chunkSummaries: 0, decodedSamples: 0 };

  constructor(readonly spec: AggregateSpec) {}

  windowOf(timestamp: number): number {
    return this.spec.windowMs > 0 ? windowStart(timestamp, this.spec.windowMs, this.spec.offsetMs) : this.spec.start;
  }

  /** The windows of one series' group; look it up once per series. */
  groupOf(labels: SeriesLabels): Map<number, Accumulator> {
    const tags: Record<string, string> = {};
    const isAll = this.spec.groupBy.includes('*');
    for (const [key, value] of labels.tags) if (isAll || this.spec.groupBy.includes(key)) tags[key] = value;
    const key = JSON.stringify(tags);
    let group = this.groups.get(key);
    if (group === undefined) {
      group = { tags, windows: new Map() };
      this.groups.set(key, group);
    }
    return group.windows;
  }

  private accumulator(windows: Map<number, Accumulator>, start: number): Accumulator {
    let accumulator = windows.get(start);
    if (accumulator === undefined) {
      accumulator = new Accumulator(this.spec.hasSketch);
      windows.set(start, accumulator);
    }
    return accumulator;
  }

  /** Adds the samples in [start, end). */
  addSamples(windows: Map<number, Accumulator>, samples: Samples): void {
    const { timestamps, values } = samples;
    let currentStart = NaN;
    let currentEnd = -Infinity;
    let accumulator: Accumulator | undefined;
    for (let index = 0; index < timestamps.length; index++) {
      const timestamp = timestamps[index];
      if (timestamp < this.spec.start || timestamp >= this.spec.end) continue;
      if (accumulator === undefined || timestamp >= currentEnd || timestamp < currentStart) {
        currentStart = this.windowOf(timestamp);
        currentEnd = this.spec.windowMs > 0 ? currentStart + this.spec.windowMs : Infinity;
        accumulator = this.accumulator(windows, currentStart);
      }
      accumulator.addSample(timestamp, values[index]);
      this.stats.decodedSamples++;
    }
  }

  addChunkSummary(windows: Map<number, Accumulator>, windowStartTime: number, summary: Summary): void {
    this.accumulator(windows, windowStartTime).addSummary(summary);
    this.stats.chunkSummaries++;
  }

  /** Adds rollup rows [first, last); `sketches` (one per row) only when the request wants sketches. */
  addRollupRows(
    windows: Map<number, Accumulator>,
    columns: SomeRollupColumns,
    first: number,
    last: number,
    sketches: readonly SketchWire[] | undefined,
  ): void {
    let currentStart = NaN;
    let currentEnd = -Infinity;
    let accumulator: Accumulator | undefined;
    for (let row = first; row < last; row++) {
      const start = columns.starts[row];
      if (accumulator === undefined || start >= currentEnd || start < currentStart) {
        currentStart = this.windowOf(start);
        currentEnd = this.spec.windowMs > 0 ? currentStart + this.spec.windowMs : Infinity;
        accumulator = this.accumulator(windows, currentStart);
      }
      accumulator.addRow(columns, row, sketches?.[row]);
    }
    this.stats.rollupRows += last - first;
  }

  result(): AggregateGroup[] {
    const groups: AggregateGroup[] = [];
    const keys = [...this.groups.keys()].sort();
    for (const key of keys) {
      const group = this.groups.get(key)!;
      const windows = [...group.windows]
        .filter(([, accumulator]) => accumulator.count > 0)
        .sort((a, b) => a[0] - b[0])
        .map(([start, accumulator]) => accumulator.toWindow(start, this.spec.partials));
      if (windows.length > 0) groups.push({ tags: group.tags, windows });
    }
    return groups;
  }
}
