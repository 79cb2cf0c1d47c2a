import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP double of the query engine that answers its contract (docs/CONTRACTS.md, "Query") for the queries the
 * alerting service produces: `SELECT <fn>(<measurement>[, n]) [AS value] WHERE <tag = 'v' AND ...> AND time > ...
 * [GROUP BY k, ...]`. The test sets the current value of each series; every aggregate answers the mean of the
 * matching series. Unknown functions are refused the way the engine refuses them (400, code, message, position).
 */
export interface Series {
  measurement: string;
  labels: Record<string, string>;
  value: number;
}

const FUNCTIONS = new Set([
  'avg',
  'mean',
  'sum',
  'min',
  'max',
  'count',
  'last',
  'first',
  'median',
  'percentile',
  'p50',
  'p90',
  'p95',
  'p99',
]);

export interface QueryEngineDouble {
  url: string;
  /** Sets (or with `undefined`, removes) the current value of one series. */
  set(measurement: string, labels: Record<string, string>, value: number | undefined): void;
  /** Each batch request as received. */
  readonly batches: string[][];
  /** Answer every request with this status (e.g. 503) until set back to undefined. */
  failWith: number | undefined;
  /** Delay before answering a batch, in milliseconds. */
  delayMs: number;
  close(): Promise<void>;
}

type Answer = { series: Record<string, unknown>[] } | { error: { code: string; message: string; position?: number } };

function check(query: string): { code: string; message: string; position: number } | undefined {
  const match = /^\s*select\s+([A-Za-z_]\w*)\s*\(/i.exec(query);
  if (!match) return { code: 'parse_error', message: 'expected SELECT at 0', position: 0 };
  const name = match[1].toLowerCase();
  if (!FUNCTIONS.has(name)) {
    const position = query.indexOf(match[1]);
    return { code: 'unknown_function', message: `unknown function '${match[1]}' at ${position}`, position };
  }
  return undefined;
}

export async function startQueryEngineDouble(): Promise<QueryEngineDouble> {
  const series = new Map<string, Map<string, Series>>();
  const batches: string[][] = [];

  function answer(query: string): Answer {
    const problem = check(query);
    if (problem) return { error: problem };
    const measurement = /\(\s*"?([A-Za-z_][\w.:]*)"?/.exec(query)![1];
    const where = /\bwhere\b(.*?)(\bgroup\s+by\b|$)/i.exec(query)?.[1] ?? '';
    const filters = [...where.matchAll(/([A-Za-z_]\w*)\s*(=|!=)\s*'([^']*)'/g)].map((match) => ({
      key: match[1],
      operator: match[2],
      value: match[3],
    }));
    const groupBy = (/\bgroup\s+by\s+(.*)$/i.exec(query)?.[1] ?? '')
      .split(',')
      .map((key) => key.trim())
      .filter((key) => key !== '');
    const groups = new Map<string, { labels: Record<string, string>; values: number[] }>();
    for (const one of series.get(measurement)?.values() ?? []) {
      if (!filters.every((filter) => (one.labels[filter.key] === filter.value) === (filter.operator === '='))) continue;
      const labels = Object.fromEntries(groupBy.map((key) => [key, one.labels[key] ?? '']));
      const key = JSON.stringify(labels);
      const group = groups.get(key) ?? { labels, values: [] };
      group.values.push(one.value);
      groups.set(key, group);
    }
    return {
      series: [...groups.values()].map((group) => ({
        time: Date.now() - 60_000,
        value: group.values.reduce((sum, value) => sum + value, 0) / group.values.length,
        ...group.labels,
      })),
    };
  }

  const double: QueryEngineDouble = {
    url: '',
    batches,
    failWith: undefined,
    delayMs: 0,
    set(measurement, labels, value) {
      const key = JSON.stringify(Object.entries(labels).sort());
      const ofMeasurement = series.get(measurement) ?? new Map<string, Series>();
      series.set(measurement, ofMeasurement);
      if (value === undefined) ofMeasurement.delete(key);
      else ofMeasurement.set(key, { measurement, labels, value });
    },
    close: async () => undefined,
  };

  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (double.failWith !== undefined)
        return reply(double.failWith, { error: { code: 'no_shards', message: 'failing on purpose' } });
      let body: { query?: string; queries?: string[] };
      try {
        body = JSON.parse(Buffer.concat(parts).toString('utf8'));
      } catch {
        return reply(400, { error: { code: 'invalid_json', message: 'bad json' } });
      }
      if (req.url === '/v1/validate') {
        const problem = check(body.query ?? '');
        return problem ? reply(400, { error: problem }) : reply(200, { ok: true });
      }
      if (req.url === '/query') {
        const result = answer(body.query ?? '');
        return 'error' in result ? reply(400, result) : reply(200, result);
      }
      if (req.url === '/v1/query/batch') {
        const queries = body.queries ?? [];
        batches.push(queries);
        const results = queries.map(answer);
        if (double.delayMs > 0) setTimeout(() => reply(200, { results }), double.delayMs);
        else reply(200, { results });
        return;
      }
      reply(404, { error: { code: 'not_found', message: req.url } });
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  double.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  double.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return double;
}
