import type { Samples } from '../chunk/samples';
import { windowStart } from '../chunk/rollup';
import type { WindowSummary } from '../chunk/aggregate';
import { SKETCH_ALPHA, SUMMARY_ROW_FIELDS } from '../chunk/summary';
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

/** Windows per page: few, so a group touching a handful of windows of a long range holds little. */
const PAGE_SLOTS = 32;

/**
 * Running partials of PAGE_SLOTS consecutive windows, column by column: a window costs a slot in a few typed arrays
 * instead of an object with a boxed number per field, which is what grouped answers over many windows spent their time
 * collecting as garbage. Only the columns the request's partials need exist (rollupColumnsFor).
 */
class WindowPage {
  readonly counts = new Float64Array(PAGE_SLOTS);
  readonly sums: Float64Array | undefined;
  readonly sumsqs: Float64Array | undefined;
  readonly mins: Float64Array | undefined;
  readonly maxs: Float64Array | undefined;
  readonly firsts: Float64Array | undefined;
  readonly firstTimes: Float64Array | undefined;
  readonly lasts: Float64Array | undefined;
  readonly lastTimes: Float64Array | undefined;
  /** A sketch per window once it has data, when the request wants sketches. */
  readonly sketches: (DDSketch | undefined)[] | undefined;

  constructor(columns: ReadonlySet<RollupColumnName>, hasSketch: boolean) {
    const column = (name: RollupColumnName, initial: number) =>
      columns.has(name) ? new Float64Array(PAGE_SLOTS).fill(initial) : undefined;
    this.sums = column('sums', 0);
    this.sumsqs = column('sumsqs', 0);
    this.mins = column('mins', Infinity);
    this.maxs = column('maxs', -Infinity);
    this.firsts = column('firsts', NaN);
    this.firstTimes = column('firstTimes', Infinity);
    this.lasts = column('lasts', NaN);
    this.lastTimes = column('lastTimes', -Infinity);
    this.sketches = hasSketch ? new Array<DDSketch | undefined>(PAGE_SLOTS).fill(undefined) : undefined;
  }

  sketchAt(index: number): DDSketch {
    const sketches = this.sketches!;
    let sketch = sketches[index];
    if (sketch === undefined) {
      sketch = new DDSketch(SKETCH_ALPHA);
      sketches[index] = sketch;
    }
    return sketch;
  }

  addSample(index: number, timestamp: number, value: number): void {
    if (value !== value) return;
    this.counts[index]++;
    if (this.sums !== undefined) this.sums[index] += value;
    if (this.sumsqs !== undefined) this.sumsqs[index] += value * value;
    if (this.mins !== undefined && value < this.mins[index]) this.mins[index] = value;
    if (this.maxs !== undefined && value > this.maxs[index]) this.maxs[index] = value;
    if (this.firsts !== undefined && timestamp < this.firstTimes![index]) {
      this.firstTimes![index] = timestamp;
      this.firsts[index] = value;
    }
    if (this.lasts !== undefined && timestamp >= this.lastTimes![index]) {
      this.lastTimes![index] = timestamp;
      this.lasts[index] = value;
    }
    if (this.sketches !== undefined) this.sketchAt(index).add(value);
  }

  /** Adds a summary (all fields present) of samples in this window. */
  addSummary(index: number, summary: WindowSummary): void {
    if (summary.count === 0) return;
    this.addScalars(
      index,
      summary.count,
      summary.sum,
      summary.sumsq,
      summary.min,
      summary.max,
      summary.first,
      summary.firstTime,
      summary.last,
      summary.lastTime,
    );
    if (summary.sketch !== undefined && this.sketches !== undefined) this.sketchAt(index).merge(summary.sketch);
  }

  /** Adds a packed summary row (packSummaryRows) starting at `offset`. */
  addPackedRow(index: number, rows: Float64Array, offset: number): void {
    const count = rows[offset + 1];
    if (count === 0) return;
    this.addScalars(
      index,
      count,
      rows[offset + 2],
      rows[offset + 3],
      rows[offset + 4],
      rows[offset + 5],
      rows[offset + 6],
      rows[offset + 7],
      rows[offset + 8],
      rows[offset + 9],
    );
  }

  private addScalars(
    index: number,
    count: number,
    sum: number,
    sumsq: number,
    min: number,
    max: number,
    first: number,
    firstTime: number,
    last: number,
    lastTime: number,
  ): void {
    this.counts[index] += count;
    if (this.sums !== undefined) this.sums[index] += sum;
    if (this.sumsqs !== undefined) this.sumsqs[index] += sumsq;
    if (this.mins !== undefined && min < this.mins[index]) this.mins[index] = min;
    if (this.maxs !== undefined && max > this.maxs[index]) this.maxs[index] = max;
    if (this.firsts !== undefined && firstTime < this.firstTimes![index]) {
      this.firstTimes![index] = firstTime;
      this.firsts[index] = first;
    }
    if (this.lasts !== undefined && lastTime >= this.lastTimes![index]) {
      this.lastTimes![index] = lastTime;
      this.lasts[index] = last;
    }
  }

