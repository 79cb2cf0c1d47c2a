import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DDSketch } from '../../kit/sketch';

/**
 * An in-memory stand-in for one storage shard implementing the contract the query engine codes against
 * (docs/CONTRACTS.md): `POST /v1/aggregate`, `POST /query` and the metadata endpoints, over raw points.
 * Used by the executor tests (one double per shard) and by the benchmark when no real storage runs.
 */
export interface StoredPoint {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, number>;
  timestamp: number;
  tenant?: string;
}

interface Matcher {
  key: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

export interface StorageDouble {
  url: string;
  points: StoredPoint[];
  /** Every request body received, for assertions on push-down. */
  requests: { path: string; body: unknown; tenant?: string }[];
  /** Answer every request with this status (a failing shard) until cleared. */
  failWith?: number;
  /** Hold every answer this long (a slow shard). */
  delayMs: number;
  close(): Promise<void>;
}

function matches(tags: Record<string, string>, filters: unknown): boolean {
  const list: Matcher[] = Array.isArray(filters)
    ? filters
    : Object.entries((filters ?? {}) as Record<string, string>).map(([key, value]) => ({ key, op: '=', value }));
  return list.every(({ key, op, value }) => {
    const actual = tags[key] ?? '';
    switch (op) {
      case '=':
        return actual === value;
      case '!=':
        return actual !== value;
      // Anchored, as storage's tag index matches (Prometheus style).
      case '=~':
        return new RegExp(`^(?:${value})$`, 's').test(actual);
      case '!~':
        return !new RegExp(`^(?:${value})$`, 's').test(actual);
    }
  });
}

interface Query {
  measurement: string;
  field?: string;
  start: number;
  end: number;
  filters?: unknown;
}

function select(points: StoredPoint[], query: Query, tenant: string, isEndInclusive: boolean) {
  const field = query.field ?? 'value';
  return points.filter(
    (point) =>
      (point.tenant ?? 'default') === tenant &&
      point.measurement === query.measurement &&
      typeof point.fields[field] === 'number' &&
      point.timestamp >= query.start &&
      (isEndInclusive ? point.timestamp <= query.end : point.timestamp < query.end) &&
      matches(point.tags, query.filters),
  );
}

interface AggregateQuery extends Query {
  window_ms?: number;
  offset_ms?: number;
  group_by?: string[];
  aggregates: string[];
}

function aggregate(points: StoredPoint[], query: AggregateQuery, tenant: string) {
  const field = query.field ?? 'value';
  const window = query.window_ms ?? 0;
  const offset = query.offset_ms ?? 0;
  const groupBy = query.group_by ?? [];
  const groups = new Map<string, { tags: Record<string, string>; windows: Map<number, StoredPoint[]> }>();
  for (const point of select(points, query, tenant, false)) {
    const tags: Record<string, string> = {};
    if (groupBy.includes('*')) Object.assign(tags, point.tags);
    else for (const key of groupBy) if (point.tags[key] !== undefined) tags[key] = point.tags[key];
    const key = JSON.stringify(Object.entries(tags).sort());
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { tags, windows: new Map() }));
    const start = window > 0 ? Math.floor((point.timestamp - offset) / window) * window + offset : query.start;
    const list = group.windows.get(start) ?? [];
    list.push(point);
    group.windows.set(start, list);
  }
  const wanted = new Set(query.aggregates);
  return {
    groups: [...groups.values()].map(({ tags, windows }) => ({
      tags,
      windows: [...windows.entries()]
        .sort(([a], [b]) => a - b)
        .map(([start, list]) => {
          const values = list.map((point) => point.fields[field]);
          const byTime = [...list].sort((a, b) => a.timestamp - b.timestamp);
          const result: Record<string, unknown> = { start };
          if (wanted.has('count')) result.count = values.length;
          if (wanted.has('sum')) result.sum = values.reduce((sum, value) => sum + value, 0);
          if (wanted.has('sumsq')) result.sumsq = values.reduce((sum, value) => sum + value * value, 0);
          if (wanted.has('min')) result.min = values.reduce((min, value) => Math.min(min, value), Infinity);
          if (wanted.has('max')) result.max = values.reduce((max, value) => Math.max(max, value), -Infinity);
          if (wanted.has('first')) {
            result.first = byTime[0].fields[field];
            result.first_time = byTime[0].timestamp;
          }
          if (wanted.has('last')) {
            result.last = byTime[byTime.length - 1].fields[field];
            result.last_time = byTime[byTime.length - 1].timestamp;
          }
          if (wanted.has('sketch')) {
            const sketch = new DDSketch(0.01);
            values.forEach((value) => sketch.add(value));
            result.sketch = sketch.toWire();
          }
          return result;
        }),
    })),
  };
}

const distinct = (values: Iterable<string>) => [...new Set(values)].sort();

export async function startStorageDouble(points: StoredPoint[] = []): Promise<StorageDouble> {
  const double: StorageDouble = { url: '', points, requests: [], delayMs: 0, close: async () => undefined };
  const pending = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://double');
      const tenant = (req.headers['x-metricstream-tenant'] as string | undefined) ?? 'default';
      const body: unknown = parts.length ? JSON.parse(Buffer.concat(parts).toString()) : undefined;
      double.requests.push({
        path: url.pathname,
        body,
        tenant: req.headers['x-metricstream-tenant'] as string | undefined,
      });
      const reply = (status: number, payload: unknown) => {
        const send = () => {
          if (res.destroyed) return;
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(payload));
        };
        if (double.delayMs > 0) {
          const timer = setTimeout(() => {
            pending.delete(timer);
            send();
          }, double.delayMs);
          pending.add(timer);
        } else send();
      };
      if (double.failWith) return reply(double.failWith, { error: { code: 'internal', message: 'injected failure' } });
      const mine = double.points.filter((point) => (point.tenant ?? 'default') === tenant);
      switch (url.pathname) {
        case '/healthz':
          return reply(200, { status: 'ok' });
        case '/v1/aggregate':
          return reply(200, aggregate(double.points, body as AggregateQuery, tenant));
        case '/query': {
          const query = body as Query;
          const field = query.field ?? 'value';
          return reply(200, {
            data_points: select(double.points, query, tenant, true).map((point) => ({
              timestamp: point.timestamp,
              value: point.fields[field],
              tags: point.tags,
            })),
          });
        }
        case '/v1/measurements':
          return reply(200, { measurements: distinct(mine.map((point) => point.measurement)) });
        case '/v1/tag-keys': {
          const measurement = url.searchParams.get('measurement');
          const keys = mine
            .filter((point) => point.measurement === measurement)
            .flatMap((point) => Object.keys(point.tags));
          return reply(200, { tag_keys: distinct(keys) });
        }
        case '/v1/tag-values': {
          const measurement = url.searchParams.get('measurement');
          const key = url.searchParams.get('key') ?? '';
          const values = mine
            .filter((point) => point.measurement === measurement && point.tags[key] !== undefined)
            .map((point) => point.tags[key]);
          return reply(200, { tag_values: distinct(values) });
        }
        default:
          return reply(404, { error: { code: 'not_found', message: url.pathname } });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  double.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  double.close = () =>
    new Promise<void>((resolve) => {
      pending.forEach((timer) => clearTimeout(timer));
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return double;
}
