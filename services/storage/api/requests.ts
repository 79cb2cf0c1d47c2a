import { SCALAR_PARTIALS, type AggregateSpec } from '../engine/aggregate';
import type { SeriesSelection } from '../engine/engine';
import { invalidRequest } from '../errors';
import { DEFAULT_FIELD, DEFAULT_TENANT, type MatchOp, type Matcher } from '../series/series';

/** Request bodies of `POST /query` and `POST /v1/aggregate` (docs/CONTRACTS.md), validated. Pure. */
export interface QueryRequest {
  selection: SeriesSelection;
  start: number;
  /** Inclusive. */
  end: number;
}

export interface AggregateRequest {
  selection: SeriesSelection;
  spec: AggregateSpec;
}

const OPS: readonly MatchOp[] = ['=', '!=', '=~', '!~'];
const AGGREGATES = ['count', 'sum', 'sumsq', 'min', 'max', 'first', 'last', 'sketch'] as const;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function requireTime(body: Record<string, unknown>, name: string): number {
  const value = body[name];
  if (!Number.isSafeInteger(value))
    throw invalidRequest(`${name} must be an integer number of milliseconds`, { field: name });
  return value as number;
}

function optionalString(body: Record<string, unknown>, name: string, fallback: string): string {
  const value = body[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value === '')
    throw invalidRequest(`${name} must be a non-empty string`, { field: name });
  return value;
}

/** `{"host": "a"}` (equality) or `[{"key", "op", "value"}]`. */
export function parseFilters(filters: unknown): Matcher[] {
  if (filters === undefined || filters === null) return [];
  if (Array.isArray(filters))
    return filters.map((filter, index) => {
      if (
        !isRecord(filter) ||
        typeof filter.key !== 'string' ||
        typeof filter.value !== 'string' ||
        !OPS.includes(filter.op as MatchOp)
      )
        throw invalidRequest(
          `filters[${index}] must be {"key", "op" (one of = != =~ !~), "value"} with string key and value`,
          { field: 'filters' },
        );
      return { key: filter.key, op: filter.op as MatchOp, value: filter.value };
    });
  if (isRecord(filters))
    return Object.entries(filters).map(([key, value]) => {
      if (typeof value !== 'string') throw invalidRequest(`filters.${key} must be a string`, { field: 'filters' });
      return { key, op: '=' as const, value };
    });
  throw invalidRequest('filters must be an object of tag values or a list of matchers', { field: 'filters' });
}

function parseSelection(body: Record<string, unknown>): SeriesSelection {
  const measurement = body.measurement;
  if (typeof measurement !== 'string' || measurement === '')
    throw invalidRequest('measurement must be a non-empty string', { field: 'measurement' });
  return { measurement, field: optionalString(body, 'field', DEFAULT_FIELD), matchers: parseFilters(body.filters) };
}

export function parseQueryRequest(body: unknown): QueryRequest {
  if (!isRecord(body)) throw invalidRequest('the body must be a JSON object');
  const start = requireTime(body, 'start');
  const end = requireTime(body, 'end');
  if (end < start) throw invalidRequest('end must not be before start', { field: 'end' });
  return { selection: parseSelection(body), start, end };
}

export function parseAggregateRequest(body: unknown): AggregateRequest {
  if (!isRecord(body)) throw invalidRequest('the body must be a JSON object');
  const start = requireTime(body, 'start');
  const end = requireTime(body, 'end');
  if (end <= start) throw invalidRequest('end must be after start (end is exclusive)', { field: 'end' });
  const windowMs = body.window_ms ?? 0;
  if (!Number.isSafeInteger(windowMs) || (windowMs as number) < 0)
    throw invalidRequest('window_ms must be a non-negative integer', { field: 'window_ms' });
  const offsetMs = body.offset_ms ?? 0;
  if (!Number.isSafeInteger(offsetMs)) throw invalidRequest('offset_ms must be an integer', { field: 'offset_ms' });
  if ((windowMs as number) > 0 && (end - start) / (windowMs as number) > 1_000_000)
    throw invalidRequest('more than 1,000,000 windows; use a larger window_ms', { field: 'window_ms' });
  const groupBy = body.group_by ?? [];
  if (!Array.isArray(groupBy) || !groupBy.every((key) => typeof key === 'string'))
    throw invalidRequest('group_by must be a list of tag keys (or ["*"])', { field: 'group_by' });
  const aggregates = body.aggregates ?? AGGREGATES;
  if (!Array.isArray(aggregates) || !aggregates.every((name) => AGGREGATES.includes(name)))
    throw invalidRequest(`aggregates must be a list of ${AGGREGATES.join(', ')}`, { field: 'aggregates' });
  return {
    selection: parseSelection(body),
    spec: {
      start,
      end,
      windowMs: windowMs as number,
      offsetMs: offsetMs as number,
      groupBy: groupBy as string[],
      hasSketch: (aggregates as string[]).includes('sketch'),
      partials:
        body.aggregates === undefined
          ? undefined
          : SCALAR_PARTIALS.filter((name) => (aggregates as string[]).includes(name)),
    },
  };
}

/** `X-MetricStream-Tenant`, absent meaning the default tenant. */
export function parseTenant(header: string | string[] | undefined): string {
  if (header === undefined || header === '') return DEFAULT_TENANT;
  if (typeof header !== 'string' || header.length > 256 || header.includes('\0'))
    throw invalidRequest('X-MetricStream-Tenant must be one name of at most 256 characters');
  return header;
}
