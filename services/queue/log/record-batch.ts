/**
 * The data of a normal Raft entry: the client records it carries, already in their stored form, so the log, the Raft
 * messages and the segment files all move the same bytes without re-encoding them.
 *
 * batch  := count u32 | record{count}
 * record := timestamp f64 | keyLength u16 | key (UTF-8) | valueLength u32 | value (the JSON text of the value)
 * (little-endian throughout)
 */
export interface QueueRecord {
  key: string;
  /** The value's JSON text as UTF-8 bytes. */
  value: Uint8Array;
  /** Milliseconds since the epoch, set by the leader that accepted the record. */
  timestamp: number;
}

export const MAX_KEY_BYTES = 0xffff;

export class RecordBatchError extends Error {
  override readonly name = 'RecordBatchError';
}

/** Encodes records whose keys are given as UTF-8 bytes (the hot path encodes each key once). */
export function encodeRecordBatch(records: readonly QueueRecord[]): Buffer {
  const keys = records.map((record) => Buffer.from(record.key, 'utf8'));
  let size = 4;
  for (let index = 0; index < records.length; index++) {
    if (keys[index].length > MAX_KEY_BYTES) throw new RecordBatchError(`key longer than ${MAX_KEY_BYTES} bytes`);
    size += 8 + 2 + keys[index].length + 4 + records[index].value.length;
  }
  const out = Buffer.allocUnsafe(size);
  out.writeUInt32LE(records.length, 0);
  let position = 4;
  for (let index = 0; index < records.length; index++) {
    const record = records[index];
    out.writeDoubleLE(record.timestamp, position);
    out.writeUInt16LE(keys[index].length, position + 8);
    position += 10;
    position += keys[index].copy(out, position);
    out.writeUInt32LE(record.value.length, position);
    position += 4;
    out.set(record.value, position);
    position += record.value.length;
  }
  return out;
}

const asBuffer = (bytes: Uint8Array) =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** Number of records in a batch, read from its header alone. */
export function countRecords(batch: Uint8Array): number {
  if (batch.length < 4) throw new RecordBatchError('record batch shorter than its header');
  return asBuffer(batch).readUInt32LE(0);
}

/**
 * Calls `visit` for each record from the `skip`-th on, until it returns false. Values are views into `batch`
 * (no copy); the caller copies what it keeps beyond the batch's lifetime.
 */
export function forEachRecord(
  batch: Uint8Array,
  skip: number,
  visit: (key: string, value: Uint8Array, timestamp: number, indexInBatch: number) => boolean,
): void {
  const bytes = asBuffer(batch);
  const count = countRecords(bytes);
  let position = 4;
  for (let index = 0; index < count; index++) {
    if (position + 10 > bytes.length) throw new RecordBatchError(`record ${index} runs past the batch`);
    const timestamp = bytes.readDoubleLE(position);
    const keyLength = bytes.readUInt16LE(position + 8);
    const keyStart = position + 10;
    if (keyStart + keyLength + 4 > bytes.length) throw new RecordBatchError(`record ${index} runs past the batch`);
    const valueLength = bytes.readUInt32LE(keyStart + keyLength);
    const valueStart = keyStart + keyLength + 4;
    if (valueStart + valueLength > bytes.length) throw new RecordBatchError(`record ${index} runs past the batch`);
    position = valueStart + valueLength;
    if (index < skip) continue;
    const key = bytes.toString('utf8', keyStart, keyStart + keyLength);
    if (!visit(key, bytes.subarray(valueStart, valueStart + valueLength), timestamp, index)) return;
  }
  if (position !== bytes.length) throw new RecordBatchError('trailing bytes after the last record');
}

export function decodeRecordBatch(batch: Uint8Array): QueueRecord[] {
  const records: QueueRecord[] = [];
  forEachRecord(batch, 0, (key, value, timestamp) => {
    records.push({ key, value: Uint8Array.from(value), timestamp });
    return true;
  });
  return records;
}
