import type { Samples } from '../chunk/samples';
import { XorAppender, decodeXor } from '../chunk/xor';
import type { SeriesLabels } from '../series/series';
import { mergeRuns, sliceRange, sortLastWins } from './samples-merge';
import { SealedChunk, encodeAppendable } from './sealed-chunk';

/** Gorilla's and Prometheus's chunk size: about two hours of 1-minute samples, small enough to re-encode cheaply. */
export const SAMPLES_PER_CHUNK = 120;
/** Out-of-order samples wait in a plain list and are merged into the chunks once this many have gathered. */
const OUT_OF_ORDER_MERGE_AT = 120;

/**
 * One series in the head: sealed XOR chunks, one open XOR chunk, and a small arrival-ordered list of samples at or
 * before the newest timestamp (out-of-order samples and rewrites of an existing timestamp), which wins over the chunks.
 */
export class MemSeries {
  private sealed: SealedChunk[] = [];
  private appender: XorAppender | undefined;
  private openMinTime = 0;
  private overrideTimes: number[] = [];
  private overrideValues: number[] = [];
  /** Newest timestamp appended; -Infinity while empty. */
  maxTime = -Infinity;
  minTime = Infinity;

  constructor(
    readonly id: number,
    readonly labels: SeriesLabels,
    readonly key: string,
  ) {}

  get isEmpty(): boolean {
    return this.maxTime === -Infinity;
  }

  append(timestamp: number, value: number): void {
    if (timestamp < this.minTime) this.minTime = timestamp;
    if (timestamp > this.maxTime) {
      this.appendInOrder(timestamp, value);
      return;
    }
    this.overrideTimes.push(timestamp);
    this.overrideValues.push(value);
    if (this.overrideTimes.length >= OUT_OF_ORDER_MERGE_AT) this.mergeOverrides();
  }

  private appendInOrder(timestamp: number, value: number): void {
    if (this.appender === undefined) {
      this.appender = XorAppender.create();
      this.openMinTime = timestamp;
    }
    this.appender.append(timestamp, value);
    this.maxTime = timestamp;
    if (this.appender.count >= SAMPLES_PER_CHUNK) this.sealOpenChunk();
  }

  private sealOpenChunk(): void {
    if (this.appender === undefined) return;
    this.sealed.push(new SealedChunk(this.openMinTime, this.maxTime, this.appender.count, this.appender.bytes()));
    this.appender = undefined;
  }

  /** The samples with from ≤ t ≤ to, sorted, one per timestamp (the last written). */
  samples(from: number, to: number): Samples {
    return this.collectSamples(from, to, () => false);
  }

  /**
   * The samples with from ≤ t ≤ to for an aggregation, less the sealed chunks `useChunk` takes: it is offered each one
   * wholly inside the range whose samples no pending override changes, and answers whether it used the chunk's
   * partials instead of its samples.
   */
  aggregationSamples(from: number, to: number, useChunk: (chunk: SealedChunk) => boolean): Samples {
    return this.collectSamples(from, to, (chunk) => !this.isOverridden(chunk) && useChunk(chunk));
  }

  /** The samples with from ≤ t ≤ to, less the sealed chunks wholly inside the range that `takesChunk` takes. */
  private collectSamples(from: number, to: number, takesChunk: (chunk: SealedChunk) => boolean): Samples {
    const runs: Samples[] = [];
    for (const chunk of this.sealed) {
      if (chunk.maxTime < from || chunk.minTime > to) continue;
      const isInside = chunk.minTime >= from && chunk.maxTime <= to;
      if (isInside && takesChunk(chunk)) continue;
      runs.push(sliceRange(chunk.samples(), from, to));
    }
    if (this.appender !== undefined && this.maxTime >= from && this.openMinTime <= to)
      runs.push(sliceRange(decodeXor(this.appender.bytes()), from, to));
    if (this.overrideTimes.length > 0)
      runs.push(sliceRange(sortLastWins(this.overrideTimes, this.overrideValues), from, to));
    return mergeRuns(runs);
  }