  /** The window as answered: every scalar partial, or only `partials` (first and last bring their times). */
  toWindow(index: number, start: number, partials: readonly ScalarPartial[] | undefined): WindowAggregate {
    if (partials === undefined) {
      const window: WindowAggregate = {
        start,
        count: this.counts[index],
        sum: this.sums![index],
        sumsq: this.sumsqs![index],
        min: this.mins![index],
        max: this.maxs![index],
        first: this.firsts![index],
        first_time: this.firstTimes![index],
        last: this.lasts![index],
        last_time: this.lastTimes![index],
      };
      if (this.sketches !== undefined) window.sketch = this.sketchAt(index).toWire();
      return window;
    }
    const window: WindowAggregate = { start };
    for (const partial of partials) {
      switch (partial) {
        case 'count':
          window.count = this.counts[index];
          break;
        case 'sum':
          window.sum = this.sums![index];
          break;
        case 'sumsq':
          window.sumsq = this.sumsqs![index];
          break;
        case 'min':
          window.min = this.mins![index];
          break;
        case 'max':
          window.max = this.maxs![index];
          break;
        case 'first':
          window.first = this.firsts![index];
          window.first_time = this.firstTimes![index];
          break;
        case 'last':
          window.last = this.lasts![index];
          window.last_time = this.lastTimes![index];
          break;
        default: {
          const exhaustive: never = partial;
          return exhaustive;
        }
      }
    }
    if (this.sketches !== undefined) window.sketch = this.sketchAt(index).toWire();
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
 * The windows of one group in pages of PAGE_SLOTS, by page number: slot s is the window starting at the collector's
 * first window start plus s × windowMs (one slot when windowMs is 0), on page ⌊s / PAGE_SLOTS⌋. Slots, not a map keyed
 * by start time: a float key costs a hash per row, a slot an index, and the page is looked up once per PAGE_SLOTS
 * windows of a run. Memory follows the pages used, not the range.
 */
export class GroupWindows {
  readonly pages = new Map<number, WindowPage>();

  constructor(readonly tags: Record<string, string>) {}
}

/**
 * Collects partial aggregates by group and window. Pure: the engine feeds it samples, chunk summaries and rollup rows
 * (each already known to lie inside one window and inside [start, end)).
 */
export class AggregateCollector {
  private readonly groups = new Map<string, GroupWindows>();
  /** Start of the window holding spec.start: slot 0. */
  private readonly firstWindowStart: number;
  private readonly isGroupingAll: boolean;
  private readonly columns: ReadonlySet<RollupColumnName>;
  readonly stats: AggregateStats = { rollupRows: 0, chunkSummaries: 0, decodedSamples: 0 };

  constructor(readonly spec: AggregateSpec) {
    this.firstWindowStart = spec.windowMs > 0 ? windowStart(spec.start, spec.windowMs, spec.offsetMs) : spec.start;
    this.isGroupingAll = spec.groupBy.includes('*');
    this.columns = rollupColumnsFor(spec.partials);
  }

  /**
   * The slot of the window holding `timestamp` (≥ spec.start). Exact for ranges under 2^53 ms (285,000 years): the
   * difference and the quotient of such integers are rounded correctly, and a quotient that is not an integer lies at
   * least 1/windowMs from one.
   */
  slotOf(timestamp: number): number {
    return this.spec.windowMs > 0 ? Math.floor((timestamp - this.firstWindowStart) / this.spec.windowMs) : 0;
  }

  /** The windows of one series' group; look it up once per series. */
  groupOf(labels: SeriesLabels): GroupWindows {
    const { groupBy } = this.spec;
    const tags: Record<string, string> = {};
    let key = '';
    if (groupBy.length > 0) {
      for (const [name, value] of labels.tags) if (this.isGroupingAll || groupBy.includes(name)) tags[name] = value;
      key = JSON.stringify(tags);
    }
    let group = this.groups.get(key);
    if (group === undefined) {
      group = new GroupWindows(tags);
      this.groups.set(key, group);
    }
    return group;
  }

  /** The page holding `slot`. */
  private page(windows: GroupWindows, slot: number): WindowPage {
    const number = Math.floor(slot / PAGE_SLOTS);
    let page = windows.pages.get(number);
    if (page === undefined) {
      page = new WindowPage(this.columns, this.spec.hasSketch);
      windows.pages.set(number, page);
    }
    return page;
  }

  /** Adds the samples in [start, end). */
  addSamples(windows: GroupWindows, samples: Samples): void {
    const { timestamps, values } = samples;
    const { start, end } = this.spec;
    const cursor = newCursor();
    let added = 0;
    for (let sample = 0; sample < timestamps.length; sample++) {
      const timestamp = timestamps[sample];
      if (timestamp < start || timestamp >= end) continue;
      this.seek(windows, cursor, timestamp).addSample(cursor.index, timestamp, values[sample]);
      added++;
    }
    this.stats.decodedSamples += added;
  }

  /** Adds the summary of samples that all lie in the window of `slot`. */
  addSummary(windows: GroupWindows, slot: number, summary: WindowSummary): void {
    this.page(windows, slot).addSummary(slot % PAGE_SLOTS, summary);
    this.stats.chunkSummaries++;
  }

  /**
   * Adds rollup rows [first, last) (ascending starts), from columns holding at least those the request's partials
   * need (rollupColumnsFor); `sketches` (one per row) only when the request wants them. The hottest loop of a
   * long-range aggregation (a row per series and window), so it reads the columns itself.
   */
  addRollupRows(
    windows: GroupWindows,
    columns: SomeRollupColumns,
    first: number,
    last: number,
    sketches: readonly SketchWire[] | undefined,
  ): void {
    const { starts, counts, sums, sumsqs, mins, maxs, firsts, firstTimes, lasts, lastTimes } = columns;
    const cursor = newCursor();
    for (let row = first; row < last; row++) {
      const count = counts[row];
      if (count === 0) continue;
      const start = starts[row];
      const page = this.seek(windows, cursor, start);
      const index = cursor.index;
      page.counts[index] += count;
      if (page.sums !== undefined) page.sums[index] += sums![row];
      if (page.sumsqs !== undefined) page.sumsqs[index] += sumsqs![row];
      if (page.mins !== undefined && mins![row] < page.mins[index]) page.mins[index] = mins![row];
      if (page.maxs !== undefined && maxs![row] > page.maxs[index]) page.maxs[index] = maxs![row];
      if (page.firsts !== undefined && firstTimes![row] < page.firstTimes![index]) {
        page.firstTimes![index] = firstTimes![row];
        page.firsts[index] = firsts![row];
      }
      if (page.lasts !== undefined && lastTimes![row] >= page.lastTimes![index]) {
        page.lastTimes![index] = lastTimes![row];
        page.lasts[index] = lasts![row];
      }
      if (sketches !== undefined && page.sketches !== undefined) page.sketchAt(index).merge(sketches[row]);
    }
    this.stats.rollupRows += last - first;
  }

  /** Adds packed summary rows (packSummaryRows, ascending starts), each inside one window; they carry no sketches. */
  addPackedRows(windows: GroupWindows, rows: Float64Array): void {
    const cursor = newCursor();
    for (let offset = 0; offset < rows.length; offset += SUMMARY_ROW_FIELDS) {
      const start = rows[offset];
      const page = this.seek(windows, cursor, start);
      const index = cursor.index;
      page.addPackedRow(index, rows, offset);
    }
    this.stats.rollupRows += rows.length / SUMMARY_ROW_FIELDS;
  }

  /** Points `cursor` at the window holding `time`; consecutive times mostly fall in the window of the one before. */
  private seek(windows: GroupWindows, cursor: WindowCursor, time: number): WindowPage {
    if (cursor.page !== undefined && time < cursor.slotEnd && time >= cursor.slotStart) return cursor.page;
    const slot = this.slotOf(time);
    cursor.index = slot - cursor.pageFirstSlot;
    if (cursor.page === undefined || cursor.index < 0 || cursor.index >= PAGE_SLOTS) {
      cursor.page = this.page(windows, slot);
      cursor.index = slot % PAGE_SLOTS;
      cursor.pageFirstSlot = slot - cursor.index;
    }
    const { windowMs } = this.spec;
    cursor.slotStart = windowMs > 0 ? this.firstWindowStart + slot * windowMs : -Infinity;
    cursor.slotEnd = windowMs > 0 ? cursor.slotStart + windowMs : Infinity;
    return cursor.page;
  }

  result(): AggregateGroup[] {
    const groups: AggregateGroup[] = [];
    const { windowMs, partials } = this.spec;
    const keys = [...this.groups.keys()].sort();
    for (const key of keys) {
      const group = this.groups.get(key)!;
      const numbers = [...group.pages.keys()];
      if (!isAscending(numbers)) numbers.sort((a, b) => a - b);
      const windows: WindowAggregate[] = [];
      for (const number of numbers) {
        const page = group.pages.get(number)!;
        for (let index = 0; index < PAGE_SLOTS; index++) {
          if (page.counts[index] === 0) continue;
          const slot = number * PAGE_SLOTS + index;
          windows.push(page.toWindow(index, this.firstWindowStart + slot * windowMs, partials));
        }
      }
      if (windows.length > 0) groups.push({ tags: group.tags, windows });
    }
    return groups;
  }
}

function isAscending(list: readonly number[]): boolean {
  for (let index = 1; index < list.length; index++) if (list[index] < list[index - 1]) return false;
  return true;
}

/** Where the last time landed: the page, the slot's position in it, and the bounds of that slot's window. */
interface WindowCursor {
  page: WindowPage | undefined;
  index: number;
  pageFirstSlot: number;
  slotStart: number;
  slotEnd: number;
}

function newCursor(): WindowCursor {
  return { page: undefined, index: 0, pageFirstSlot: 0, slotStart: Infinity, slotEnd: -Infinity };
}
