import type { Samples } from '../chunk/samples';

/** Merges runs sorted by time, resolving equal timestamps last-write-wins: a later run beats an earlier one. Pure. */
export function mergeRuns(runs: readonly Samples[]): Samples {
  const nonEmpty = runs.filter((run) => run.timestamps.length > 0);
  if (nonEmpty.length === 0) return { timestamps: new Float64Array(0), values: new Float64Array(0) };
  if (nonEmpty.length === 1) return nonEmpty[0];
  if (areDisjointAscending(nonEmpty)) return concatenate(nonEmpty);
  let merged = nonEmpty[0];
  for (let index = 1; index < nonEmpty.length; index++) merged = mergeTwo(merged, nonEmpty[index]);
  return merged;
}

function areDisjointAscending(runs: readonly Samples[]): boolean {
  for (let index = 1; index < runs.length; index++) {
    const previous = runs[index - 1].timestamps;
    if (previous[previous.length - 1] >= runs[index].timestamps[0]) return false;
  }
  return true;
}

function concatenate(runs: readonly Samples[]): Samples {
  const total = runs.reduce((sum, run) => sum + run.timestamps.length, 0);
  const timestamps = new Float64Array(total);
  const values = new Float64Array(total);
  let position = 0;
  for (const run of runs) {
    timestamps.set(run.timestamps, position);
    values.set(run.values, position);
    position += run.timestamps.length;
  }
  return { timestamps, values };
}

/** `newer` wins ties. */
function mergeTwo(older: Samples, newer: Samples): Samples {
  const timestamps = new Float64Array(older.timestamps.length + newer.timestamps.length);
  const values = new Float64Array(timestamps.length);
  let left = 0;
  let right = 0;
  let length = 0;
  while (left < older.timestamps.length || right < newer.timestamps.length) {
    const leftTime = left < older.timestamps.length ? older.timestamps[left] : Infinity;
    const rightTime = right < newer.timestamps.length ? newer.timestamps[right] : Infinity;
    if (leftTime < rightTime) {
      timestamps[length] = leftTime;
      values[length++] = older.values[left++];
    } else {
      if (leftTime === rightTime) left++;
      timestamps[length] = rightTime;
      values[length++] = newer.values[right++];
    }
  }
  return { timestamps: timestamps.subarray(0, length), values: values.subarray(0, length) };
}

/** Sorts arrival-ordered samples by time, keeping the last arrival for each timestamp. */
export function sortLastWins(timestamps: readonly number[], values: readonly number[]): Samples {
  const order = timestamps.map((_, index) => index).sort((a, b) => timestamps[a] - timestamps[b] || a - b);
  const sortedTimes: number[] = [];
  const sortedValues: number[] = [];
  for (const index of order) {
    if (sortedTimes.length > 0 && sortedTimes[sortedTimes.length - 1] === timestamps[index])
      sortedValues[sortedValues.length - 1] = values[index];
    else {
      sortedTimes.push(timestamps[index]);
      sortedValues.push(values[index]);
    }
  }
  return { timestamps: Float64Array.from(sortedTimes), values: Float64Array.from(sortedValues) };
}

/** The samples with from ≤ t ≤ to, as views. */
export function sliceRange(samples: Samples, from: number, to: number): Samples {
  const start = lowerBound(samples.timestamps, from);
  const end = lowerBound(samples.timestamps, to + 1);
  if (start === 0 && end === samples.timestamps.length) return samples;
  return { timestamps: samples.timestamps.subarray(start, end), values: samples.values.subarray(start, end) };
}

/** First index whose timestamp is ≥ time. Timestamps are integers, so `to + 1` gives an inclusive upper bound. */
export function lowerBound(timestamps: Float64Array, time: number): number {
  let low = 0;
  let high = timestamps.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (timestamps[middle] < time) low = middle + 1;
    else high = middle;
  }
  return low;
}
