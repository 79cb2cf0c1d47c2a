import { DDSketch } from '../../kit/sketch';
import { ErrorCode, QueryError } from '../errors';
import { parseShardJson } from './storage-client';
import type { Condition } from '../parser/ast';
import type { ColumnExpression, SelectPlan, SlotFunction } from '../planner/plan';
import { alignWindow } from '../planner/planner';
import type { AggregateResponse, AggregateWindowWire, MergeLimits, RawResponse, Row, ShardBody, TagSet } from './wire';

/**
 * Merges the shards' answers into rows (pure: the same function runs inline or in a worker thread).
 * Partials merge exactly: count and sum add, min/max compare, first/last keep the earliest/latest time (on equal
 * times the first shard in configuration order wins); mean = sum / count; sketches merge bin by bin.
 */
export function mergeShardBodies(plan: SelectPlan, bodies: readonly ShardBody[], limits: MergeLimits): Row[] {
  const merger = new Merger(plan, limits);
  for (const body of bodies) {
    const parsed = parseShardJson(body.shard, body.text);
    if (body.mode === 'aggregate') merger.addAggregate(body.source, parsed as AggregateResponse);
    else merger.addRaw(body.source, parsed as RawResponse);
  }
  return merger.rows();
}

interface Accumulator {
  count: number;
  sum: number;
  sumsq: number;
  min: number;
  max: number;
  first: number;
  firstTime: number;
  last: number;
  lastTime: number;
  sketch?: DDSketch;
  /** Raw values, kept only when quantiles are computed exactly. */
  values?: number[];
  /** Counter increase attributed to this window and the number of point pairs that contributed. */
  increase: number;
  pairs: number;
}

const emptyAccumulator = (): Accumulator => ({
  count: 0,
  sum: 0,
  sumsq: 0,
  min: Infinity,
  max: -Infinity,
  first: NaN,
  firstTime: Infinity,
  last: NaN,
  lastTime: -Infinity,
  increase: 0,
  pairs: 0,
});

interface Group {
  tags: TagSet;
  /** Window start → one accumulator per source. */
  windows: Map<number, (Accumulator | undefined)[]>;
}

interface SeriesPoints {
  group: Group;
  points: { time: number; value: number }[];
}

class Merger {
  private readonly groups = new Map<string, Group>();
  private readonly regexes = new Map<string, RegExp>();
  /** Raw points of counter sources, per series, until every shard has answered. */
  private readonly counterSeries = new Map<string, SeriesPoints>();
  private rawPoints = 0;
  private readonly needsValues: boolean[];
  private readonly needsCounter: boolean[];

  constructor(
    private readonly plan: SelectPlan,
    private readonly limits: MergeLimits,
  ) {
    this.needsValues = plan.sources.map((_, index) =>
      plan.slots.some(
        (slot) => slot.source === index && (slot.function.kind === 'median' || slot.function.kind === 'percentile'),
      ),
    );
    this.needsCounter = plan.sources.map((_, index) =>
      plan.slots.some((slot) => slot.source === index && slot.function.kind === 'rate'),
    );
  }

  addAggregate(source: number, response: AggregateResponse): void {
    for (const { tags, windows } of response.groups ?? []) {
      const group = this.groupOf(tags ?? {});
      if (!group) continue;
      for (const window of windows) mergeWindow(this.accumulator(group, window.start, source), window);
    }
  }

  addRaw(source: number, response: RawResponse): void {
    const points = response.data_points ?? [];
    this.rawPoints += points.length;
    if (this.rawPoints > this.limits.maxPoints)
      throw new QueryError(
        ErrorCode.TooManyPoints,
        `the query reads more than ${this.limits.maxPoints} raw points; narrow the time range or the filters`,
        { limit: this.limits.maxPoints },
      );
    const { start, end } = this.plan;
    for (const point of points) {
      if (point.timestamp < start || point.timestamp >= end || typeof point.value !== 'number') continue;
      const tags = point.tags ?? {};
      const group = this.groupOf(tags);
      if (!group) continue;
      const accumulator = this.accumulator(group, this.windowOf(point.timestamp), source);
      addValue(accumulator, point.timestamp, point.value);
      if (this.needsValues[source]) (accumulator.values ??= []).push(point.value);
      if (this.needsCounter[source]) {
        const seriesKey = `${source}\u0000${tagKey(tags)}`;
        let series = this.counterSeries.get(seriesKey);
        if (!series) this.counterSeries.set(seriesKey, (series = { group, points: [] }));
        series.points.push({ time: point.timestamp, value: point.value });
      }
    }
  }

