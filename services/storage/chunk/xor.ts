import { BitReader, BitWriter } from './bits';
import { ChunkCorruptionError } from './errors';
import { MAX_CHUNK_SAMPLES, Samples, allocateSamples, checkTimestamp } from './samples';

/*
 * Gorilla XOR chunks (Pelkonen et al., VLDB 2015) laid out as Prometheus tsdb/chunkenc/xor.go; FORMAT.md has the bytes.
 * Gorilla has a resolution of seconds, we have milliseconds (like Prometheus), so the delta-of-delta buckets are wider
 * and the first delta is a varint rather than 14 bits.
 */

const HEADER_BYTES = 2;
const TWO_POW_32 = 0x100000000;
/** Marks "no leading/trailing window yet": the first non-zero XOR must carry its own. */
const NO_WINDOW = 0xff;

/** Delta-of-delta buckets: prefix bits, prefix length, payload bits. The last bucket holds any safe integer. */
const BUCKETS = [
  { prefix: 0b10, prefixBits: 2, bits: 14 },
  { prefix: 0b110, prefixBits: 3, bits: 17 },
  { prefix: 0b1110, prefixBits: 4, bits: 20 },
] as const;

/** Index of a float64's high 32-bit word in a Uint32Array view of it: 1 on little-endian machines. */
const HIGH_WORD = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1 ? 1 : 0;
const LOW_WORD = 1 - HIGH_WORD;

/** Splits float64s into their 32-bit words; one per appender, never shared. */
class FloatBits {
  private readonly floats = new Float64Array(1);
  private readonly words = new Uint32Array(this.floats.buffer);

  split(value: number): void {
    this.floats[0] = value;
  }
  get hi(): number {
    return this.words[HIGH_WORD];
  }
  get lo(): number {
    return this.words[LOW_WORD];
  }
}

function countLeadingZeros(hi: number, lo: number): number {
  return hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo);
}

function countTrailingZeros(hi: number, lo: number): number {
  if (lo !== 0) return 31 - Math.clz32(lo & -lo);
  return 32 + 31 - Math.clz32(hi & -hi);
}

/** Appends samples to an XOR chunk; the head keeps one per series and seals it at about 120 samples. */
export class XorAppender {
  private readonly stream: BitWriter;
  private readonly floatBits = new FloatBits();
  private samples = 0;
  private timestamp = 0;
  private delta = 0;
  private valueHi = 0;
  private valueLo = 0;
  private leading = NO_WINDOW;
  private trailing = 0;

  private constructor(stream: BitWriter) {
    this.stream = stream;
  }

  static create(): XorAppender {
    const stream = new BitWriter(HEADER_BYTES + 128);
    stream.writeBits(0, 16);
    return new XorAppender(stream);
  }

  /** Continues a chunk from its bytes (after a restart or when the head reopens a chunk), as tsdb replays its iterator. */
  static resume(bytes: Uint8Array): XorAppender {
    const state = readXor(bytes, undefined);
    const appender = new XorAppender(BitWriter.resume(bytes, state.bitLength));
    appender.samples = state.count;
    appender.timestamp = state.timestamp;
    appender.delta = state.delta;
    appender.valueHi = state.valueHi;
    appender.valueLo = state.valueLo;
    appender.leading = state.leading;
    appender.trailing = state.trailing;
    return appender;
  }

  get count(): number {
    return this.samples;
  }

  /** A copy of the chunk as encoded so far. */
  bytes(): Uint8Array {
    return this.stream.bytes();
  }

  /** Throws RangeError (and appends nothing) unless the timestamp is a safe integer after the last one. */
  append(timestamp: number, value: number): void {
    if (this.samples === MAX_CHUNK_SAMPLES)
      throw new RangeError(`an XOR chunk holds at most ${MAX_CHUNK_SAMPLES} samples`);
    const isPlainNext =
      this.samples > 0 &&
      timestamp > this.timestamp &&
      timestamp - this.timestamp <= Number.MAX_SAFE_INTEGER &&
      Number.isSafeInteger(timestamp);
    // The full check (and its error message) only when the cheap one fails: this runs for every sample.
    if (!isPlainNext) checkTimestamp(timestamp, this.samples === 0 ? undefined : this.timestamp);
    const stream = this.stream;
    const floatBits = this.floatBits;
    floatBits.split(value);
    const hi = floatBits.hi;
    const lo = floatBits.lo;
    if (this.samples === 0) {
      writeVarintBits(stream, timestamp);
      stream.writeBits(hi, 32);
      stream.writeBits(lo, 32);
    } else if (this.samples === 1) {
      const delta = timestamp - this.timestamp;
      writeUvarintBits(stream, delta);
      this.delta = delta;
      this.writeValue(hi, lo);
    } else {
      const delta = timestamp - this.timestamp;
      this.writeDeltaOfDelta(delta - this.delta);
      this.delta = delta;
      this.writeValue(hi, lo);
    }
    this.timestamp = timestamp;
    this.valueHi = hi;
    this.valueLo = lo;
    this.samples++;
    this.stream.setUint16(0, this.samples);
  }

