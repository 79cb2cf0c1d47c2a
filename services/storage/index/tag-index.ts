import { crc32 } from 'node:zlib';
import { ChunkCorruptionError } from '../chunk/errors';
import { ByteReader, ByteWriter } from '../chunk/varint';
import { IndexCorruptionError, InvalidMatcherError } from './errors';
import { EMPTY_POSTINGS, intersectAll, subtract, union, uniqueSorted } from './postings';

export { IndexCorruptionError, InvalidMatcherError } from './errors';

export type MatchOp = '=' | '!=' | '=~' | '!~';

/** A tag filter as in PromQL: regexes are fully anchored, and a missing tag reads as the empty string. */
export interface Matcher {
  key: string;
  op: MatchOp;
  value: string;
}

const MAGIC = Uint8Array.of(0x4d, 0x53, 0x54, 0x49); // "MSTI"
const VERSION = 1;
const MAX_SERIES_ID = 0xffffffff;

/** Ids arrive in any order; the sorted array is built on first read after a change and cached. */
class PostingsBuilder {
  private pending: number[] = [];
  private sorted: Uint32Array = EMPTY_POSTINGS;
  private isAscending = true;

  static of(sorted: Uint32Array): PostingsBuilder {
    const builder = new PostingsBuilder();
    builder.sorted = sorted;
    return builder;
  }

  add(seriesId: number): void {
    const last = this.pending.length > 0 ? this.pending[this.pending.length - 1] : this.sorted[this.sorted.length - 1];
    if (last !== undefined && seriesId <= last) this.isAscending = false;
    this.pending.push(seriesId);
  }

  postings(): Uint32Array {
    if (this.pending.length === 0) return this.sorted;
    const merged = new Uint32Array(this.sorted.length + this.pending.length);
    merged.set(this.sorted);
    merged.set(this.pending, this.sorted.length);
    this.sorted = this.isAscending ? merged : uniqueSorted(merged.sort()).slice();
    this.pending = [];
    this.isAscending = true;
    return this.sorted;
  }
}

class MeasurementEntry {
  constructor(readonly all = new PostingsBuilder()) {}
  /** key → value → postings; empty values are never stored, so "absent" and "" are the same, as in Prometheus. */
  readonly tags = new Map<string, Map<string, PostingsBuilder>>();
}

type ValuePredicate = (value: string) => boolean;

function compileMatcher(matcher: Matcher): ValuePredicate {
  const { op, value } = matcher;
  switch (op) {
    case '=':
      return (candidate) => candidate === value;
    case '!=':
      return (candidate) => candidate !== value;
    case '=~':
    case '!~': {
      let pattern: RegExp;
      try {
        // Compiled alone first: a pattern like "a)|(b" must not escape the anchoring group below.
        new RegExp(value, 's');
        pattern = new RegExp(`^(?:${value})$`, 's');
      } catch (error) {
        throw new InvalidMatcherError(matcher, (error as Error).message, { cause: error });
      }
      return op === '=~' ? (candidate) => pattern.test(candidate) : (candidate) => !pattern.test(candidate);
    }
    default: {
      const unknown: never = op;
      throw new InvalidMatcherError(matcher, `unknown operator ${String(unknown)}`);
    }
  }
}

/**
 * The inverted index of one head or block: measurement → tag key → tag value → postings, plus all series per
 * measurement. Pure and in memory; encode()/decode() give the block file form (FORMAT.md).
 */
export class TagIndex {
  private readonly entries = new Map<string, MeasurementEntry>();

  /** Adding an id again with the same measurement and tags changes nothing. Tags with empty values are dropped. */
  add(seriesId: number, measurement: string, tags: Readonly<Record<string, string>>): void {
    if (!Number.isInteger(seriesId) || seriesId < 0 || seriesId > MAX_SERIES_ID)
      throw new RangeError(`series id ${seriesId} is not a 32-bit unsigned integer`);
    let entry = this.entries.get(measurement);
    if (entry === undefined) {
      entry = new MeasurementEntry();
      this.entries.set(measurement, entry);
    }
    entry.all.add(seriesId);
    for (const key of Object.keys(tags)) {
      const value = tags[key];
      if (value === '') continue;
      let values = entry.tags.get(key);
      if (values === undefined) {
        values = new Map();
        entry.tags.set(key, values);
      }
      let postings = values.get(value);
      if (postings === undefined) {
        postings = new PostingsBuilder();
        values.set(value, postings);
      }
      postings.add(seriesId);
    }
  }