  rows(): Row[] {
    this.attributeCounterIncreases();
    const groups = sortGroups([...this.groups.values()].map((group) => group.tags)).map((tags) =>
      this.groups.get(tagKey(tags))!,
    );
    // InfluxDB walks the series backwards too when the time order is descending.
    if (this.plan.order === 'desc') groups.reverse();
    const selected = groups.slice(
      this.plan.soffset ?? 0,
      this.plan.slimit === undefined ? undefined : (this.plan.soffset ?? 0) + this.plan.slimit,
    );
    const rows: Row[] = [];
    for (const group of selected) rows.push(...this.groupRows(group));
    return rows;
  }

  /**
   * Each consecutive pair of a series' points adds `v - previous` to the window of the later point, or `v` when the
   * counter went down (a reset restarts it from zero), as Prometheus' increase() does, without extrapolation.
   */
  private attributeCounterIncreases(): void {
    for (const [seriesKey, { group, points }] of this.counterSeries) {
      const source = Number(seriesKey.slice(0, seriesKey.indexOf('\u0000')));
      points.sort((a, b) => a.time - b.time);
      for (let index = 1; index < points.length; index++) {
        const previous = points[index - 1].value;
        const current = points[index].value;
        const accumulator = this.accumulator(group, this.windowOf(points[index].time), source);
        accumulator.increase += current >= previous ? current - previous : current;
        accumulator.pairs++;
      }
    }
  }

  private groupRows(group: Group): Row[] {
    const { plan } = this;
    const starts: number[] = [];
    if (plan.window) {
      const { interval, offset } = plan.window;
      for (let start = alignWindow(plan.start, interval, offset); start < plan.end; start += interval)
        starts.push(start);
    } else starts.push(plan.start);
    const names = plan.columns.map((column) => column.name);
    const values: (number | null)[][] = [];
    const isEmpty: boolean[] = [];
    for (const start of starts) {
      const accumulators = group.windows.get(start);
      isEmpty.push(
        !accumulators?.some((accumulator) => accumulator && (accumulator.count > 0 || accumulator.pairs > 0)),
      );
      const slotValues = plan.slots.map((slot) => {
        const accumulator = accumulators?.[slot.source];
        return accumulator ? this.slotValue(slot.function, accumulator) : null;
      });
      values.push(plan.columns.map((column) => finiteOrNull(evaluate(column.expression, slotValues))));
    }
    const keep = fillWindows(plan.fill, values, isEmpty);
    let rows: Row[] = [];
    starts.forEach((start, index) => {
      if (!keep[index]) return;
      const row: Row = { time: start, ...group.tags };
      names.forEach((name, column) => (row[name] = values[index][column]));
      rows.push(row);
    });
    if (plan.order === 'desc') rows.reverse();
    const from = plan.offset ?? 0;
    rows = rows.slice(from, plan.limit === undefined ? undefined : from + plan.limit);
    return rows;
  }

  private slotValue(slotFunction: SlotFunction, accumulator: Accumulator): number | null {
    const { count } = accumulator;
    switch (slotFunction.kind) {
      case 'mean':
        return count > 0 ? accumulator.sum / count : null;
      case 'sum':
        return count > 0 ? accumulator.sum : null;
      case 'count':
        return count > 0 ? count : null;
      case 'min':
        return count > 0 ? accumulator.min : null;
      case 'max':
        return count > 0 ? accumulator.max : null;
      case 'first':
        return count > 0 ? accumulator.first : null;
      case 'last':
        return count > 0 ? accumulator.last : null;
      case 'spread':
        return count > 0 ? accumulator.max - accumulator.min : null;
      case 'stddev': {
        if (count < 2) return null;
        if (accumulator.values) return sampleStddev(accumulator.values);
        const variance = (accumulator.sumsq - (accumulator.sum * accumulator.sum) / count) / (count - 1);
        return Math.sqrt(Math.max(0, variance));
      }
      case 'median':
        return count > 0 ? median(accumulator) : null;
      case 'percentile':
        return count > 0 ? percentile(accumulator, slotFunction.percentile) : null;
      case 'rate': {
        if (accumulator.pairs === 0) return null;
        const windowLength = this.plan.window ? this.plan.window.interval : this.plan.end - this.plan.start;
        return (accumulator.increase * slotFunction.unit) / windowLength;
      }
      default: {
        const exhaustive: never = slotFunction;
        return exhaustive;
      }
    }
  }