  private writeDeltaOfDelta(deltaOfDelta: number): void {
    const stream = this.stream;
    if (deltaOfDelta === 0) {
      stream.writeBit(0);
      return;
    }
    for (const bucket of BUCKETS) {
      const limit = 1 << (bucket.bits - 1);
      if (deltaOfDelta > -limit && deltaOfDelta <= limit) {
        stream.writeBits(bucket.prefix, bucket.prefixBits);
        stream.writeBits(deltaOfDelta & ((1 << bucket.bits) - 1), bucket.bits);
        return;
      }
    }
    stream.writeBits(0b1111, 4);
    const hi = Math.floor(deltaOfDelta / TWO_POW_32);
    stream.writeBits(hi >>> 0, 32);
    stream.writeBits(deltaOfDelta - hi * TWO_POW_32, 32);
  }

  private writeValue(hi: number, lo: number): void {
    const stream = this.stream;
    const xorHi = (hi ^ this.valueHi) >>> 0;
    const xorLo = (lo ^ this.valueLo) >>> 0;
    if (xorHi === 0 && xorLo === 0) {
      stream.writeBit(0);
      return;
    }
    // Five bits hold the leading count, so at most 31 of them are elided.
    const leading = Math.min(countLeadingZeros(xorHi, xorLo), 31);
    const trailing = countTrailingZeros(xorHi, xorLo);
    if (this.leading !== NO_WINDOW && leading >= this.leading && trailing >= this.trailing) {
      stream.writeBits(0b10, 2);
      writeSignificantBits(stream, xorHi, xorLo, this.trailing, 64 - this.leading - this.trailing);
      return;
    }
    const significant = 64 - leading - trailing;
    stream.writeBits(0b11, 2);
    stream.writeBits(leading, 5);
    // 64 significant bits do not fit in six bits; 0 stands for 64 because a non-zero XOR has at least one.
    stream.writeBits(significant & 63, 6);
    writeSignificantBits(stream, xorHi, xorLo, trailing, significant);
    this.leading = leading;
    this.trailing = trailing;
  }
}

/** Writes bits [shift, shift + count) of the 64-bit hi:lo, most significant first. */
function writeSignificantBits(stream: BitWriter, hi: number, lo: number, shift: number, count: number): void {
  let shiftedHi: number;
  let shiftedLo: number;
  if (shift >= 32) {
    shiftedHi = 0;
    shiftedLo = hi >>> (shift - 32);
  } else if (shift > 0) {
    shiftedHi = hi >>> shift;
    shiftedLo = ((lo >>> shift) | (hi << (32 - shift))) >>> 0;
  } else {
    shiftedHi = hi;
    shiftedLo = lo;
  }
  if (count > 32) {
    stream.writeBits(shiftedHi, count - 32);
    stream.writeBits(shiftedLo, 32);
  } else {
    stream.writeBits(shiftedLo, count);
  }
}

function writeUvarintBits(stream: BitWriter, value: number): void {
  let rest = value;
  while (rest >= 0x80) {
    stream.writeBits((rest % 0x80) | 0x80, 8);
    rest = Math.floor(rest / 0x80);
  }
  stream.writeBits(rest, 8);
}

function writeVarintBits(stream: BitWriter, value: number): void {
  const isNegative = value < 0;
  const magnitude = isNegative ? -value - 1 : value;
  const low = ((magnitude % 0x40) * 2) | (isNegative ? 1 : 0);
  const rest = Math.floor(magnitude / 0x40);
  if (rest === 0) {
    stream.writeBits(low, 8);
    return;
  }
  stream.writeBits(low | 0x80, 8);
  writeUvarintBits(stream, rest);
}

interface XorState {
  count: number;
  bitLength: number;
  timestamp: number;
  delta: number;
  valueHi: number;
  valueLo: number;
  leading: number;
  trailing: number;
}

/** Decodes an XOR chunk (header included) into column arrays. */
export function decodeXor(bytes: Uint8Array): Samples {
  if (bytes.length < HEADER_BYTES) throw new ChunkCorruptionError(0, 'missing XOR header');
  const count = (bytes[0] << 8) | bytes[1];
  const samples = allocateSamples(count);
  readXor(bytes, samples);
  return samples;
}

