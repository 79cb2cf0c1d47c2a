import { crc32c } from './crc32c';
import { countRecords } from './record-batch';

/**
 * One Raft entry as stored in a segment file (see FORMAT.md):
 *
 * frame   := payloadLength u32 | crc32c(payload) u32 | payload
 * payload := index u64 | term u64 | kind u8 | baseOffset u64 | data
 *
 * `baseOffset` is the client offset of the entry's first record; it is a function of the log prefix (the sum of the
 * record counts before this entry), stored so that reads and retention never need the prefix.
 */
export const EntryKind = { Normal: 'normal', Noop: 'noop', Config: 'config' } as const;
export type EntryKind = (typeof EntryKind)[keyof typeof EntryKind];

export interface LogEntry {
  index: number;
  term: number;
  kind: EntryKind;
  data: Uint8Array;
}

export interface StoredEntry extends LogEntry {
  baseOffset: number;
}

export const FRAME_HEADER_BYTES = 8;
export const PAYLOAD_HEADER_BYTES = 25;
/** Larger declared lengths are damage, not data: no entry is allowed to be this big. */
export const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

export const KIND_CODES: Record<EntryKind, number> = { normal: 0, noop: 1, config: 2 };
/** Entry kinds by code; undefined for an unknown code (damage). */
export const KINDS: readonly EntryKind[] = ['normal', 'noop', 'config'];

/** Records an entry contributes to the client offsets: only normal entries carry records. */
export function recordsIn(entry: LogEntry): number {
  switch (entry.kind) {
    case 'normal':
      return countRecords(entry.data);
    case 'noop':
    case 'config':
      return 0;
    default: {
      const exhaustive: never = entry.kind;
      return exhaustive;
    }
  }
}

export const writeUint64 = (out: Buffer, value: number, position: number) => {
  out.writeUInt32LE(value % 0x1_0000_0000, position);
  out.writeUInt32LE(Math.floor(value / 0x1_0000_0000), position + 4);
};
export const readUint64 = (bytes: Buffer, position: number) =>
  bytes.readUInt32LE(position) + bytes.readUInt32LE(position + 4) * 0x1_0000_0000;

export const frameSize = (entry: LogEntry) => FRAME_HEADER_BYTES + PAYLOAD_HEADER_BYTES + entry.data.length;

/** Writes the frame of `entry` into `out` at `position`; returns the position after it. */
export function writeFrame(out: Buffer, position: number, entry: StoredEntry): number {
  const payloadStart = position + FRAME_HEADER_BYTES;
  const payloadLength = PAYLOAD_HEADER_BYTES + entry.data.length;
  out.writeUInt32LE(payloadLength, position);
  writeUint64(out, entry.index, payloadStart);
  writeUint64(out, entry.term, payloadStart + 8);
  out.writeUInt8(KIND_CODES[entry.kind], payloadStart + 16);
  writeUint64(out, entry.baseOffset, payloadStart + 17);
  out.set(entry.data, payloadStart + PAYLOAD_HEADER_BYTES);
  out.writeUInt32LE(crc32c(out, payloadStart, payloadStart + payloadLength), position + 4);
  return payloadStart + payloadLength;
}

export function encodeFrames(entries: readonly StoredEntry[]): Buffer {
  let size = 0;
  for (const entry of entries) size += frameSize(entry);
  const out = Buffer.allocUnsafe(size);
  let position = 0;
  for (const entry of entries) position = writeFrame(out, position, entry);
  return out;
}

export type FrameRead =
  | { kind: 'frame'; entry: StoredEntry; end: number }
  /** The bytes end before the frame does: more data may complete it, or it is a torn tail. */
  | { kind: 'incomplete'; needed: number }
  | { kind: 'damaged'; reason: string; declaredEnd: number };

/** Decodes the frame at `position`. `data` is a view into `bytes` (no copy). Never throws on any input. */
export function readFrame(bytes: Buffer, position: number): FrameRead {
  if (bytes.length - position < FRAME_HEADER_BYTES) return { kind: 'incomplete', needed: FRAME_HEADER_BYTES };
  const payloadLength = bytes.readUInt32LE(position);
  const payloadStart = position + FRAME_HEADER_BYTES;
  const declaredEnd = payloadStart + payloadLength;
  if (payloadLength < PAYLOAD_HEADER_BYTES || payloadLength > MAX_PAYLOAD_BYTES)
    return { kind: 'damaged', reason: `impossible frame length ${payloadLength}`, declaredEnd: -1 };
  if (declaredEnd > bytes.length) return { kind: 'incomplete', needed: FRAME_HEADER_BYTES + payloadLength };
  if (crc32c(bytes, payloadStart, declaredEnd) !== bytes.readUInt32LE(position + 4))
    return { kind: 'damaged', reason: 'checksum mismatch', declaredEnd };
  const kind = KINDS[bytes[payloadStart + 16]];
  if (kind === undefined)
    return { kind: 'damaged', reason: `unknown entry kind ${bytes[payloadStart + 16]}`, declaredEnd };
  const entry: StoredEntry = {
    index: readUint64(bytes, payloadStart),
    term: readUint64(bytes, payloadStart + 8),
    kind,
    baseOffset: readUint64(bytes, payloadStart + 17),
    data: bytes.subarray(payloadStart + PAYLOAD_HEADER_BYTES, declaredEnd),
  };
  if (kind === 'normal' && (entry.data.length < 4 || !Number.isSafeInteger(entry.index)))
    return { kind: 'damaged', reason: 'normal entry without a record batch header', declaredEnd };
  return { kind: 'frame', entry, end: declaredEnd };
}

export interface DecodedFrame {
  entry: StoredEntry;
  /** Position of the frame in the stream. */
  position: number;
  size: number;
}

/**
 * Incremental frame decoder for a byte stream (a segment file read in chunks, a catch-up transfer): chunk boundaries
 * may fall anywhere. After damage it stops and reports where; `pendingBytes` after the last push is an incomplete tail.
 */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);
  private pendingPosition = 0;
  damage: { position: number; reason: string; declaredEnd: number } | undefined;

  constructor(startPosition = 0) {
    this.pendingPosition = startPosition;
  }

  /** Stream position just after the last whole frame decoded. */
  get position(): number {
    return this.pendingPosition;
  }

  get pendingBytes(): number {
    return this.pending.length;
  }

  push(chunk: Uint8Array): DecodedFrame[] {
    if (this.damage) return [];
    const bytes =
      this.pending.length === 0
        ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
        : Buffer.concat([this.pending, chunk]);
    const frames: DecodedFrame[] = [];
    let position = 0;
    for (;;) {
      const read = readFrame(bytes, position);
      if (read.kind === 'incomplete') break;
      if (read.kind === 'damaged') {
        this.damage = {
          position: this.pendingPosition + position,
          reason: read.reason,
          declaredEnd: read.declaredEnd < 0 ? -1 : this.pendingPosition + read.declaredEnd,
        };
        break;
      }
      // Copy out: the chunk belongs to the caller, who may reuse its buffer for the next read.
      read.entry.data = Buffer.from(read.entry.data);
      frames.push({ entry: read.entry, position: this.pendingPosition + position, size: read.end - position });
      position = read.end;
    }
    this.pendingPosition += position;
    this.pending = this.damage ? Buffer.alloc(0) : Buffer.from(bytes.subarray(position));
    return frames;
  }
}
