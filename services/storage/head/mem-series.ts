import type { Samples } from '../chunk/samples';
import { XorAppender, decodeXor } from '../chunk/xor';
import type { SeriesLabels } from '../series/series';
import { mergeRuns, sliceRange, sortLastWins } from './samples-merge';
import { SealedChunk } from './sealed-chunk';

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
    if (this.overrideTimes.length >= OUT_OF_ORDER_MERGE_AT) this.rebuild(this.samples(-Infinity, Infinity));
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
    const runs: Samples[] = [];
    for (const chunk of this.sealed)
      if (chunk.maxTime >= from && chunk.minTime <= to) runs.push(sliceRange(chunk.samples(), from, to));
    if (this.appender !== undefined && this.maxTime >= from && this.openMinTime <= to)
      runs.push(sliceRange(decodeXor(this.appender.bytes()), from, to));
    if (this.overrideTimes.length > 0)
      runs.push(sliceRange(sortLastWins(this.overrideTimes, this.overrideValues), from, to));
    return mergeRuns(runs);
  }

  /**
   * The samples with from ≤ t ≤ to for an aggregation, less the sealed chunks `useChunk` takes: it is offered each one
   * wholly inside the range whose samples no pending override changes, and answers whether it used the chunk's
   * partials instead of its samples.
   */
  aggregationSamples(from: number, to: number, useChunk: (chunk: SealedChunk) => boolean): Samples {
    const runs: Samples[] = [];
    for (const chunk of this.sealed) {
      if (chunk.maxTime < from || chunk.minTime > to) continue;
      const isInside = chunk.minTime >= from && chunk.maxTime <= to;
      if (isInside && !this.isOverridden(chunk) && useChunk(chunk)) continue;
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

  /** Drops every sample before `time` (persisted to a block). */
  dropBefore(time: number): void {
    if (this.minTime >= time) return;
    this.rebuild(this.samples(time, Infinity));
  }

  private rebuild(samples: Samples): void {
    this.sealed = [];
    this.appender = undefined;
    this.overrideTimes = [];
    this.overrideValues = [];
    const count = samples.timestamps.length;
    this.maxTime = -Infinity;
    this.minTime = count > 0 ? samples.timestamps[0] : Infinity;
    for (let index = 0; index < count; index++) this.appendInOrder(samples.timestamps[index], samples.values[index]);
  }

  /** Bytes held by encoded chunks and their partials, for the head's memory metric. */
  get encodedBytes(): number {
    let total = 0;
    for (const chunk of this.sealed) total += chunk.residentBytes;
    return total + this.overrideTimes.length * 16;
  }
}
