/**
 * A series is tenant + measurement + sorted tags + field (STYLE: the data model). Its canonical key string is
 * what the head, blocks and queries join on; ids are local to the head or to one block.
 */
export interface SeriesLabels {
  tenant: string;
  measurement: string;
  /** Sorted by key, keys unique. */
  tags: readonly (readonly [string, string])[];
  field: string;
}

export const DEFAULT_TENANT = 'default';
export const DEFAULT_FIELD = 'value';

export function tagRecord(tags: SeriesLabels['tags']): Record<string, string> {
  const record: Record<string, string> = {};
  for (const [key, value] of tags) record[key] = value;
  return record;
}

/** NUL never appears in valid names (the API rejects it), so it separates the parts unambiguously. */
export function seriesKey(labels: SeriesLabels): string {
  let key = `${labels.tenant}\0${labels.measurement}\0${labels.field}`;
  for (const [name, value] of labels.tags) key += `\0${name}\0${value}`;
  return key;
}

/**
 * The name a series is indexed under: tenant and measurement joined, so one tenant's lookups can never reach another
 * tenant's series; the field is part of the indexed name too, so a lookup is for one field.
 */
export function indexName(tenant: string, measurement: string, field: string): string {
  return `${tenant}\0${measurement}\0${field}`;
}

export function splitIndexName(name: string): { tenant: string; measurement: string; field: string } {
  const [tenant, measurement, field] = name.split('\0');
  return { tenant, measurement, field };
}

/** One validated point: what the API and the queue consumer hand to the engine. */
export interface Point {
  measurement: string;
  /** Sorted by key. */
  tags: [string, string][];
  /** Field name and value; at least one. */
  fields: [string, number][];
  timestamp: number;
}

export type { MatchOp, Matcher } from '../index/tag-index';
