/**
 * A run of samples of one series, column-wise so codecs and aggregations work on typed arrays without allocating.
 * Decoders return both columns as views of one ArrayBuffer: use the views, not `.buffer`.
 */
export interface Samples {
  /** Milliseconds since the epoch: safe integers, strictly ascending, possibly negative. */
  timestamps: Float64Array;
  values: Float64Array;
}

/** The 2-byte sample count in the XOR header bounds every chunk, whatever its encoding. */
export const MAX_CHUNK_SAMPLES = 0xffff;

/**
 * Throws RangeError unless the timestamps are safe integers, strictly ascending, with every step at most
 * Number.MAX_SAFE_INTEGER, which keeps every delta and delta-of-delta exact in a float64.
 */
export function checkSamples(samples: Samples): void {
  const { timestamps, values } = samples;
  if (timestamps.length !== values.length)
    throw new RangeError(`${timestamps.length} timestamps but ${values.length} values`);
  if (timestamps.length > MAX_CHUNK_SAMPLES)
    throw new RangeError(`a chunk holds at most ${MAX_CHUNK_SAMPLES} samples, got ${timestamps.length}`);
  if (timestamps.length > 0 && !Number.isSafeInteger(timestamps[0])) checkTimestamp(timestamps[0], undefined);
  for (let index = 1; index < timestamps.length; index++) {
    const timestamp = timestamps[index];
    const previous = timestamps[index - 1];
    // After a safe previous, these four make `timestamp` a safe successor; the full check only names the problem.
    const isPlainNext =
      timestamp > previous &&
      timestamp <= Number.MAX_SAFE_INTEGER &&
      timestamp - previous <= Number.MAX_SAFE_INTEGER &&
      Math.floor(timestamp) === timestamp;
    if (!isPlainNext) checkTimestamp(timestamp, previous);
  }
}

export function checkTimestamp(timestamp: number, previous: number | undefined): void {
  if (!Number.isSafeInteger(timestamp)) throw new RangeError(`timestamp ${timestamp} is not a safe integer`);
  if (previous === undefined) return;
  if (timestamp <= previous) throw new RangeError(`timestamp ${timestamp} does not follow ${previous}`);
  if (timestamp - previous > Number.MAX_SAFE_INTEGER)
    throw new RangeError(`step from ${previous} to ${timestamp} exceeds ${Number.MAX_SAFE_INTEGER} ms`);
}

/** Output columns for `count` samples sharing one buffer: one allocation per decoded chunk instead of two. */
export function allocateSamples(count: number): Samples {
  const buffer = new ArrayBuffer(count * 16);
  return { timestamps: new Float64Array(buffer, 0, count), values: new Float64Array(buffer, count * 8, count) };
}