/** Reads every sample, into `output` when given; returns the state an appender needs to continue. */
function readXor(bytes: Uint8Array, output: Samples | undefined): XorState {
  if (bytes.length < HEADER_BYTES) throw new ChunkCorruptionError(0, 'missing XOR header');
  const count = (bytes[0] << 8) | bytes[1];
  const reader = new BitReader(bytes, HEADER_BYTES);
  const timestamps = output?.timestamps;
  // Values are written as their two words, straight into the output's memory.
  const words = output && new Uint32Array(output.values.buffer, output.values.byteOffset, count * 2);
  let timestamp = 0;
  let delta = 0;
  let valueHi = 0;
  let valueLo = 0;
  let leading = NO_WINDOW;
  let trailing = 0;
  for (let index = 0; index < count; index++) {
    if (index === 0) {
      timestamp = readVarintBits(reader);
      valueHi = reader.readBits(32);
      valueLo = reader.readBits(32);
    } else {
      if (index === 1) {
        delta = readUvarintBits(reader);
        if (delta === 0) throw reader.corruption('timestamps do not ascend');
      } else {
        delta += readDeltaOfDelta(reader);
        if (delta < 1) throw reader.corruption('timestamps do not ascend');
        if (delta > Number.MAX_SAFE_INTEGER) throw reader.corruption('step beyond the safe integer range');
      }
      timestamp += delta;
      if (timestamp > Number.MAX_SAFE_INTEGER) throw reader.corruption('timestamp beyond the safe integer range');
      if (reader.readBit() !== 0) {
        if (reader.readBit() !== 0) {
          leading = reader.readBits(5);
          const significant = reader.readBits(6) || 64;
          trailing = 64 - leading - significant;
          if (trailing < 0) throw reader.corruption('leading and significant bits exceed 64');
        } else if (leading === NO_WINDOW) {
          throw reader.corruption('XOR reuses a window before setting one');
        }
        const significant = 64 - leading - trailing;
        let xorHi: number;
        let xorLo: number;
        if (significant > 32) {
          xorHi = reader.readBits(significant - 32);
          xorLo = reader.readBits(32);
        } else {
          xorHi = 0;
          xorLo = reader.readBits(significant);
        }
        if (trailing >= 32) {
          xorHi = xorLo << (trailing - 32);
          xorLo = 0;
        } else if (trailing > 0) {
          xorHi = (xorHi << trailing) | (xorLo >>> (32 - trailing));
          xorLo = xorLo << trailing;
        }
        valueHi = (valueHi ^ xorHi) >>> 0;
        valueLo = (valueLo ^ xorLo) >>> 0;
      }
    }
    if (timestamps !== undefined && words !== undefined) {
      timestamps[index] = timestamp;
      words[2 * index + HIGH_WORD] = valueHi;
      words[2 * index + LOW_WORD] = valueLo;
    }
  }
  const bitLength = reader.bitPosition;
  if (Math.ceil(bitLength / 8) !== bytes.length)
    throw new ChunkCorruptionError(
      Math.ceil(bitLength / 8),
      `${bytes.length - Math.ceil(bitLength / 8)} bytes after the last sample`,
    );
  return { count, bitLength, timestamp, delta, valueHi, valueLo, leading, trailing };
}

function readDeltaOfDelta(reader: BitReader): number {
  if (reader.readBit() === 0) return 0;
  let ones = 1;
  while (ones < 4 && reader.readBit() === 1) ones++;
  if (ones === 4) {
    const hi = reader.readBits(32) | 0;
    const lo = reader.readBits(32);
    const deltaOfDelta = hi * TWO_POW_32 + lo;
    if (!Number.isSafeInteger(deltaOfDelta)) throw reader.corruption('delta of delta beyond the safe integer range');
    return deltaOfDelta;
  }
  const bits = BUCKETS[ones - 1].bits;
  const value = reader.readBits(bits);
  return value > 1 << (bits - 1) ? value - (1 << bits) : value;
}

function readUvarintBits(reader: BitReader): number {
  let value = 0;
  let scale = 1;
  for (let index = 0; index < 8; index++) {
    const byte = reader.readBits(8);
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      if (value > Number.MAX_SAFE_INTEGER) break;
      return value;
    }
    scale *= 0x80;
  }
  throw reader.corruption('varint exceeds a safe integer');
}

function readVarintBits(reader: BitReader): number {
  // Sign and low six bits first: the zigzag value itself can exceed 2^53.
  const first = reader.readBits(8);
  const low = (first & 0x7f) >>> 1;
  const magnitude = first < 0x80 ? low : low + readUvarintBits(reader) * 0x40;
  if (magnitude > Number.MAX_SAFE_INTEGER) throw reader.corruption('varint exceeds a safe integer');
  return first & 1 ? -magnitude - 1 : magnitude;
}