  private windowOf(time: number): number {
    const { window } = this.plan;
    return window ? alignWindow(time, window.interval, window.offset) : this.plan.start;
  }

  private accumulator(group: Group, windowStart: number, source: number): Accumulator {
    let accumulators = group.windows.get(windowStart);
    if (!accumulators) group.windows.set(windowStart, (accumulators = []));
    return (accumulators[source] ??= emptyAccumulator());
  }

  /** The output group of a series, or undefined when the residual condition drops it. */
  private groupOf(seriesTags: TagSet): Group | undefined {
    if (this.plan.residual && !this.matches(this.plan.residual, seriesTags)) return undefined;
    const { groupTags } = this.plan;
    const tags: TagSet = {};
    if (groupTags === '*') Object.assign(tags, seriesTags);
    else for (const key of groupTags) tags[key] = seriesTags[key] ?? '';
    const key = tagKey(tags);
    let group = this.groups.get(key);
    if (!group) {
      if (this.groups.size >= this.limits.maxSeries)
        throw new QueryError(
          ErrorCode.TooManySeries,
          `the answer has more than ${this.limits.maxSeries} series; group by fewer tags, filter, or use SLIMIT`,
          { limit: this.limits.maxSeries },
        );
      this.groups.set(key, (group = { tags, windows: new Map() }));
    }
    return group;
  }

  /** A missing tag reads as the empty string, as in InfluxDB. */
  private matches(condition: Condition, tags: TagSet): boolean {
    switch (condition.kind) {
      case 'and':
        return this.matches(condition.left, tags) && this.matches(condition.right, tags);
      case 'or':
        return this.matches(condition.left, tags) || this.matches(condition.right, tags);
      case 'tag':
        return ((tags[condition.key] ?? '') === condition.value) === (condition.operator === '=');
      case 'regex': {
        let regex = this.regexes.get(condition.pattern);
        if (!regex) this.regexes.set(condition.pattern, (regex = new RegExp(condition.pattern)));
        return regex.test(tags[condition.key] ?? '') === (condition.operator === '=~');
      }
      case 'time':
        return true;
      default: {
        const exhaustive: never = condition;
        return exhaustive;
      }
    }
  }
}

/**
 * Groups in InfluxDB's series order: by the values of every tag key present in any group, keys sorted, a missing
 * tag reading as the empty string (so `host=a` comes before `host=a,region=east`).
 */
function sortGroups(groups: TagSet[]): TagSet[] {
  const keys = [...new Set(groups.flatMap((tags) => Object.keys(tags)))].sort();
  const sortKey = (tags: TagSet) => keys.map((key) => tags[key] ?? '');
  const compare = (a: string[], b: string[]) => {
    for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return a[index] < b[index] ? -1 : 1;
    return 0;
  };
  return groups
    .map((tags) => ({ tags, key: sortKey(tags) }))
    .sort((a, b) => compare(a.key, b.key))
    .map(({ tags }) => tags);
}

const tagKey = (tags: TagSet) =>
  JSON.stringify(
    Object.keys(tags)
      .sort()
      .map((key) => [key, tags[key]]),
  );

function addValue(accumulator: Accumulator, time: number, value: number): void {
  accumulator.count++;
  accumulator.sum += value;
  accumulator.sumsq += value * value;
  if (value < accumulator.min) accumulator.min = value;
  if (value > accumulator.max) accumulator.max = value;
  if (time < accumulator.firstTime) {
    accumulator.firstTime = time;
    accumulator.first = value;
  }
  if (time > accumulator.lastTime) {
    accumulator.lastTime = time;
    accumulator.last = value;
  }
}

function mergeWindow(accumulator: Accumulator, window: AggregateWindowWire): void {
  const count = window.count ?? 0;
  accumulator.count += count;
  accumulator.sum += window.sum ?? 0;
  accumulator.sumsq += window.sumsq ?? 0;
  if (window.min !== undefined && window.min < accumulator.min) accumulator.min = window.min;
  if (window.max !== undefined && window.max > accumulator.max) accumulator.max = window.max;
  if (window.first !== undefined && window.first_time !== undefined && window.first_time < accumulator.firstTime) {
    accumulator.firstTime = window.first_time;
    accumulator.first = window.first;
  }
  if (window.last !== undefined && window.last_time !== undefined && window.last_time > accumulator.lastTime) {
    accumulator.lastTime = window.last_time;
    accumulator.last = window.last;
  }
  if (window.sketch) {
    if (accumulator.sketch) accumulator.sketch.merge(window.sketch);
    else accumulator.sketch = DDSketch.fromWire(window.sketch);
  }
}

