import { binIndex, DDSketch, logGammaOf, MIN_INDEXABLE, SketchWire } from '../../kit/sketch';
import { Samples } from './samples';
import type { WindowSummary } from './aggregate';
import { ByteReader, ByteWriter } from './varint';

/**
 * What aggregations need from a run of samples, so a chunk or rollup window that falls wholly inside a query window is
 * never decoded. NaN samples (staleness markers) are left out of every field; an empty summary has count 0, sums 0,
 * min +Inf, max -Inf and NaN for first/last and their times, which makes it the identity of mergeSummaries.
 */
export interface Summary {
  count: number;
  sum: number;
  sumsq: number;
  min: number;
  max: number;
  first: number;
  firstTime: number;
  last: number;
  lastTime: number;
  /** DDSketch with alpha SKETCH_ALPHA, bins sorted by index so equal sketches have equal wire forms. */
  sketch: SketchWire;
}

export const SKETCH_ALPHA = 0.01;

export function emptySummary(): Summary {
  return {
    count: 0,
    sum: 0,
    sumsq: 0,
    min: Infinity,
    max: -Infinity,
    first: NaN,
    firstTime: NaN,
    last: NaN,
    lastTime: NaN,
    sketch: { alpha: SKETCH_ALPHA, zero: 0, pos: [], neg: [] },
  };
}

/** The sketch's wire form with bins in index order, so equal sketches compare equal. */
export function sortedWire(sketch: DDSketch): SketchWire {
  const wire = sketch.toWire();
  wire.pos.sort((left, right) => left[0] - right[0]);
  wire.neg.sort((left, right) => left[0] - right[0]);
  return wire;
}

const LOG_GAMMA = logGammaOf(SKETCH_ALPHA);

/** Bin indexes of one summary's positive and negative samples, reused from call to call (grown when needed). */
let positiveIndexes = new Int32Array(1024);
let negativeIndexes = new Int32Array(1024);

/**
 * Summarises samples[from, to) (indexes). The sketch is DDSketch's with sorted bins, built without one: bin indexes
 * are gathered (one logarithm per change of value), sorted and counted, which is what makes a block cut's chunk
 * summaries and rollup rows cheap.
 */
export function summarize(samples: Samples, from = 0, to = samples.timestamps.length): Summary {
  const { timestamps, values } = samples;
  const summary = emptySummary();
  if (to - from > positiveIndexes.length) {
    positiveIndexes = new Int32Array(to - from);
    negativeIndexes = new Int32Array(to - from);
  }
  let count = 0;
  let sum = 0;
  let sumsq = 0;
  let min = Infinity;
  let max = -Infinity;
  let zero = 0;
  let positives = 0;
  let negatives = 0;
  let lastMagnitude = NaN;
  let lastIndex = 0;
  for (let index = from; index < to; index++) {
    const value = values[index];
    if (value !== value) continue;
    if (count === 0) {
      summary.first = value;
      summary.firstTime = timestamps[index];
      min = value;
      max = value;
    } else {
      if (value < min) min = value;
      if (value > max) max = value;
    }
    summary.last = value;
    summary.lastTime = timestamps[index];
    count++;
    sum += value;
    sumsq += value * value;
    const magnitude = Math.abs(value);
    if (magnitude < MIN_INDEXABLE) {
      zero++;
      continue;
    }
    if (magnitude !== lastMagnitude) {
      lastMagnitude = magnitude;
      lastIndex = binIndex(magnitude, LOG_GAMMA);
    }
    if (value > 0) positiveIndexes[positives++] = lastIndex;
    else negativeIndexes[negatives++] = lastIndex;
  }
  summary.count = count;
  summary.sum = sum;
  summary.sumsq = sumsq;
  summary.min = min;
  summary.max = max;
  summary.sketch = {
    alpha: SKETCH_ALPHA,
    zero,
    pos: countBins(positiveIndexes.subarray(0, positives)),
    neg: countBins(negativeIndexes.subarray(0, negatives)),
  };
  return summary;
}

/** [index, count] pairs in index order; sorts `indexes` in place. */
function countBins(indexes: Int32Array): [number, number][] {
  const bins: [number, number][] = [];
  if (indexes.length === 0) return bins;
  indexes.sort();
  let current = indexes[0];
  let run = 0;
  for (let position = 0; position < indexes.length; position++) {
    const index = indexes[position];
    if (index !== current) {
      bins.push([current, run]);
      current = index;
      run = 0;
    }
    run++;
  }
  bins.push([current, run]);
  return bins;
}

/**
 * Combines two summaries as if their samples were one run: first and last follow the times (ties favour `a` for first
 * and `b` for last, as in a then b), sums add (so they can differ from a single pass in the last bits).
 */
export function mergeSummaries(a: Summary, b: Summary): Summary {
  if (b.count === 0 && a.count === 0) {
    const merged = emptySummary();
    merged.sketch = mergeSketches(a.sketch, b.sketch);
    return merged;
  }
  if (b.count === 0) return { ...a, sketch: mergeSketches(a.sketch, b.sketch) };
  if (a.count === 0) return { ...b, sketch: mergeSketches(a.sketch, b.sketch) };
  const isFirstFromB = b.firstTime < a.firstTime;
  const isLastFromA = a.lastTime > b.lastTime;
  return {
    count: a.count + b.count,
    sum: a.sum + b.sum,
    sumsq: a.sumsq + b.sumsq,
    min: b.min < a.min ? b.min : a.min,
    max: b.max > a.max ? b.max : a.max,
    first: isFirstFromB ? b.first : a.first,
    firstTime: isFirstFromB ? b.firstTime : a.firstTime,
    last: isLastFromA ? a.last : b.last,
    lastTime: isLastFromA ? a.lastTime : b.lastTime,
    sketch: mergeSketches(a.sketch, b.sketch),
  };
}

