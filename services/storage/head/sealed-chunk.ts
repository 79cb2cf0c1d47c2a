import { aggregateRange } from '../chunk/aggregate';
import type { Samples } from '../chunk/samples';
import { packSummaryRows, summarize, type Summary } from '../chunk/summary';
import { XorAppender, decodeXor } from '../chunk/xor';
import { sliceRange } from './samples-merge';

/**
 * Per-window rows are kept for a tier only when they summarise at least this many samples each on average: below that
 * they would take more memory than the samples they save decoding (80 bytes a row against ~1.5 bytes a sample).
 */
const MIN_SAMPLES_PER_ROW = 16;

/**
 * A full head chunk, or what a head cut left of one: immutable once sealed (out-of-order writes and rewrites go to the
 * series' override list; merging them in, or a cut through a chunk, makes new chunks), so its partials, computed on
 * the first aggregation that can use them, never go stale.
 * Whether an override changes the samples of its time range is the series' concern (MemSeries.aggregationSamples).
 */
export class SealedChunk {
  private wholeSummary: Summary | undefined;
  /** Packed rows per tier (packSummaryRows), or null for a tier too fine to be worth keeping. */
  private tierRows: Map<number, Float64Array | null> | undefined;

  constructor(
    readonly minTime: number,
    readonly maxTime: number,
    readonly count: number,
    readonly bytes: Uint8Array,
  ) {}

  samples(): Samples {
    return decodeXor(this.bytes);
  }

  /** A new chunk of the samples at or after `time`, which must leave at least one (time ≤ maxTime); no partials. */
  withoutBefore(time: number): SealedChunk {
    const kept = sliceRange(this.samples(), time, Infinity);
    const appender = encodeAppendable(kept);
    return new SealedChunk(kept.timestamps[0], this.maxTime, appender.count, appender.bytes());
  }

  /** The summary of every sample, sketch included, as block chunks keep it. */
  summary(): Summary {
    this.wholeSummary ??= summarize(this.samples());
    return this.wholeSummary;
  }

  /**
   * One packed row per epoch-aligned window of `tierMs` holding samples, without sketches; undefined when the tier is
   * finer than MIN_SAMPLES_PER_ROW samples a row.
   */
  rows(tierMs: number): Float64Array | undefined {
    this.tierRows ??= new Map();
    let rows = this.tierRows.get(tierMs);
    if (rows === undefined) {
      const windows = Math.floor(this.maxTime / tierMs) - Math.floor(this.minTime / tierMs) + 1;
      if (windows * MIN_SAMPLES_PER_ROW > this.count) rows = null;
      else {
        const { starts, summaries } = aggregateRange(this.samples(), this.minTime, this.maxTime + 1, tierMs);
        rows = packSummaryRows(starts, summaries);
      }
      this.tierRows.set(tierMs, rows);
    }
    return rows ?? undefined;
  }

  /** Memory held by the encoded samples and the partials computed so far (sketches at 16 bytes a bin). */
  get residentBytes(): number {
    let total = this.bytes.byteLength;
    if (this.wholeSummary !== undefined) {
      const { pos, neg } = this.wholeSummary.sketch;
      total += 80 + (pos.length + neg.length) * 16;
    }
    for (const rows of this.tierRows?.values() ?? []) total += rows?.byteLength ?? 0;
    return total;
  }
}

/** A new open XOR chunk holding `samples` (sorted, one per timestamp), ready for more appends. */
export function encodeAppendable(samples: Samples): XorAppender {
  const appender = XorAppender.create();
  for (let index = 0; index < samples.timestamps.length; index++)
    appender.append(samples.timestamps[index], samples.values[index]);
  return appender;
}
