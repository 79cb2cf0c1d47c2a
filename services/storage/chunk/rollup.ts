import { Samples } from './samples';
import { Summary, summarize } from './summary';

export interface Rollup {
  /** Start of each window (a multiple of the window since the epoch), ascending; only windows holding samples. */
  starts: Float64Array;
  summaries: Summary[];
}

/**
 * One summary per epoch-aligned window of `windowMs` that holds at least one sample (NaN samples included). Blocks
 * store these for 1 m, 5 m and 1 h, so long-range aggregations read rows instead of raw points.
 */
export function rollup(samples: Samples, windowMs: number): Rollup {
  if (!Number.isSafeInteger(windowMs) || windowMs <= 0)
    throw new RangeError(`rollup window ${windowMs} ms is not a positive integer`);
  const { timestamps } = samples;
  const starts: number[] = [];
  const summaries: Summary[] = [];
  let from = 0;
  while (from < timestamps.length) {
    const start = windowStart(timestamps[from], windowMs);
    const end = start + windowMs;
    let to = from + 1;
    while (to < timestamps.length && timestamps[to] < end) to++;
    starts.push(start);
    summaries.push(summarize(samples, from, to));
    from = to;
  }
  return { starts: Float64Array.from(starts), summaries };
}

/** The start of the window (offsetMs plus a multiple of windowMs) holding `timestamp`, by exact remainders. */
export function windowStart(timestamp: number, windowMs: number, offsetMs = 0): number {
  // Remainders first: timestamp − offset can leave the safe integers, the remainders cannot.
  let remainder = ((timestamp % windowMs) - (offsetMs % windowMs)) % windowMs;
  if (remainder < 0) remainder += windowMs;
  return timestamp - remainder;
}
