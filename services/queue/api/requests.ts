import { invalidRequest, valueTooLarge } from '../errors';
import { DEFAULT_TOPIC } from '../topics/topics';
import { BATCH_CONTENT_TYPE, decodeProduceBatch } from './produce-batch';

/**
 * Validation of request bodies and query strings (pure): each function returns a typed request or throws an
 * ApiError naming the field. Values are turned into their stored form (JSON text bytes) here, once.
 */
export interface Limits {
  maxBatchRecords: number;
  maxValueBytes: number;
  maxConsumeCount: number;
  maxWaitMs: number;
}

export interface ProduceRecord {
  key: string;
  value: Buffer;
}

export interface ProduceRequest {
  topic: string;
  records: ProduceRecord[];
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function topicOf(body: Record<string, unknown>): string {
  if (body.topic === undefined) return DEFAULT_TOPIC;
  if (typeof body.topic !== 'string' || body.topic === '') throw invalidRequest('"topic" must be a non-empty string');
  return body.topic;
}

function recordOf(item: unknown, limits: Limits, where: string): ProduceRecord {
  if (!isObject(item)) throw invalidRequest(`${where} must be an object with "key" and "value"`);
  if (item.key !== undefined && typeof item.key !== 'string') throw invalidRequest(`${where}.key must be a string`);
  if (item.value === undefined) throw invalidRequest(`${where}.value is required (any JSON value)`);
  const key = item.key ?? '';
  if (Buffer.byteLength(key) > 1024) throw invalidRequest(`${where}.key is longer than 1024 bytes`);
  const value = Buffer.from(JSON.stringify(item.value), 'utf8');
  if (value.length > limits.maxValueBytes) throw valueTooLarge(limits.maxValueBytes);
  return { key, value };
}

/** `POST /produce`: `{"topic", "key", "value"}`. */
export function parseProduceOne(body: unknown, limits: Limits): ProduceRequest {
  if (!isObject(body)) throw invalidRequest('body must be a JSON object {"topic", "key", "value"}');
  return { topic: topicOf(body), records: [recordOf(body, limits, 'body')] };
}

/** `POST /v1/produce`: `{"topic", "records": [{"key", "value"}, ...]}`. */
export function parseProduceBatch(body: unknown, limits: Limits): ProduceRequest {
  if (!isObject(body)) throw invalidRequest('body must be a JSON object {"topic", "records": [...]}');
  if (!Array.isArray(body.records) || body.records.length === 0)
    throw invalidRequest('"records" must be a non-empty array');
  if (body.records.length > limits.maxBatchRecords)
    throw invalidRequest(`"records" holds more than ${limits.maxBatchRecords} records`, {
      limit_records: limits.maxBatchRecords,
    });
  const records = body.records as unknown[];
  return { topic: topicOf(body), records: records.map((item, index) => recordOf(item, limits, `records[${index}]`)) };
}

type Query = Record<string, unknown>;

/**
 * `POST /v1/produce` in either form: the JSON body of the contract, or the binary batch (`produce-batch.ts`) with
 * the topic in the query string.
 */
export function parseProduceBatchRequest(
  request: { body: unknown; rawBody?: Buffer; contentType?: string; query: Query },
  limits: Limits,
): ProduceRequest {
  if (request.rawBody && isBatchContentType(request.contentType))
    return decodeProduceBatch(request.rawBody, stringParameter(request.query, 'topic', DEFAULT_TOPIC), limits);
  return parseProduceBatch(request.body, limits);
}

export const isBatchContentType = (contentType: string | undefined) =>
  contentType !== undefined && contentType.split(';')[0].trim().toLowerCase() === BATCH_CONTENT_TYPE;

/** A query parameter as a non-negative integer; absent gives `fallback` (or an error when there is none). */
export function integerParameter(query: Query, name: string, fallback?: number): number {
  const raw = query[name];
  if (raw === undefined) {
    if (fallback === undefined) throw invalidRequest(`query parameter "${name}" is required`);
    return fallback;
  }
  if (typeof raw !== 'string' || !/^\d{1,15}$/.test(raw))
    throw invalidRequest(`query parameter "${name}" must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

function stringParameter(query: Query, name: string, fallback?: string): string {
  const raw = query[name] ?? fallback;
  if (typeof raw !== 'string' || raw === '') throw invalidRequest(`query parameter "${name}" is required`);
  return raw;
}

export interface ConsumeRequest {
  topic: string;
  partition: number;
  offset: number;
  count: number;
  waitMs: number;
  /** Serve from this peer's own committed log instead of the leader's. */
  isLocal: boolean;
}

export function parseConsume(query: Query, limits: Limits): ConsumeRequest {
  const count = integerParameter(query, 'count', 100);
  if (count === 0) throw invalidRequest('"count" must be at least 1');
  return {
    topic: stringParameter(query, 'topic', DEFAULT_TOPIC),
    partition: integerParameter(query, 'partition'),
    offset: integerParameter(query, 'offset'),
    count: Math.min(count, limits.maxConsumeCount),
    waitMs: Math.min(integerParameter(query, 'wait_ms', 0), limits.maxWaitMs),
    isLocal: query.local === 'true' || query.local === '1',
  };
}

export interface CommitRequest {
  group: string;
  topic: string;
  partition: number;
  offset: number;
}

const isNonNegativeInteger = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

export function parseCommit(body: unknown): CommitRequest {
  if (!isObject(body)) throw invalidRequest('body must be a JSON object {"group", "topic", "partition", "offset"}');
  if (typeof body.group !== 'string' || body.group === '' || body.group.length > 256)
    throw invalidRequest('"group" must be a non-empty string of at most 256 characters');
  if (!isNonNegativeInteger(body.partition)) throw invalidRequest('"partition" must be a non-negative integer');
  if (!isNonNegativeInteger(body.offset)) throw invalidRequest('"offset" must be a non-negative integer');
  return { group: body.group, topic: topicOf(body), partition: body.partition, offset: body.offset };
}

export function parseOffsetsQuery(query: Query): { group: string; topic: string } {
  return { group: stringParameter(query, 'group'), topic: stringParameter(query, 'topic', DEFAULT_TOPIC) };
}
