import { ChunkCorruptionError } from './errors';

/** An append-only bit stream, most significant bit first (tsdb's `bstream`). */
export class BitWriter {
  private buffer: Uint8Array;
  private length = 0;

  constructor(initialBytes = 32) {
    this.buffer = new Uint8Array(Math.max(initialBytes, 8));
  }

  /** Continues a stream that ends after `bitLength` bits of `bytes`; the unused tail bits of the last byte are cleared. */
  static resume(bytes: Uint8Array, bitLength: number): BitWriter {
    const writer = new BitWriter(bytes.length * 2);
    const byteLength = Math.ceil(bitLength / 8);
    writer.buffer.set(bytes.subarray(0, byteLength));
    if (bitLength % 8 !== 0) writer.buffer[byteLength - 1] &= 0xff << (8 - (bitLength % 8));
    writer.length = bitLength;
    return writer;
  }

  get bitLength(): number {
    return this.length;
  }

  /** Writes the low `count` bits (0 ≤ count ≤ 32) of the unsigned `value`. */
  writeBits(value: number, count: number): void {
    if (count === 0) return;
    this.reserve(count);
    const offset = this.length & 7;
    const masked = count === 32 ? value >>> 0 : value & ((1 << count) - 1);
    const buffer = this.buffer;
    const index = this.length >>> 3;
    const end = offset + count;
    this.length += count;
    // Bits past `length` are still zero, so only the first byte needs OR.
    if (end > 32) {
      // Five bytes: the high part fills the first four to their end, the last `spill` bits start the fifth.
      const spill = end - 32;
      const window = masked >>> spill;
      buffer[index] |= window >>> 24;
      buffer[index + 1] = (window >>> 16) & 0xff;
      buffer[index + 2] = (window >>> 8) & 0xff;
      buffer[index + 3] = window & 0xff;
      buffer[index + 4] = (masked << (8 - spill)) & 0xff;
      return;
    }
    const window = (masked << (32 - end)) >>> 0;
    buffer[index] |= window >>> 24;
    if (end > 8) buffer[index + 1] = (window >>> 16) & 0xff;
    if (end > 16) buffer[index + 2] = (window >>> 8) & 0xff;
    if (end > 24) buffer[index + 3] = window & 0xff;
  }

  writeBit(bit: number): void {
    this.reserve(1);
    if (bit !== 0) this.buffer[this.length >>> 3] |= 0x80 >>> (this.length & 7);
    this.length++;
  }

  /** Overwrites two whole bytes at a byte offset already written (the chunk header's sample count). */
  setUint16(byteOffset: number, value: number): void {
    this.buffer[byteOffset] = value >>> 8;
    this.buffer[byteOffset + 1] = value & 0xff;
  }

  /** A copy of the stream, padded with zero bits to a whole byte. */
  bytes(): Uint8Array {
    return this.buffer.slice(0, Math.ceil(this.length / 8));
  }

  private reserve(bits: number): void {
    const needed = (this.length + bits + 7) >>> 3;
    if (needed <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(needed, this.buffer.length * 2));
    grown.set(this.buffer);
    this.buffer = grown;
  }
}

/** Reads a BitWriter stream; running past the end is corruption, never a silent zero. */
export class BitReader {
  private position: number;
  private readonly end: number;

  constructor(
    private readonly bytes: Uint8Array,
    startByte: number,
  ) {
    this.position = startByte * 8;
    this.end = bytes.length * 8;
  }

  get bitPosition(): number {
    return this.position;
  }

  readBit(): number {
    if (this.position >= this.end) throw this.truncated();
    const bit = (this.bytes[this.position >>> 3] >>> (7 - (this.position & 7))) & 1;
    this.position++;
    return bit;
  }

  /** Reads `count` bits (0 ≤ count ≤ 32) as an unsigned number. */
  readBits(count: number): number {
    if (this.position + count > this.end) throw this.truncated();
    if (count === 0) return 0;
    const offset = this.position & 7;
    const bytes = this.bytes;
    const index = this.position >>> 3;
    const end = offset + count;
    if (end > 32) {
      // Five bytes: the last 32 − offset bits of the first four, then the first `spill` bits of the fifth.
      const spill = end - 32;
      const word = (bytes[index] << 24) | (bytes[index + 1] << 16) | (bytes[index + 2] << 8) | bytes[index + 3];
      this.position += count;
      return ((word << offset) >>> offset) * (1 << spill) + (bytes[index + 4] >>> (8 - spill));
    }
    // One 32-bit window, loading only the bytes the bits occupy (the end check above covers them).
    let window = bytes[index] << 24;
    if (end > 8) window |= bytes[index + 1] << 16;
    if (end > 16) window |= bytes[index + 2] << 8;
    if (end > 24) window |= bytes[index + 3];
    this.position += count;
    return (window << offset) >>> (32 - count);
  }

  corruption(reason: string): ChunkCorruptionError {
    return new ChunkCorruptionError(this.position >>> 3, reason);
  }

  private truncated(): ChunkCorruptionError {
    return this.corruption('truncated bit stream');
  }
}
