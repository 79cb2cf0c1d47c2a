import { DDSketch, SketchWire } from '../../kit/sketch';
import { windowStart } from './rollup';
import { Samples } from './samples';
import { SKETCH_ALPHA, Summary, sortedWire } from './summary';

/** A Summary whose sketch is present only when asked for: sketches cost a logarithm per sample. */
export type WindowSummary = Omit<Summary, 'sketch'> & { sketch?: SketchWire };

export interface WindowedSummaries {
  /** Window starts, ascending; only windows holding samples in the range. */
  starts: Float64Array;
  summaries: WindowSummary[];
}

/** Lower bound: the first index whose timestamp is ≥ `time`. */
function firstIndexAtOrAfter(timestamps: Float64Array, time: number): number {
  let low = 0;
  let high = timestamps.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (timestamps[middle] < time) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * Per-window summaries of the samples with from ≤ timestamp < to, in one pass over a decoded chunk without a
 * per-sample allocation: the query path for chunks that straddle a window edge. Windows start at offsetMs plus
 * multiples of windowMs; windowMs = 0 means one window, labelled `from`. NaN samples are skipped as in summarize.
 */
export function aggregateRange(
  samples: Samples,
  from: number,
  to: number,
  windowMs: number,
  offsetMs = 0,
  options: { withSketch?: boolean } = {},
): WindowedSummaries {
  if (!Number.isSafeInteger(windowMs) || windowMs < 0)
    throw new RangeError(`window ${windowMs} ms is not a natural number`);
  const { timestamps, values } = samples;
  const starts: number[] = [];
  const summaries: WindowSummary[] = [];
  const end = firstIndexAtOrAfter(timestamps, to);
  let index = firstIndexAtOrAfter(timestamps, from);
  while (index < end) {
    const start = windowMs === 0 ? from : windowStart(timestamps[index], windowMs, offsetMs);
    const windowEnd = windowMs === 0 ? to : start + windowMs;
    const sketch = options.withSketch ? new DDSketch(SKETCH_ALPHA) : undefined;
    let count = 0;
    let sum = 0;
    let sumsq = 0;
    let min = Infinity;
    let max = -Infinity;
    let first = NaN;
    let firstTime = NaN;
    let last = NaN;
    let lastTime = NaN;
    for (; index < end && timestamps[index] < windowEnd; index++) {
      const value = values[index];
      if (value !== value) continue;
      if (count === 0) {
        first = value;
        firstTime = timestamps[index];
      }
      last = value;
      lastTime = timestamps[index];
      count++;
      sum += value;
      sumsq += value * value;
      if (value < min) min = value;
      if (value > max) max = value;
      sketch?.add(value);
    }
    starts.push(start);
    const summary: WindowSummary = { count, sum, sumsq, min, max, first, firstTime, last, lastTime };
    if (sketch !== undefined) summary.sketch = sortedWire(sketch);
    summaries.push(summary);
  }
  return { starts: Float64Array.from(starts), summaries };
}
