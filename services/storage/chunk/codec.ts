import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { MAX_EXPONENT, ScaledDecimals, powerOfTen, toScaledDecimals } from './decimal';
import { ChunkCorruptionError } from './errors';
import { MAX_CHUNK_SAMPLES, Samples, allocateSamples, checkSamples } from './samples';
import { readPacked, writePacked } from './packing';
import { ByteReader, ByteWriter, varintSize } from './varint';
import { XorAppender, decodeXor, xorEncodedLength } from './xor';

export { ChunkCorruptionError } from './errors';

/** The first byte of a sealed chunk. FORMAT.md documents each layout. */
export const ChunkEncoding = {
  xor: 1,
  decimalDeflate: 2,
  decimalPacked: 3,
} as const;
export type ChunkEncoding = (typeof ChunkEncoding)[keyof typeof ChunkEncoding];

/** How the mantissas are differenced: random walks compress best as deltas, counters as delta-of-deltas. */
const ValueOrder = { delta: 0, deltaOfDelta: 1 } as const;
type ValueOrder = (typeof ValueOrder)[keyof typeof ValueOrder];

/** Bound on an inflated payload: a header and two 8-byte varints per sample at most. */
const MAX_PAYLOAD_BYTES = 64 + MAX_CHUNK_SAMPLES * 16;
/** Zigzag doubles a residual; below 2^52 the code is still a safe integer. */
const MAX_PACKED_RESIDUAL = 2 ** 52;

/**
 * Encodes a sealed chunk in whichever encoding is smallest for it: XOR always works; scaled decimals (bit-packed, or
 * as varints under deflate) work when every value is a small decimal. All are bit-exact. On a tie the earlier
 * candidate stays (XOR, packed, deflated). Throws RangeError for samples that are not
 * strictly ascending safe integer timestamps, or more than 65,535 of them.
 */
export function encodeChunk(samples: Samples): Uint8Array {
  checkSamples(samples);
  // XOR is sized without being written, and written only when it wins: on decimal gauges it rarely does.
  let best: { encoding: ChunkEncoding; payload: Uint8Array | undefined; length: number } = {
    encoding: ChunkEncoding.xor,
    payload: undefined,
    length: xorEncodedLength(samples),
  };
  const decimals = toScaledDecimals(samples.values);
  if (decimals !== undefined) {
    const streams = toDecimalStreams(samples.timestamps, decimals);
    const packed = encodeDecimalPacked(streams);
    if (packed !== undefined && packed.length < best.length)
      best = { encoding: ChunkEncoding.decimalPacked, payload: packed, length: packed.length };
    const deflated = encodeDecimalDeflate(streams);
    if (deflated.length < best.length)
      best = { encoding: ChunkEncoding.decimalDeflate, payload: deflated, length: deflated.length };
  }
  return withEncoding(best.encoding, best.payload ?? encodeXorPayload(samples));
}

export function decodeChunk(bytes: Uint8Array): Samples {
  if (bytes.length === 0) throw new ChunkCorruptionError(0, 'empty chunk');
  const encoding = bytes[0] as ChunkEncoding;
  switch (encoding) {
    case ChunkEncoding.xor:
      try {
        return decodeXor(bytes.subarray(1));
      } catch (error) {
        if (error instanceof ChunkCorruptionError) throw new ChunkCorruptionError(error.offset + 1, error.reason);
        throw error;
      }
    case ChunkEncoding.decimalDeflate:
      return decodeDecimalPayload(inflate(bytes.subarray(1)), 0, false);
    case ChunkEncoding.decimalPacked:
      return decodeDecimalPayload(bytes, 1, true);
    default: {
      const unknown: never = encoding;
      throw new ChunkCorruptionError(0, `unknown chunk encoding ${unknown as number}`);
    }
  }
}

function withEncoding(encoding: ChunkEncoding, payload: Uint8Array): Uint8Array {
  const chunk = new Uint8Array(payload.length + 1);
  chunk[0] = encoding;
  chunk.set(payload, 1);
  return chunk;
}

