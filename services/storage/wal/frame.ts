import { crc32 } from 'node:zlib';

/**
 * WAL framing (FORMAT.md, "WAL segments"): every record is `length u32 LE | CRC32 u32 LE | data`, CRC32 (IEEE) over
 * the data. Pure: encoding and scanning work on bytes, the shell in wal.ts does the files.
 */
export const FRAME_HEADER_BYTES = 8;
/** A record larger than this is corruption, not data: it bounds what a bit flip in a length can make us allocate. */
export const MAX_RECORD_BYTES = 128 * 1024 * 1024;

export function encodeFrame(data: Uint8Array): Uint8Array {
  const frame = new Uint8Array(FRAME_HEADER_BYTES + data.length);
  const view = new DataView(frame.buffer);
  view.setUint32(0, data.length, true);
  view.setUint32(4, crc32(data), true);
  frame.set(data, FRAME_HEADER_BYTES);
  return frame;
}

export interface ScanResult {
  /** Each record's data, as views into the scanned bytes. */
  records: Uint8Array[];
  /** Byte offset where each record's frame starts. */
  offsets: number[];
  /** Bytes up to the end of the last whole, valid record. */
  validLength: number;
  /** Why scanning stopped before the end; absent when every byte belonged to a valid record. */
  problem?: { offset: number; reason: string };
}

export function scanFrames(bytes: Uint8Array): ScanResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: Uint8Array[] = [];
  const offsets: number[] = [];
  let position = 0;
  while (position < bytes.length) {
    if (bytes.length - position < FRAME_HEADER_BYTES)
      return { records, offsets, validLength: position, problem: { offset: position, reason: 'torn frame header' } };
    const length = view.getUint32(position, true);
    const checksum = view.getUint32(position + 4, true);
    if (length > MAX_RECORD_BYTES)
      return {
        records,
        offsets,
        validLength: position,
        problem: { offset: position, reason: `record length ${length}` },
      };
    const end = position + FRAME_HEADER_BYTES + length;
    if (end > bytes.length)
      return { records, offsets, validLength: position, problem: { offset: position, reason: 'torn record' } };
    const data = bytes.subarray(position + FRAME_HEADER_BYTES, end);
    if (crc32(data) !== checksum)
      return { records, offsets, validLength: position, problem: { offset: position, reason: 'CRC mismatch' } };
    records.push(data);
    offsets.push(position);
    position = end;
  }
  return { records, offsets, validLength: position };
}
