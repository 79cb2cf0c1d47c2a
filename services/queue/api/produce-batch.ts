import { isUtf8 } from 'node:buffer';
import { invalidRequest, valueTooLarge } from '../errors';
import { isJsonText } from './json-text';
import type { Limits, ProduceRecord, ProduceRequest } from './requests';

/**
 * The binary form of a produce batch (`Content-Type: application/x-metricstream-batch`, API.md), an addition to the
 * JSON body: values travel as the JSON text they are stored as, so the peer neither parses nor re-serialises them.
 *
 * batch  := count u32 | record{count}
 * record := keyLength u16 | key (UTF-8) | valueLength u32 | value (JSON text, UTF-8)
 * (little-endian)
 */
export const BATCH_CONTENT_TYPE = 'application/x-metricstream-batch';

export const MAX_KEY_BYTES = 1024;

export function encodeProduceBatch(records: ReadonlyArray<{ key: string; value: Uint8Array }>): Buffer {
  let size = 4;
  for (const record of records) size += 6 + Buffer.byteLength(record.key) + record.value.length;
  const out = Buffer.allocUnsafe(size);
  out.writeUInt32LE(records.length, 0);
  let position = 4;
  for (const record of records) {
    const keyLength = out.write(record.key, position + 2, 'utf8');
    out.writeUInt16LE(keyLength, position);
    position += 2 + keyLength;
    out.writeUInt32LE(record.value.length, position);
    out.set(record.value, position + 4);
    position += 4 + record.value.length;
  }
  return out;
}

function isAscii(bytes: Uint8Array, start: number, end: number): boolean {
  for (let position = start; position < end; position++) if (bytes[position] >= 0x80) return false;
  return true;
}

/**
 * Decodes and validates a binary batch; values are views into `body` (no copy). Every value must be one JSON value,
 * exactly as the JSON contract requires; the limits are the JSON contract's.
 */
export function decodeProduceBatch(body: Buffer, topic: string, limits: Limits): ProduceRequest {
  if (body.length < 4) throw invalidRequest('a binary batch starts with its record count (u32)');
  const count = body.readUInt32LE(0);
  if (count === 0) throw invalidRequest('the batch holds no records');
  if (count > limits.maxBatchRecords)
    throw invalidRequest(`the batch holds more than ${limits.maxBatchRecords} records`, {
      limit_records: limits.maxBatchRecords,
    });
  const records = new Array<ProduceRecord>(count);
  let position = 4;
  for (let index = 0; index < count; index++) {
    if (position + 2 > body.length) throw invalidRequest(`record ${index} runs past the body`);
    const keyLength = body.readUInt16LE(position);
    const keyStart = position + 2;
    if (keyLength > MAX_KEY_BYTES) throw invalidRequest(`record ${index}: key is longer than ${MAX_KEY_BYTES} bytes`);
    if (keyStart + keyLength + 4 > body.length) throw invalidRequest(`record ${index} runs past the body`);
    const valueLength = body.readUInt32LE(keyStart + keyLength);
    const valueStart = keyStart + keyLength + 4;
    const valueEnd = valueStart + valueLength;
    if (valueEnd > body.length) throw invalidRequest(`record ${index} runs past the body`);
    if (valueLength > limits.maxValueBytes) throw valueTooLarge(limits.maxValueBytes);
    if (!isJsonText(body, valueStart, valueEnd))
      throw invalidRequest(`record ${index}: value is not one JSON value in UTF-8`);
    if (
      keyLength > 0 &&
      !isAscii(body, keyStart, keyStart + keyLength) &&
      !isUtf8(body.subarray(keyStart, keyStart + keyLength))
    )
      throw invalidRequest(`record ${index}: key is not UTF-8`);
    records[index] = {
      key: body.toString('utf8', keyStart, keyStart + keyLength),
      value: body.subarray(valueStart, valueEnd),
    };
    position = valueEnd;
  }
  if (position !== body.length) throw invalidRequest('bytes left after the last record');
  return { topic, records };
}

/**
 * Produce batches a peer forwards to the leader of their partitions, several partitions in one request
 * (`POST /v1/internal/append` with the batch content type). Values were validated by the peer that accepted them.
 *
 * body := count u32 | part{count}
 * part := topicLength u16 | topic (UTF-8) | partition u32 | deadline f64 (ms since the epoch) | batchLength u32 | batch
 */
export interface ForwardedPart {
  topic: string;
  partition: number;
  deadline: number;
  records: ProduceRecord[];
}

export function encodeForwardedParts(parts: ReadonlyArray<Omit<ForwardedPart, 'records'> & { batch: Buffer }>): Buffer {
  let size = 4;
  for (const part of parts) size += 2 + Buffer.byteLength(part.topic) + 4 + 8 + 4 + part.batch.length;
  const out = Buffer.allocUnsafe(size);
  out.writeUInt32LE(parts.length, 0);
  let position = 4;
  for (const part of parts) {
    const topicLength = out.write(part.topic, position + 2, 'utf8');
    out.writeUInt16LE(topicLength, position);
    position += 2 + topicLength;
    out.writeUInt32LE(part.partition, position);
    out.writeDoubleLE(part.deadline, position + 4);
    out.writeUInt32LE(part.batch.length, position + 12);
    position += 16;
    out.set(part.batch, position);
    position += part.batch.length;
  }
  return out;
}

export function decodeForwardedParts(body: Buffer): ForwardedPart[] {
  if (body.length < 4) throw invalidRequest('a forwarded append starts with its part count (u32)');
  const count = body.readUInt32LE(0);
  const parts: ForwardedPart[] = [];
  let position = 4;
  for (let index = 0; index < count; index++) {
    if (position + 2 > body.length) throw invalidRequest(`part ${index} runs past the body`);
    const topicLength = body.readUInt16LE(position);
    const headerEnd = position + 2 + topicLength + 16;
    if (headerEnd > body.length) throw invalidRequest(`part ${index} runs past the body`);
    const topic = body.toString('utf8', position + 2, position + 2 + topicLength);
    position += 2 + topicLength;
    const partition = body.readUInt32LE(position);
    const deadline = body.readDoubleLE(position + 4);
    const batchLength = body.readUInt32LE(position + 12);
    position += 16;
    if (position + batchLength > body.length) throw invalidRequest(`part ${index} runs past the body`);
    parts.push({ topic, partition, deadline, records: readRecords(body.subarray(position, position + batchLength)) });
    position += batchLength;
  }
  if (position !== body.length) throw invalidRequest('bytes left after the last part');
  return parts;
}

/** The records of a batch already validated by a peer: only its framing is checked. */
function readRecords(batch: Buffer): ProduceRecord[] {
  if (batch.length < 4) throw invalidRequest('a batch starts with its record count (u32)');
  const count = batch.readUInt32LE(0);
  const records: ProduceRecord[] = [];
  let position = 4;
  for (let index = 0; index < count; index++) {
    if (position + 2 > batch.length) throw invalidRequest(`record ${index} runs past the batch`);
    const keyEnd = position + 2 + batch.readUInt16LE(position);
    if (keyEnd + 4 > batch.length) throw invalidRequest(`record ${index} runs past the batch`);
    const valueEnd = keyEnd + 4 + batch.readUInt32LE(keyEnd);
    if (valueEnd > batch.length) throw invalidRequest(`record ${index} runs past the batch`);
    records.push({ key: batch.toString('utf8', position + 2, keyEnd), value: batch.subarray(keyEnd + 4, valueEnd) });
    position = valueEnd;
  }
  if (position !== batch.length) throw invalidRequest('bytes left after the last record');
  return records;
}