  /**
   * Series of `measurement` that satisfy every matcher, ascending. A matcher that accepts "" also accepts series
   * without the tag, so it becomes "all but the values it rejects" and is subtracted after the intersection.
   */
  select(measurement: string, matchers: readonly Matcher[]): Uint32Array {
    const entry = this.entries.get(measurement);
    if (entry === undefined) return new Uint32Array(0);
    const required: Uint32Array[] = [];
    const excluded: Uint32Array[] = [];
    for (const matcher of matchers) {
      const accepts = compileMatcher(matcher);
      const values = entry.tags.get(matcher.key);
      if (matcher.op === '=' && matcher.value !== '') {
        const postings = values?.get(matcher.value)?.postings();
        if (postings === undefined) return new Uint32Array(0);
        required.push(postings);
        continue;
      }
      if (matcher.op === '!=' && matcher.value !== '') {
        const postings = values?.get(matcher.value)?.postings();
        if (postings !== undefined) excluded.push(postings);
        continue;
      }
      const acceptsMissing = accepts('');
      const lists: Uint32Array[] = [];
      if (values !== undefined) {
        for (const [value, postings] of values) {
          if (accepts(value) !== acceptsMissing) lists.push(postings.postings());
        }
      }
      if (acceptsMissing) {
        if (lists.length > 0) excluded.push(union(lists));
      } else {
        if (lists.length === 0) return new Uint32Array(0);
        required.push(union(lists));
      }
    }
    let result: Uint32Array = required.length > 0 ? intersectAll(required) : entry.all.postings().slice();
    if (excluded.length > 0 && result.length > 0)
      result = subtract(result, excluded.length === 1 ? excluded[0] : union(excluded));
    return result;
  }

  /** Measurement names, sorted, optionally only those starting with `prefix`. */
  measurements(prefix = ''): string[] {
    return [...this.entries.keys()].filter((name) => name.startsWith(prefix)).sort();
  }

  tagKeys(measurement: string): string[] {
    return [...(this.entries.get(measurement)?.tags.keys() ?? [])].sort();
  }

  tagValues(measurement: string, key: string): string[] {
    return [...(this.entries.get(measurement)?.tags.get(key)?.keys() ?? [])].sort();
  }

  /** Symbol table, then per measurement its postings and per tag key and value theirs, then a CRC32 (FORMAT.md). */
  encode(): Uint8Array {
    const symbols = new Set<string>();
    for (const [measurement, entry] of this.entries) {
      symbols.add(measurement);
      for (const [key, values] of entry.tags) {
        symbols.add(key);
        for (const value of values.keys()) symbols.add(value);
      }
    }
    const symbolList = [...symbols].sort();
    const references = new Map(symbolList.map((symbol, index) => [symbol, index]));
    const writer = new ByteWriter(1024);
    writer.writeBytes(MAGIC);
    writer.writeByte(VERSION);
    const encoder = new TextEncoder();
    writer.writeUvarint(symbolList.length);
    for (const symbol of symbolList) {
      const bytes = encoder.encode(symbol);
      writer.writeUvarint(bytes.length);
      writer.writeBytes(bytes);
    }
    const measurements = [...this.entries.keys()].sort();
    writer.writeUvarint(measurements.length);
    for (const measurement of measurements) {
      const entry = this.entries.get(measurement)!;
      writer.writeUvarint(references.get(measurement)!);
      writePostings(writer, entry.all.postings());
      const keys = [...entry.tags.keys()].sort();
      writer.writeUvarint(keys.length);
      for (const key of keys) {
        const values = entry.tags.get(key)!;
        writer.writeUvarint(references.get(key)!);
        const valueList = [...values.keys()].sort();
        writer.writeUvarint(valueList.length);
        for (const value of valueList) {
          writer.writeUvarint(references.get(value)!);
          writePostings(writer, values.get(value)!.postings());
        }
      }
    }
    const checksum = crc32(writer.view());
    for (const shift of [24, 16, 8, 0]) writer.writeByte((checksum >>> shift) & 0xff);
    return writer.bytes();
  }

