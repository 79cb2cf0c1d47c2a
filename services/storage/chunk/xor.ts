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
    // The header's count is brought up to date here rather than on every append.
    this.stream.setUint16(0, this.samples);
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
      const deltaOfDelta = delta - this.delta;
      this.delta = delta;
      // A regular step is one 0 bit, written together with the value's first bits.
      if (deltaOfDelta === 0) this.writeValue(hi, lo, 0, 1);
      else {
        this.writeDeltaOfDelta(deltaOfDelta);
        this.writeValue(hi, lo);
      }
    }
    this.timestamp = timestamp;
    this.valueHi = hi;
    this.valueLo = lo;
    this.samples++;
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

  /** Writes the value's XOR against the previous one, after `prefixBits` bits of `prefix` (fewer, wider writes). */
  private writeValue(hi: number, lo: number, prefix = 0, prefixBits = 0): void {
    const stream = this.stream;
    const xorHi = (hi ^ this.valueHi) >>> 0;
    const xorLo = (lo ^ this.valueLo) >>> 0;
    if (xorHi === 0 && xorLo === 0) {
      stream.writeBits(prefix * 2, prefixBits + 1);
      return;
    }
    // Five bits hold the leading count, so at most 31 of them are elided.
    const leading = Math.min(countLeadingZeros(xorHi, xorLo), 31);
    const trailing = countTrailingZeros(xorHi, xorLo);
    if (this.leading !== NO_WINDOW && leading >= this.leading && trailing >= this.trailing) {
      const control = prefix * 4 + 0b10;
      writeSignificantBits(
        stream,
        xorHi,
        xorLo,
        this.trailing,
        64 - this.leading - this.trailing,
        control,
        prefixBits + 2,
      );
      return;
    }
    const significant = 64 - leading - trailing;
    // Control 11, five bits of leading zeros, six of significant bits: 64 does not fit, and 0 stands for it because
    // a non-zero XOR has at least one.
    const header = ((prefix * 4 + 0b11) * 32 + leading) * 64 + (significant & 63);
    writeSignificantBits(stream, xorHi, xorLo, trailing, significant, header, prefixBits + 13);
    this.leading = leading;
    this.trailing = trailing;
  }
}

/**
 * The length in bytes of the XOR chunk the appender would make of these samples (checked ones: ascending safe
 * integer timestamps), computed without writing it: the same decisions as `append`, only counting bits. Sealed
 * chunks use it to encode XOR only when it is the smallest encoding.
 */
export function xorEncodedLength(samples: Samples): number {
  const { timestamps, values } = samples;
  const count = timestamps.length;
  const floatBits = new FloatBits();
  let bits = HEADER_BYTES * 8;
  let previousTime = 0;
  let previousDelta = 0;
  let previousHi = 0;
  let previousLo = 0;
  let windowLeading = NO_WINDOW;
  let windowTrailing = 0;
  for (let index = 0; index < count; index++) {
    const timestamp = timestamps[index];
    floatBits.split(values[index]);
    const hi = floatBits.hi;
    const lo = floatBits.lo;
    if (index === 0) {
      bits += varintBitLength(timestamp) + 64;
    } else {
      const delta = timestamp - previousTime;
      if (index === 1) bits += uvarintBitLength(delta);
      else bits += deltaOfDeltaBitLength(delta - previousDelta);
      previousDelta = delta;
      const xorHi = (hi ^ previousHi) >>> 0;
      const xorLo = (lo ^ previousLo) >>> 0;
      if (xorHi === 0 && xorLo === 0) {
        bits += 1;
      } else {
        const leading = Math.min(countLeadingZeros(xorHi, xorLo), 31);
        const trailing = countTrailingZeros(xorHi, xorLo);
        if (windowLeading !== NO_WINDOW && leading >= windowLeading && trailing >= windowTrailing) {
          bits += 2 + 64 - windowLeading - windowTrailing;
        } else {
          bits += 2 + 5 + 6 + 64 - leading - trailing;
          windowLeading = leading;
          windowTrailing = trailing;
        }
      }
    }
    previousTime = timestamp;
    previousHi = hi;
    previousLo = lo;
  }
  return Math.ceil(bits / 8);
}

function deltaOfDeltaBitLength(deltaOfDelta: number): number {
  if (deltaOfDelta === 0) return 1;
  for (const bucket of BUCKETS) {
    const limit = 1 << (bucket.bits - 1);
    if (deltaOfDelta > -limit && deltaOfDelta <= limit) return bucket.prefixBits + bucket.bits;
  }
  return 4 + 64;
}

function uvarintBitLength(value: number): number {
  let bytes = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) bytes++;
  return bytes * 8;
}

function varintBitLength(value: number): number {
  const magnitude = value < 0 ? -value - 1 : value;
  const rest = Math.floor(magnitude / 0x40);
  return rest === 0 ? 8 : 8 + uvarintBitLength(rest);
}

/** 2^k for k ≤ 32, exact. */
const POWERS_OF_TWO = Float64Array.from({ length: 33 }, (_, exponent) => 2 ** exponent);

/**
 * Writes `headBits` (≤ 15) bits of `head`, then bits [shift, shift + count) of the 64-bit hi:lo, most significant
 * first; the head shares a write with the first part when both fit 32 bits.
 */
function writeSignificantBits(
  stream: BitWriter,
  hi: number,
  lo: number,
  shift: number,
  count: number,
  head: number,
  headBits: number,
): void {
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
    const highCount = count - 32;
    if (headBits + highCount <= 32) stream.writeBits(head * POWERS_OF_TWO[highCount] + shiftedHi, headBits + highCount);
    else {
      stream.writeBits(head, headBits);
      stream.writeBits(shiftedHi, highCount);
    }
    stream.writeBits(shiftedLo, 32);
  } else if (headBits + count <= 32) {
    stream.writeBits(head * POWERS_OF_TWO[count] + shiftedLo, headBits + count);
  } else {
    stream.writeBits(head, headBits);
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