  /** Whether a pending override (out-of-order sample or rewrite) falls in the chunk's time range. */
  private isOverridden(chunk: SealedChunk): boolean {
    for (const time of this.overrideTimes) if (time >= chunk.minTime && time <= chunk.maxTime) return true;
    return false;
  }

  /**
   * Drops every sample before `time` (persisted to a block). Sealed chunks wholly before it go whole and later ones
   * stay as they are, cached partials included (their samples do not change); only a chunk holding samples on both
   * sides is re-encoded, from its samples at or after `time`. Pending overrides at or after `time` stay pending.
   */
  dropBefore(time: number): void {
    if (this.minTime >= time) return;
    if (this.maxTime < time) {
      this.clear();
      return;
    }
    let dropped = 0;
    while (dropped < this.sealed.length && this.sealed[dropped].maxTime < time) dropped++;
    this.sealed = this.sealed.slice(dropped);
    if (this.sealed.length > 0 && this.sealed[0].minTime < time) this.sealed[0] = this.sealed[0].withoutBefore(time);
    if (this.appender !== undefined && this.openMinTime < time) {
      // The newest sample is at or after `time` (checked above), so the open chunk keeps at least one.
      const kept = sliceRange(decodeXor(this.appender.bytes()), time, Infinity);
      this.appender = encodeAppendable(kept);
      this.openMinTime = kept.timestamps[0];
    }
    const overrideTimes: number[] = [];
    const overrideValues: number[] = [];
    for (let index = 0; index < this.overrideTimes.length; index++) {
      if (this.overrideTimes[index] < time) continue;
      overrideTimes.push(this.overrideTimes[index]);
      overrideValues.push(this.overrideValues[index]);
    }
    this.overrideTimes = overrideTimes;
    this.overrideValues = overrideValues;
    // Chunks are disjoint and ascending with the open one last, and hold the newest sample, so one survives.
    this.minTime = this.sealed.length > 0 ? this.sealed[0].minTime : this.openMinTime;
    for (const overrideTime of overrideTimes) if (overrideTime < this.minTime) this.minTime = overrideTime;
  }

  private clear(): void {
    this.sealed = [];
    this.appender = undefined;
    this.overrideTimes = [];
    this.overrideValues = [];
    this.maxTime = -Infinity;
    this.minTime = Infinity;
  }

  /**
   * Merges the pending overrides into the chunks: sealed chunks wholly before the earliest override are kept as they
   * are; the rest are decoded, merged with the overrides (last write wins) and re-encoded as new chunks.
   */
  private mergeOverrides(): void {
    let earliest = Infinity;
    for (const time of this.overrideTimes) if (time < earliest) earliest = time;
    let kept = 0;
    while (kept < this.sealed.length && this.sealed[kept].maxTime < earliest) kept++;
    const lastKept = kept > 0 ? this.sealed[kept - 1].maxTime : -Infinity;
    // Timestamps are integers: every sample after the kept chunks, overrides included, is at or after lastKept + 1.
    const rest = this.samples(lastKept + 1, Infinity);
    const minTime = kept > 0 ? this.sealed[0].minTime : rest.timestamps[0];
    this.sealed = this.sealed.slice(0, kept);
    this.appender = undefined;
    this.overrideTimes = [];
    this.overrideValues = [];
    this.maxTime = lastKept;
    for (let index = 0; index < rest.timestamps.length; index++)
      this.appendInOrder(rest.timestamps[index], rest.values[index]);
    this.minTime = minTime;
  }

  /** Bytes held by encoded chunks and their partials, for the head's memory metric. */
  get encodedBytes(): number {
    let total = 0;
    for (const chunk of this.sealed) total += chunk.residentBytes;
    return total + this.overrideTimes.length * 16;
  }
}
