import type { Row } from './query-engine';

/**
 * Turns the query engine's rows into one observation per group. A row carries its group's tag values (as string
 * columns, or under `tags`), `time`, and the aggregate: the `value` column (the alias the rule translation asks for)
 * or else the first numeric column other than `time`. A null or missing aggregate is "no data" for that group.
 */
export interface GroupObservation {
  labels: Record<string, string>;
  value: number | null;
}

export function observationsOf(rows: readonly Row[]): GroupObservation[] {
  const byLabels = new Map<string, GroupObservation>();
  for (const row of rows) {
    const labels: Record<string, string> = {};
    const tags = row.tags;
    if (typeof tags === 'object' && tags !== null)
      for (const [key, value] of Object.entries(tags)) if (typeof value === 'string') labels[key] = value;
    let value: number | null = null;
    for (const [key, cell] of Object.entries(row)) {
      if (key === 'time' || key === 'tags') continue;
      if (typeof cell === 'string') labels[key] = cell;
      else if (typeof cell === 'number' && Number.isFinite(cell) && (key === 'value' || value === null)) value = cell;
    }
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    // With several rows per group (a query with GROUP BY time), the latest one is the current value.
    byLabels.set(key, { labels, value });
  }
  return [...byLabels.values()];
}

/**
 * The offset of a rule's evaluations within its interval: a stable hash of what it queries, so many rules spread
 * over the interval instead of bursting at its start, while rules with the same query and interval share a slot
 * and so share one query.
 */
export function slotOffset(query: string, intervalMs: number): number {
  let hash = 0x811c9dc5;
  const text = `${intervalMs}|${query}`;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % intervalMs;
}

/** The first slot time strictly after `now`: slots are `k * interval + offset`. */
export function nextSlot(now: number, intervalMs: number, offset: number): number {
  return Math.floor((now - offset) / intervalMs) * intervalMs + offset + intervalMs;
}