function encodeXorPayload(samples: Samples): Uint8Array {
  const appender = XorAppender.create();
  for (let index = 0; index < samples.timestamps.length; index++)
    appender.append(samples.timestamps[index], samples.values[index]);
  return appender.bytes();
}

function chooseValueOrder(mantissas: Float64Array): ValueOrder {
  let deltaBytes = 0;
  let deltaOfDeltaBytes = 0;
  for (let index = 2; index < mantissas.length; index++) {
    const delta = mantissas[index] - mantissas[index - 1];
    deltaBytes += varintSize(delta);
    deltaOfDeltaBytes += varintSize(delta - (mantissas[index - 1] - mantissas[index - 2]));
  }
  return deltaOfDeltaBytes < deltaBytes ? ValueOrder.deltaOfDelta : ValueOrder.delta;
}

/**
 * A chunk of scaled decimals as a header (first timestamp, first step, first mantissa and its first difference) and
 * two residual streams from the third sample on: timestamp delta-of-deltas and mantissa deltas or delta-of-deltas.
 */
interface DecimalStreams {
  header: Uint8Array;
  timestampResiduals: Float64Array;
  valueResiduals: Float64Array;
}

function toDecimalStreams(timestamps: Float64Array, decimals: ScaledDecimals): DecimalStreams {
  const count = timestamps.length;
  const { exponent, mantissas } = decimals;
  const header = new ByteWriter(32);
  header.writeUvarint(count);
  const residualCount = Math.max(count - 2, 0);
  const timestampResiduals = new Float64Array(residualCount);
  const valueResiduals = new Float64Array(residualCount);
  if (count > 0) {
    const order = chooseValueOrder(mantissas);
    header.writeByte(exponent | (order << 5));
    header.writeVarint(timestamps[0]);
    if (count > 1) header.writeUvarint(timestamps[1] - timestamps[0]);
    header.writeVarint(mantissas[0]);
    if (count > 1) header.writeVarint(mantissas[1] - mantissas[0]);
    for (let index = 2; index < count; index++) {
      // Two exact deltas subtracted: 2·t can leave the safe integers, the deltas cannot.
      timestampResiduals[index - 2] =
        timestamps[index] - timestamps[index - 1] - (timestamps[index - 1] - timestamps[index - 2]);
      const delta = mantissas[index] - mantissas[index - 1];
      valueResiduals[index - 2] =
        order === ValueOrder.delta ? delta : delta - (mantissas[index - 1] - mantissas[index - 2]);
    }
  }
  return { header: header.bytes(), timestampResiduals, valueResiduals };
}

function encodeDecimalDeflate(streams: DecimalStreams): Uint8Array {
  const writer = new ByteWriter(streams.header.length + streams.timestampResiduals.length * 3);
  writer.writeBytes(streams.header);
  for (const residual of streams.timestampResiduals) writer.writeVarint(residual);
  for (const residual of streams.valueResiduals) writer.writeVarint(residual);
  return deflateRawSync(writer.view(), { level: 9 });
}

/** Zigzag in float64 arithmetic; undefined when a residual is too large for the result to stay a safe integer. */
function zigzag(residuals: Float64Array): Float64Array | undefined {
  const encoded = new Float64Array(residuals.length);
  for (let index = 0; index < residuals.length; index++) {
    const residual = residuals[index];
    if (Math.abs(residual) >= MAX_PACKED_RESIDUAL) return undefined;
    encoded[index] = residual < 0 ? -2 * residual - 1 : 2 * residual;
  }
  return encoded;
}

function encodeDecimalPacked(streams: DecimalStreams): Uint8Array | undefined {
  const timestampCodes = zigzag(streams.timestampResiduals);
  const valueCodes = zigzag(streams.valueResiduals);
  if (timestampCodes === undefined || valueCodes === undefined) return undefined;
  const writer = new ByteWriter(streams.header.length + 8 + timestampCodes.length);
  writer.writeBytes(streams.header);
  if (timestampCodes.length > 0) {
    writePacked(writer, timestampCodes);
    writePacked(writer, valueCodes);
  }
  return writer.bytes();
}

