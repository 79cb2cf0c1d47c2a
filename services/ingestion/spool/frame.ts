import { crc32 } from 'node:zlib';

/**
 * Spool segment framing (pure; format in services/ingestion/spool/FORMAT.md).
 *
 *   crc32 u32 BE | length u32 BE | count u32 BE | payload (length bytes)
 *
 * `crc32` (IEEE) covers `length`, `count` and the payload. The payload is the JSON array of queue records
 * `[{"key": ..., "value": ...}, ...]` of one flushed batch; `count` is how many records it holds.
 */
export const FRAME_HEADER_BYTES = 12;
/** Frames never exceed this; a larger length field means a damaged header. */
const MAX_FRAME_PAYLOAD_BYTES = 64 * 1024 * 1024;

export interface Frame {
  /** Byte offset of the frame in its segment. */
  offset: number;
  count: number;
  payload: Uint8Array;
}

export type TailState =
  /** Every byte belongs to a whole, valid frame. */
  | 'clean'
  /** The last frame is incomplete: a write cut short by a crash. */
  | 'torn'
  /** A frame fails its checksum or has an impossible length. */
  | 'corrupt';

export interface Scan {
  frames: Frame[];
  /** Bytes covered by valid frames; everything after is to be truncated. */
  validLength: number;
  tail: TailState;
}

export function encodeFrame(payload: Uint8Array, count: number): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32BE(payload.length, 4);
  frame.writeUInt32BE(count, 8);
  frame.set(payload, FRAME_HEADER_BYTES);
  frame.writeUInt32BE(crc32(frame.subarray(4)), 0);
  return frame;
}

/** Reads whole frames from the start of `bytes` until the end, a torn tail, or a damaged frame. */
export function scanFrames(bytes: Uint8Array): Scan {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const frames: Frame[] = [];
  let offset = 0;
  while (offset < view.length) {
    if (view.length - offset < FRAME_HEADER_BYTES) return { frames, validLength: offset, tail: 'torn' };
    const length = view.readUInt32BE(offset + 4);
    if (length > MAX_FRAME_PAYLOAD_BYTES) return { frames, validLength: offset, tail: 'corrupt' };
    const end = offset + FRAME_HEADER_BYTES + length;
    if (end > view.length) return { frames, validLength: offset, tail: 'torn' };
    if (crc32(view.subarray(offset + 4, end)) !== view.readUInt32BE(offset))
      return { frames, validLength: offset, tail: 'corrupt' };
    frames.push({
      offset,
      count: view.readUInt32BE(offset + 8),
      payload: view.subarray(offset + FRAME_HEADER_BYTES, end),
    });
    offset = end;
  }
  return { frames, validLength: offset, tail: 'clean' };
}
