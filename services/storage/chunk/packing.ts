import { BitReader, BitWriter } from './bits';
import { ByteReader, ByteWriter } from './varint';

/*
 * Patched frame-of-reference bit packing (Zukowski et al., "Super-scalar RAM-CPU cache compression", 2006, simplified):
 * n unsigned integers packed at one width w chosen to minimise the total, plus exceptions for the few that need more
 * bits (a burst in a gauge). Unlike deflate it has no per-call setup, so small chunks stay small and decode fast.
 */

/** Widths above 53 bits cannot occur: every packed value is a safe integer. */
const MAX_WIDTH = 53;
const TWO_POW_32 = 0x100000000;
/** Up to this width a value plus a bit offset (≤ 7) fits one 32-bit window. */
const NARROW_WIDTH = 25;

function bitLength(value: number): number {
  if (value < TWO_POW_32) return 32 - Math.clz32(value);
  return 32 + (32 - Math.clz32(Math.floor(value / TWO_POW_32)));
}

/** The width that minimises packed bits plus exception bytes; exceptions cost a gap and a high part, as uvarints. */
function chooseWidth(values: Float64Array): number {
  const histogram = new Uint32Array(MAX_WIDTH + 1);
  let widest = 0;
  for (let index = 0; index < values.length; index++) {
    const length = bitLength(values[index]);
    histogram[length]++;
    if (length > widest) widest = length;
  }
  let bestWidth = widest;
  let bestBits = values.length * widest;
  for (let width = 0; width < widest; width++) {
    let bits = values.length * width;
    for (let length = width + 1; length <= widest; length++) {
      // About one byte of gap plus the high bits in 7-bit groups.
      bits += histogram[length] * 8 * (1 + Math.ceil((length - width) / 7));
    }
    if (bits < bestBits) {
      bestBits = bits;
      bestWidth = width;
    }
  }
  return bestWidth;
}

/** Appends `values` (non-negative safe integers) as: width byte, packed bits, exception count, (gap, high) pairs. */
export function writePacked(writer: ByteWriter, values: Float64Array): void {
  const width = chooseWidth(values);
  const limit = 2 ** width;
  writer.writeByte(width);
  let exceptions = 0;
  for (let index = 0; index < values.length; index++) if (values[index] >= limit) exceptions++;
  if (width <= NARROW_WIDTH) {
    writer.writeBytes(packNarrow(values, width));
  } else {
    const bits = new BitWriter(Math.ceil((values.length * width) / 8));
    for (let index = 0; index < values.length; index++) writeWide(bits, values[index] % limit, width);
    writer.writeBytes(bits.bytes());
  }
  writer.writeUvarint(exceptions);
  let previous = -1;
  for (let index = 0; index < values.length; index++) {
    if (values[index] < limit) continue;
    writer.writeUvarint(index - previous - 1);
    writer.writeUvarint(Math.floor(values[index] / limit));
    previous = index;
  }
}

/** Widths up to 25 bits fit a 32-bit window at any bit offset: one shift and four byte stores per value. */
function packNarrow(values: Float64Array, width: number): Uint8Array {
  const byteLength = Math.ceil((values.length * width) / 8);
  // Three bytes of slack let every window store all four bytes.
  const bytes = new Uint8Array(byteLength + 3);
  if (width === 0) return bytes.subarray(0, 0);
  // `& mask` keeps the low bits even of an exception above 2^32: ToInt32 wraps modulo 2^32, a multiple of 2^width.
  const mask = (1 << width) - 1;
  let bitPosition = 0;
  for (let index = 0; index < values.length; index++) {
    const offset = bitPosition & 7;
    const byteIndex = bitPosition >>> 3;
    const window = ((values[index] & mask) << (32 - offset - width)) >>> 0;
    bytes[byteIndex] |= window >>> 24;
    bytes[byteIndex + 1] |= (window >>> 16) & 0xff;
    bytes[byteIndex + 2] |= (window >>> 8) & 0xff;
    bytes[byteIndex + 3] |= window & 0xff;
    bitPosition += width;
  }
  return bytes.subarray(0, byteLength);
}

function writeWide(bits: BitWriter, value: number, width: number): void {
  if (width > 32) {
    bits.writeBits(Math.floor(value / TWO_POW_32), width - 32);
    bits.writeBits(value % TWO_POW_32, 32);
  } else {
    bits.writeBits(value, width);
  }
}

/**
 * Reads `count` values written by writePacked into output[first, first + count) from the reader's position and moves
 * past them. Values stay exact because each is a packed low part plus high·2^width below 2^53 (checked).
 */
export function readPacked(
  reader: ByteReader,
  bytes: Uint8Array,
  output: Float64Array,
  first: number,
  count: number,
): void {
  const width = reader.readByte();
  if (width > MAX_WIDTH) throw reader.corruption(`packed width ${width} exceeds ${MAX_WIDTH}`);
  const start = reader.position;
  const byteLength = Math.ceil((count * width) / 8);
  if (start + byteLength > bytes.length) throw reader.corruption('packed values run past the end');
  if (width === 0) {
    output.fill(0, first, first + count);
  } else if (width <= NARROW_WIDTH) {
    unpackNarrow(bytes, start, output, first, count, width);
  } else {
    const bits = new BitReader(bytes.subarray(0, start + byteLength), start);
    for (let index = first; index < first + count; index++) {
      output[index] = width > 32 ? bits.readBits(width - 32) * TWO_POW_32 + bits.readBits(32) : bits.readBits(width);
    }
  }
  reader.position = start + byteLength;
  const exceptions = reader.readUvarint();
  if (exceptions > count) throw reader.corruption(`${exceptions} exceptions for ${count} packed values`);
  const limit = 2 ** width;
  let index = -1;
  for (let exception = 0; exception < exceptions; exception++) {
    index += reader.readUvarint() + 1;
    if (index >= count) throw reader.corruption('packed exception index out of range');
    const value = output[first + index] + reader.readUvarint() * limit;
    if (value > Number.MAX_SAFE_INTEGER) throw reader.corruption('packed value exceeds a safe integer');
    output[first + index] = value;
  }
}

/** Widths up to 25 bits fit a 32-bit window at any bit offset, so each value is one load and two shifts. */
function unpackNarrow(
  bytes: Uint8Array,
  start: number,
  output: Float64Array,
  first: number,
  count: number,
  width: number,
): void {
  const end = bytes.length;
  let bitPosition = start * 8;
  const rightShift = 32 - width;
  for (let index = first; index < first + count; index++) {
    const byteIndex = bitPosition >>> 3;
    let word: number;
    if (byteIndex + 3 < end) {
      word =
        (bytes[byteIndex] << 24) | (bytes[byteIndex + 1] << 16) | (bytes[byteIndex + 2] << 8) | bytes[byteIndex + 3];
    } else {
      word = 0;
      for (let offset = 0; offset < 4; offset++) {
        word = (word << 8) | (byteIndex + offset < end ? bytes[byteIndex + offset] : 0);
      }
    }
    output[index] = (word << (bitPosition & 7)) >>> rightShift;
    bitPosition += width;
  }
}