  /** Reads what encode() writes; anything else throws IndexCorruptionError. */
  static decode(bytes: Uint8Array): TagIndex {
    if (bytes.length < MAGIC.length + 1 + 4) throw new IndexCorruptionError(0, 'shorter than header and checksum');
    for (let index = 0; index < MAGIC.length; index++) {
      if (bytes[index] !== MAGIC[index]) throw new IndexCorruptionError(index, 'not a tag index (bad magic)');
    }
    if (bytes[MAGIC.length] !== VERSION)
      throw new IndexCorruptionError(MAGIC.length, `unknown version ${bytes[MAGIC.length]}`);
    const bodyEnd = bytes.length - 4;
    const stored =
      ((bytes[bodyEnd] << 24) | (bytes[bodyEnd + 1] << 16) | (bytes[bodyEnd + 2] << 8) | bytes[bodyEnd + 3]) >>> 0;
    if (crc32(bytes.subarray(0, bodyEnd)) !== stored) throw new IndexCorruptionError(bodyEnd, 'checksum mismatch');
    try {
      return TagIndex.read(new ByteReader(bytes.subarray(0, bodyEnd), MAGIC.length + 1));
    } catch (error) {
      if (error instanceof ChunkCorruptionError)
        throw new IndexCorruptionError(error.offset, error.reason, { cause: error });
      throw error;
    }
  }

  private static read(reader: ByteReader): TagIndex {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const symbolCount = reader.readUvarint();
    if (symbolCount > reader.remaining) throw reader.corruption(`${symbolCount} symbols exceed the input`);
    const symbols: string[] = [];
    for (let index = 0; index < symbolCount; index++) {
      const bytes = reader.readBytes(reader.readUvarint());
      try {
        symbols.push(decoder.decode(bytes));
      } catch (error) {
        throw reader.corruption(`symbol ${index} is not UTF-8: ${(error as Error).message}`);
      }
    }
    const symbol = (): string => {
      const reference = reader.readUvarint();
      if (reference >= symbols.length) throw reader.corruption(`symbol reference ${reference} out of range`);
      return symbols[reference];
    };
    const count = (what: string): number => {
      const value = reader.readUvarint();
      if (value > reader.remaining) throw reader.corruption(`${value} ${what} exceed the input`);
      return value;
    };
    const index = new TagIndex();
    const measurementCount = count('measurements');
    for (let measurementIndex = 0; measurementIndex < measurementCount; measurementIndex++) {
      const measurement = symbol();
      const entry = new MeasurementEntry(PostingsBuilder.of(readPostings(reader)));
      index.entries.set(measurement, entry);
      const keyCount = count('tag keys');
      for (let keyIndex = 0; keyIndex < keyCount; keyIndex++) {
        const key = symbol();
        const values = new Map<string, PostingsBuilder>();
        entry.tags.set(key, values);
        const valueCount = count('tag values');
        for (let valueIndex = 0; valueIndex < valueCount; valueIndex++) {
          const value = symbol();
          if (value === '') throw reader.corruption('empty tag value');
          values.set(value, PostingsBuilder.of(readPostings(reader)));
        }
      }
    }
    if (reader.remaining !== 0) throw reader.corruption(`${reader.remaining} bytes after the last measurement`);
    return index;
  }
}

function writePostings(writer: ByteWriter, postings: Uint32Array): void {
  writer.writeUvarint(postings.length);
  let previous = -1;
  for (const id of postings) {
    writer.writeUvarint(id - previous - 1);
    previous = id;
  }
}

function readPostings(reader: ByteReader): Uint32Array {
  const length = reader.readUvarint();
  if (length > reader.remaining) throw reader.corruption(`${length} postings exceed the input`);
  const postings = new Uint32Array(length);
  let previous = -1;
  for (let index = 0; index < length; index++) {
    const id = previous + reader.readUvarint() + 1;
    if (id > MAX_SERIES_ID) throw reader.corruption(`series id ${id} exceeds 32 bits`);
    postings[index] = id;
    previous = id;
  }
  return postings;
}