function mergeSketches(a: SketchWire, b: SketchWire): SketchWire {
  const sketch = DDSketch.fromWire(a);
  sketch.merge(b);
  return sortedWire(sketch);
}

/*
 * Binary form (FORMAT.md, "Summary"): uvarint count; when count > 0 the float64s sum, sumsq, min, max, first, last
 * and the varints firstTime, lastTime; then the sketch: float64 alpha, uvarint zero, and for pos then neg a uvarint bin
 * count followed by (zigzag varint index delta, uvarint count) pairs in ascending index order.
 */
export function encodeSummary(summary: Summary): Uint8Array {
  const writer = new ByteWriter(64);
  writer.writeUvarint(checkCount(summary.count));
  if (summary.count > 0) {
    writer.writeFloat64(summary.sum);
    writer.writeFloat64(summary.sumsq);
    writer.writeFloat64(summary.min);
    writer.writeFloat64(summary.max);
    writer.writeFloat64(summary.first);
    writer.writeFloat64(summary.last);
    writer.writeVarint(checkTime(summary.firstTime));
    writer.writeVarint(checkTime(summary.lastTime));
  }
  const { sketch } = summary;
  writer.writeFloat64(sketch.alpha);
  writer.writeUvarint(checkCount(sketch.zero));
  for (const bins of [sketch.pos, sketch.neg]) {
    writer.writeUvarint(bins.length);
    let previous = 0;
    for (const [index, count] of [...bins].sort((left, right) => left[0] - right[0])) {
      if (!Number.isSafeInteger(index)) throw new RangeError(`sketch bin index ${index} is not an integer`);
      writer.writeVarint(index - previous);
      writer.writeUvarint(checkCount(count));
      previous = index;
    }
  }
  return writer.bytes();
}

function checkCount(count: number): number {
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`count ${count} is not a natural number`);
  return count;
}

function checkTime(time: number): number {
  if (!Number.isSafeInteger(time)) throw new RangeError(`summary time ${time} is not a safe integer`);
  return time;
}

/** Reads what encodeSummary writes; anything else is a ChunkCorruptionError. */
export function decodeSummary(bytes: Uint8Array): Summary {
  const reader = new ByteReader(bytes);
  const summary = emptySummary();
  summary.count = reader.readUvarint();
  if (summary.count > 0) {
    summary.sum = reader.readFloat64();
    summary.sumsq = reader.readFloat64();
    summary.min = reader.readFloat64();
    summary.max = reader.readFloat64();
    summary.first = reader.readFloat64();
    summary.last = reader.readFloat64();
    summary.firstTime = reader.readVarint();
    summary.lastTime = reader.readVarint();
  }
  const alpha = reader.readFloat64();
  if (!(alpha > 0 && alpha < 1)) throw reader.corruption(`sketch alpha ${alpha} out of (0, 1)`);
  const zero = reader.readUvarint();
  const bins: [number, number][][] = [];
  for (let side = 0; side < 2; side++) {
    const length = reader.readUvarint();
    // Each bin takes at least two bytes, which bounds the allocation by the input.
    if (length * 2 > reader.remaining) throw reader.corruption(`${length} sketch bins exceed the input`);
    const list: [number, number][] = [];
    let index = 0;
    for (let bin = 0; bin < length; bin++) {
      index += reader.readVarint();
      list.push([index, reader.readUvarint()]);
    }
    bins.push(list);
  }
  if (reader.remaining !== 0) throw reader.corruption(`${reader.remaining} bytes after the summary`);
  summary.sketch = { alpha, zero, pos: bins[0], neg: bins[1] };
  return summary;
}

/**
 * Window summaries without sketches packed as rows of SUMMARY_ROW_FIELDS numbers: window start, count, sum, sumsq,
 * min, max, first, firstTime, last, lastTime. 80 bytes a row and one object for all rows, so a head chunk can keep its
 * per-window partials for as long as it lives.
 */
export const SUMMARY_ROW_FIELDS = 10;

export function packSummaryRows(starts: ArrayLike<number>, summaries: readonly WindowSummary[]): Float64Array {
  const rows = new Float64Array(summaries.length * SUMMARY_ROW_FIELDS);
  summaries.forEach((summary, index) => {
    const offset = index * SUMMARY_ROW_FIELDS;
    rows[offset] = starts[index];
    rows[offset + 1] = summary.count;
    rows[offset + 2] = summary.sum;
    rows[offset + 3] = summary.sumsq;
    rows[offset + 4] = summary.min;
    rows[offset + 5] = summary.max;
    rows[offset + 6] = summary.first;
    rows[offset + 7] = summary.firstTime;
    rows[offset + 8] = summary.last;
    rows[offset + 9] = summary.lastTime;
  });
  return rows;
}
