import { ChunkCorruptionError } from './errors';

/**
 * LEB128 varints for any safe integer, byte-compatible with Go's `binary.PutUvarint`/`PutVarint` (zigzag). Large
 * magnitudes use division instead of bit operators, which stop at 32 bits; zigzag is done as sign plus magnitude
 * because 2·|v| overflows the 53-bit mantissa.
 */
export class ByteWriter {
  private buffer: Uint8Array;
  length = 0;

  constructor(initialBytes = 64) {
    this.buffer = new Uint8Array(Math.max(initialBytes, 16));
  }

  writeByte(byte: number): void {
    if (this.length === this.buffer.length) this.grow(1);
    this.buffer[this.length++] = byte;
  }

  writeBytes(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** A non-negative safe integer. */
  writeUvarint(value: number): void {
    this.reserve(8);
    let rest = value;
    while (rest >= 0x80) {
      this.buffer[this.length++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.buffer[this.length++] = rest;
  }

  /** Any safe integer, zigzag-encoded: 0, -1, 1, -2 … become 0, 1, 2, 3 …. */
  writeVarint(value: number): void {
    this.reserve(8);
    if (value >= 0 && value < 0x40) {
      this.buffer[this.length++] = value << 1;
      return;
    }
    if (value < 0 && value >= -0x40) {
      this.buffer[this.length++] = ((-value - 1) << 1) | 1;
      return;
    }
    const isNegative = value < 0;
    const magnitude = isNegative ? -value - 1 : value;
    const low = ((magnitude % 0x40) << 1) | (isNegative ? 1 : 0);
    let rest = Math.floor(magnitude / 0x40);
    if (rest === 0) {
      this.buffer[this.length++] = low;
      return;
    }
    this.buffer[this.length++] = low | 0x80;
    while (rest >= 0x80) {
      this.buffer[this.length++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.buffer[this.length++] = rest;
  }

  writeFloat64(value: number): void {
    this.reserve(8);
    new DataView(this.buffer.buffer, this.buffer.byteOffset + this.length, 8).setFloat64(0, value);
    this.length += 8;
  }

  bytes(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }

  /** The written bytes without copying; valid until the next write. */
  view(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }

  private reserve(bytes: number): void {
    if (this.length + bytes > this.buffer.length) this.grow(bytes);
  }

  private grow(bytes: number): void {
    const grown = new Uint8Array(Math.max(this.length + bytes, this.buffer.length * 2));
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }
}

/** The bytes a ByteWriter writes for `value` as a uvarint. */
function uvarintSize(value: number): number {
  let size = 1;
  let rest = value;
  while (rest >= 0x80) {
    size++;
    rest = Math.floor(rest / 0x80);
  }
  return size;
}

/** The bytes a ByteWriter writes for `value` as a zigzag varint. */
export function varintSize(value: number): number {
  return uvarintSize(value < 0 ? -2 * value - 1 : 2 * value);
}

const MAX_VARINT_BYTES = 8;

/** Reads what ByteWriter writes; anything a writer cannot produce is a ChunkCorruptionError. */
export class ByteReader {
  position: number;

  constructor(
    private readonly bytes: Uint8Array,
    start = 0,
    /** Added to positions in errors, for payloads that sit inside a larger chunk. */
    private readonly errorOffset = 0,
  ) {
    this.position = start;
  }

  get remaining(): number {
    return this.bytes.length - this.position;
  }

  readByte(): number {
    if (this.position >= this.bytes.length) throw this.corruption('unexpected end of data');
    return this.bytes[this.position++];
  }

  readUvarint(): number {
    const bytes = this.bytes;
    let position = this.position;
    if (position < bytes.length) {
      const first = bytes[position];
      if (first < 0x80) {
        this.position = position + 1;
        return first;
      }
    }
    let value = 0;
    let scale = 1;
    for (let index = 0; index < MAX_VARINT_BYTES; index++) {
      if (position >= bytes.length) throw this.corruption('varint runs past the end');
      const byte = bytes[position++];
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (value > Number.MAX_SAFE_INTEGER) break;
        this.position = position;
        return value;
      }
      scale *= 0x80;
    }
    throw this.corruption('varint exceeds a safe integer');
  }

  readVarint(): number {
    if (this.position >= this.bytes.length) throw this.corruption('unexpected end of data');
    const first = this.bytes[this.position];
    if (first < 0x80) {
      this.position++;
      return first & 1 ? -((first + 1) >>> 1) : first >>> 1;
    }
    // Sign and low six bits first: the zigzag value itself can exceed 2^53.
    this.position++;
    const magnitude = ((first & 0x7f) >>> 1) + this.readUvarint() * 0x40;
    if (magnitude > Number.MAX_SAFE_INTEGER) throw this.corruption('varint exceeds a safe integer');
    return first & 1 ? -magnitude - 1 : magnitude;
  }

  /** The next `length` bytes, without copying. */
  readBytes(length: number): Uint8Array {
    if (length > this.remaining) throw this.corruption(`${length} bytes run past the end`);
    const bytes = this.bytes.subarray(this.position, this.position + length);
    this.position += length;
    return bytes;
  }

  readFloat64(): number {
    if (this.position + 8 > this.bytes.length) throw this.corruption('unexpected end of data');
    const value = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.position, 8).getFloat64(0);
    this.position += 8;
    return value;
  }

  corruption(reason: string): ChunkCorruptionError {
    return new ChunkCorruptionError(this.errorOffset + this.position, reason);
  }
}