/** The value at a 0-based rank: exact from raw values, within the sketch's relative error otherwise. */
function valueAtRank(accumulator: Accumulator, rank: number): number {
  if (accumulator.values) return sortedValues(accumulator)[rank];
  const sketch = accumulator.sketch!;
  // The sketch reads rank q * (count - 1); half a rank more keeps float rounding from landing on the previous value.
  return sketch.quantile(sketch.count > 1 ? (rank + 0.5) / (sketch.count - 1) : 0);
}

function sortedValues(accumulator: Accumulator): number[] {
  const values = accumulator.values!;
  // Sorted once and kept: several percentiles of one window share the work.
  if (!(values as { isSorted?: boolean }).isSorted) {
    values.sort((a, b) => a - b);
    (values as { isSorted?: boolean }).isSorted = true;
  }
  return values;
}

function rankCount(accumulator: Accumulator): number {
  return accumulator.values ? accumulator.values.length : (accumulator.sketch?.count ?? 0);
}

/** InfluxDB's median: the middle value, or the mean of the two middle values. */
function median(accumulator: Accumulator): number | null {
  const count = rankCount(accumulator);
  if (count === 0) return null;
  if (count % 2 === 1) return valueAtRank(accumulator, (count - 1) / 2);
  return (valueAtRank(accumulator, count / 2 - 1) + valueAtRank(accumulator, count / 2)) / 2;
}

/** InfluxDB's nearest rank, `round(count * p / 100) - 1`, clamped into the data. */
function percentile(accumulator: Accumulator, percent: number): number | null {
  const count = rankCount(accumulator);
  if (count === 0) return null;
  const rank = Math.min(count - 1, Math.max(0, Math.floor((count * percent) / 100 + 0.5) - 1));
  return valueAtRank(accumulator, rank);
}

function sampleStddev(values: number[]): number {
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const squares = values.reduce((sum, value) => sum + (value - mean) * (value - mean), 0);
  return Math.sqrt(squares / (values.length - 1));
}

function evaluate(expression: ColumnExpression, slots: (number | null)[]): number | null {
  switch (expression.kind) {
    case 'slot':
      return slots[expression.slot];
    case 'number':
      return expression.value;
    case 'negate': {
      const operand = evaluate(expression.operand, slots);
      return operand === null ? null : -operand;
    }
    case 'binary': {
      const left = evaluate(expression.left, slots);
      const right = evaluate(expression.right, slots);
      if (left === null || right === null) return null;
      switch (expression.operator) {
        case '+':
          return left + right;
        case '-':
          return left - right;
        case '*':
          return left * right;
        case '/':
          return left / right;
        default: {
          const exhaustive: never = expression.operator;
          return exhaustive;
        }
      }
    }
    default: {
      const exhaustive: never = expression;
      return exhaustive;
    }
  }
}

/** JSON has no NaN or infinity: division by zero answers null. */
const finiteOrNull = (value: number | null) => (value !== null && Number.isFinite(value) ? value : null);

/** Applies fill to empty windows in place; returns which windows to keep (fill(none) drops empty ones). */
function fillWindows(fill: SelectPlan['fill'], values: (number | null)[][], isEmpty: boolean[]): boolean[] {
  const keep = isEmpty.map((empty) => !empty || fill.kind !== 'none');
  const columns = values[0]?.length ?? 0;
  switch (fill.kind) {
    case 'none':
    case 'null':
      break;
    case 'value':
      values.forEach((row, index) => {
        if (isEmpty[index]) row.fill(fill.value);
      });
      break;
    case 'previous':
      for (let column = 0; column < columns; column++) {
        let previous: number | null = null;
        values.forEach((row, index) => {
          if (isEmpty[index]) row[column] = previous;
          else previous = row[column];
        });
      }
      break;
    case 'linear':
      for (let column = 0; column < columns; column++) {
        let lastKnown = -1;
        values.forEach((row, index) => {
          if (isEmpty[index] || row[column] === null) return;
          if (lastKnown >= 0 && index - lastKnown > 1) {
            const from = values[lastKnown][column]!;
            const to = row[column]!;
            for (let gap = lastKnown + 1; gap < index; gap++)
              if (isEmpty[gap]) values[gap][column] = from + ((to - from) * (gap - lastKnown)) / (index - lastKnown);
          }
          lastKnown = index;
        });
      }
      break;
    default: {
      const exhaustive: never = fill;
      return exhaustive;
    }
  }
  return keep;
}
