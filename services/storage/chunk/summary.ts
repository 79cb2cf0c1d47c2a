import { DDSketch, SketchWire } from '../../kit/sketch';
import { Samples } from './samples';
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

/** Summarises samples[from, to) (indexes). */
export function summarize(samples: Samples, from = 0, to = samples.timestamps.length): Summary {
  const { timestamps, values } = samples;
  const summary = emptySummary();
  const sketch = new DDSketch(SKETCH_ALPHA);
  let count = 0;
  let sum = 0;
  let sumsq = 0;
  let min = Infinity;
  let max = -Infinity;
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
    sketch.add(value);
  }
  summary.count = count;
  summary.sum = sum;
  summary.sumsq = sumsq;
  summary.min = min;
  summary.max = max;
  summary.sketch = sortedWire(sketch);
  return summary;
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
