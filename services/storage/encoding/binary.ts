/**
 * Little binary writer and reader for the storage's own formats (WAL records, block series tables). Integers are
 * unsigned LEB128 varints or zigzag varints over the whole safe-integer range; floats are raw little-endian float64 so
 * every bit (NaN payloads, -0) survives. The reader throws `BinaryFormatError` with the byte offset where it stopped.
 */
export class BinaryFormatError extends Error {
  override readonly name = 'BinaryFormatError';

  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`malformed binary data at byte ${offset}: ${reason}`);
  }
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

export class BinaryWriter {
  private buffer: Uint8Array;
  private view: DataView;
  private length = 0;

  constructor(initialBytes = 256) {
    this.buffer = new Uint8Array(initialBytes);
    this.view = new DataView(this.buffer.buffer);
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < this.length + bytes) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
    this.view = new DataView(grown.buffer);
  }

  writeByte(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  writeUvarint(value: number): void {
    this.reserve(8);
    // Above 2^31 the bit operators would truncate, so the high part divides instead.
    while (value >= 0x80) {
      this.buffer[this.length++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.buffer[this.length++] = value;
  }

  /** Zigzag: 0, -1, 1, -2 … become 0, 1, 2, 3 …, computed without 64-bit shifts. */
  writeVarint(value: number): void {
    this.writeUvarint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  writeFloat64(value: number): void {
    this.reserve(8);
    this.view.setFloat64(this.length, value, true);
    this.length += 8;
  }

  writeUint32(value: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, value, true);
    this.length += 4;
  }

  writeBytes(bytes: Uint8Array): void {
    this.writeUvarint(bytes.length);
    this.writeRaw(bytes);
  }

  writeRaw(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  writeString(text: string): void {
    this.writeBytes(textEncoder.encode(text));
  }

  /** The bytes written so far (a view; copy before writing more if you keep it). */
  subarray(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }

  /** A copy of the bytes written so far. */
  bytes(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

export class BinaryReader {
  private position: number;
  private readonly view: DataView;

  constructor(
    private readonly buffer: Uint8Array,
    start = 0,
  ) {
    this.position = start;
    this.view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }

  get offset(): number {
    return this.position;
  }

  get remaining(): number {
    return this.buffer.length - this.position;
  }

  fail(reason: string): BinaryFormatError {
    return new BinaryFormatError(this.position, reason);
  }

  private need(bytes: number): void {
    if (this.position + bytes > this.buffer.length) throw this.fail(`needs ${bytes} more bytes`);
  }

  readByte(): number {
    this.need(1);
    return this.buffer[this.position++];
  }

  readUvarint(): number {
    let value = 0;
    let scale = 1;
    for (let index = 0; index < 8; index++) {
      const byte = this.readByte();
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (value > Number.MAX_SAFE_INTEGER) break;
        return value;
      }
      scale *= 0x80;
    }
    throw this.fail('varint exceeds a safe integer');
  }

  /** Moves past `count` varints (signed or not) without decoding them. */
  skipVarints(count: number): void {
    let left = count;
    while (left > 0) {
      this.need(1);
      if (this.buffer[this.position++] < 0x80) left--;
    }
  }

  skipBytes(count: number): void {
    this.need(count);
    this.position += count;
  }

  readVarint(): number {
    const zigzag = this.readUvarint();
    return zigzag % 2 === 0 ? zigzag / 2 : -(zigzag + 1) / 2;
  }

  readFloat64(): number {
    this.need(8);
    const value = this.view.getFloat64(this.position, true);
    this.position += 8;
    return value;
  }

  readUint32(): number {
    this.need(4);
    const value = this.view.getUint32(this.position, true);
    this.position += 4;
    return value;
  }

  readBytes(): Uint8Array {
    const length = this.readUvarint();
    return this.readRaw(length);
  }

  readRaw(length: number): Uint8Array {
    this.need(length);
    const bytes = this.buffer.subarray(this.position, this.position + length);
    this.position += length;
    return bytes;
  }

  readString(): string {
    const bytes = this.readBytes();
    try {
      return textDecoder.decode(bytes);
    } catch {
      throw this.fail('string is not UTF-8');
    }
  }
}