function inflate(compressed: Uint8Array): Uint8Array {
  try {
    return inflateRawSync(compressed, { maxOutputLength: MAX_PAYLOAD_BYTES });
  } catch (error) {
    throw new ChunkCorruptionError(1, `deflate stream: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Decodes a scaled-decimal payload starting at `start`: packed within the chunk itself (offsets in errors count from
 * the chunk's first byte), or a whole inflated payload (offsets count in it, and the reason says so).
 */
function decodeDecimalPayload(payload: Uint8Array, start: number, isPacked: boolean): Samples {
  const reader = new ByteReader(payload, start);
  const where = isPacked ? '' : 'inflated payload: ';
  const count = reader.readUvarint();
  if (count > MAX_CHUNK_SAMPLES) throw reader.corruption(`${where}${count} samples exceed the chunk limit`);
  const { timestamps, values } = allocateSamples(count);
  if (count > 0) {
    const flags = reader.readByte();
    const exponent = flags & 0x1f;
    const order = flags >>> 5;
    if (exponent > MAX_EXPONENT) throw reader.corruption(`${where}exponent ${exponent} out of range`);
    if (order !== ValueOrder.delta && order !== ValueOrder.deltaOfDelta)
      throw reader.corruption(`${where}unknown value order ${order}`);
    timestamps[0] = reader.readVarint();
    const firstStep = count > 1 ? reader.readUvarint() : 0;
    const firstMantissa = reader.readVarint();
    const firstDelta = count > 1 ? reader.readVarint() : 0;
    if (isPacked) {
      if (count > 2) {
        readPacked(reader, payload, timestamps, 2, count - 2);
        readPacked(reader, payload, values, 2, count - 2);
      }
    } else {
      for (let index = 2; index < count; index++) timestamps[index] = reader.readVarint();
      for (let index = 2; index < count; index++) values[index] = reader.readVarint();
    }
    integrateTimestamps(reader, timestamps, firstStep, isPacked);
    integrateValues(values, firstMantissa, firstDelta, order, powerOfTen(exponent), isPacked);
  }
  if (reader.remaining !== 0) throw reader.corruption(`${where}${reader.remaining} bytes after the last sample`);
  return { timestamps, values };
}

function fromZigzag(code: number): number {
  return code < 0x80000000 ? (code >>> 1) ^ -(code & 1) : code % 2 === 1 ? -(code + 1) / 2 : code / 2;
}

/** Turns timestamps[2..] from (zigzagged) delta-of-deltas into timestamps, in place, in one pass. */
function integrateTimestamps(reader: ByteReader, timestamps: Float64Array, firstStep: number, isZigzag: boolean): void {
  const count = timestamps.length;
  if (count < 2) return;
  let timestamp = timestamps[0];
  let delta = firstStep;
  for (let index = 1; index < count; index++) {
    if (index > 1) delta += isZigzag ? fromZigzag(timestamps[index]) : timestamps[index];
    if (delta < 1 || delta > Number.MAX_SAFE_INTEGER) throw reader.corruption('timestamps do not ascend');
    timestamp += delta;
    if (timestamp > Number.MAX_SAFE_INTEGER) throw reader.corruption('timestamp beyond the safe integers');
    timestamps[index] = timestamp;
  }
}

/** Turns values[2..] from (zigzagged) residuals into values, in place, in one pass, and fills values[0..1]. */
function integrateValues(
  values: Float64Array,
  firstMantissa: number,
  firstDelta: number,
  order: ValueOrder,
  power: number,
  isZigzag: boolean,
): void {
  const count = values.length;
  let mantissa = firstMantissa;
  values[0] = mantissa / power;
  if (count === 1) return;
  let delta = firstDelta;
  mantissa += delta;
  values[1] = mantissa / power;
  if (order === ValueOrder.delta) {
    for (let index = 2; index < count; index++) {
      mantissa += isZigzag ? fromZigzag(values[index]) : values[index];
      values[index] = mantissa / power;
    }
  } else {
    for (let index = 2; index < count; index++) {
      delta += isZigzag ? fromZigzag(values[index]) : values[index];
      mantissa += delta;
      values[index] = mantissa / power;
    }
  }
}
