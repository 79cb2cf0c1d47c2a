import http from 'node:http';
import { ApiKeyStore } from '../kit/auth';
import { createApp, finishApp, listen, closeServer, boundPort } from '../kit/http';
import { createLogger } from '../kit/logger';
import { createRegistry } from '../kit/metrics';
import { MemoryCache } from './cache/results-cache';
import { QueryEngine } from './engine';
import { Executor } from './executor/executor';
import { addQueryRoutes } from './routes';
import { startStorageDouble, type StorageDouble } from './testing/storage-double';

const NOW = 1_700_000_000_000;
/** The 5-minute window holding NOW - 10 min (windows align to multiples of the interval). */
const WINDOW = Math.floor((NOW - 10 * 60_000) / 300_000) * 300_000;

describe('query HTTP API', () => {
  let shard: StorageDouble;
  let server: http.Server;
  let base: string;
  let now = NOW;

  async function start(keys?: ApiKeyStore) {
    const executor = new Executor({
      shards: () => [shard.url],
      shardTimeoutMs: 2000,
      limits: { maxSeries: 100, maxPoints: 100_000 },
      workerThresholdBytes: Infinity,
    });
    const engine = new QueryEngine({
      clock: { now: () => now },
      executor,
      shardCount: () => 1,
      planner: { defaultRangeMs: 3_600_000, maxPoints: 100_000, exactPointsLimit: 1000 },
      queryTimeoutMs: 5000,
      maxResponseBytes: 4000,
      cache: new MemoryCache(1 << 20, () => now),
      cacheTtlMs: 60_000,
    });
    const logger = createLogger('query', 'error');
    const { registry, http: httpMetrics } = createRegistry('query');
    const app = createApp({ logger, registry, httpMetrics });
    addQueryRoutes(app, { engine, shards: () => [shard.url], keys, onCache: () => undefined });
    finishApp(app, logger);
    server = await listen(app, 0, '127.0.0.1');
    base = `http://127.0.0.1:${boundPort(server)}`;
  }

  beforeEach(async () => {
    now = NOW;
    shard = await startStorageDouble([
      { measurement: 'cpu_usage', tags: { host: 'server01' }, fields: { value: 70 }, timestamp: NOW - 10 * 60_000 },
      { measurement: 'cpu_usage', tags: { host: 'server01' }, fields: { value: 81 }, timestamp: NOW - 9 * 60_000 },
      { measurement: 'cpu_usage', tags: { host: 'server02' }, fields: { value: 20 }, timestamp: NOW - 9 * 60_000 },
      {
        measurement: 'cpu_usage',
        tags: { host: 'server01' },
        fields: { value: 99 },
        timestamp: NOW - 9 * 60_000,
        tenant: 'team-a',
      },
    ]);
  });
  afterEach(async () => {
    await closeServer(server);
    await shard.close();
  });

  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: response.status, headers: response.headers, body: (await response.json()) as any };
  };

  const DESIGN_QUERY = "SELECT avg(cpu_usage) WHERE host='server01' AND time > now() - 1h GROUP BY time(5m) fill(none)";

  it('answers the design-document query in exactly the design-document shape', async () => {
    await start();
    const answer = await post('/query', { query: DESIGN_QUERY });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ series: [{ time: WINDOW, avg: 75.5 }] });
  });

  it('serves GET /query?q= and the cache on the second ask', async () => {
    await start();
    const first = await fetch(`${base}/query?q=${encodeURIComponent(DESIGN_QUERY)}`);
    expect(first.headers.get('x-cache')).toBe('miss');
    expect(await first.json()).toEqual({ series: [{ time: WINDOW, avg: 75.5 }] });
    now += 1000;
    const second = await fetch(`${base}/query?q=${encodeURIComponent(DESIGN_QUERY)}`);
    expect(second.headers.get('x-cache')).toBe('hit');
    expect(shard.requests).toHaveLength(1);
    const fresh = await fetch(`${base}/query?q=${encodeURIComponent(DESIGN_QUERY)}`, {
      headers: { 'Cache-Control': 'no-cache' },
    });
    expect(fresh.headers.get('x-cache')).toBe('miss');
    expect(shard.requests).toHaveLength(2);
    now += 61_000;
    const expired = await fetch(`${base}/query?q=${encodeURIComponent(DESIGN_QUERY)}`);
    expect(expired.headers.get('x-cache')).toBe('miss');
  });

  it('answers a parse error with 400, its code and position', async () => {
    await start();
    expect(await post('/query', { query: 'SELECT avg(cpu WHERE' })).toEqual(
      expect.objectContaining({
        status: 400,
        body: {
          error: {
            code: 'parse_error',
            message: "expected ')' at 15, found 'WHERE'",
            position: 15,
            errors: [
              { code: 'parse_error', message: 'expected a tag key, time or ( at 20, found end of query', position: 20 },
            ],
          },
        },
      }),
    );
    expect((await post('/query', { query: 'SELECT nope(cpu)' })).body.error.code).toBe('unknown_function');
    expect(
      (await post('/query', { query: 'SELECT avg(cpu) WHERE time > now() AND time < now() - 1h' })).body.error.code,
    ).toBe('empty_time_range');
    expect((await post('/query', { nope: 1 })).body.error.code).toBe('invalid_request');
  });

  it('refuses an answer over the response size limit with 422', async () => {
    await start();
    const answer = await post('/query', { query: 'SELECT count(cpu_usage) WHERE time > now() - 1h GROUP BY time(1s)' });
    expect(answer.status).toBe(422);
    expect(answer.body.error.code).toBe('response_too_large');
  });

  it('answers a batch in order, errors in place', async () => {
    await start();
    const answer = await post('/v1/query/batch', { queries: [DESIGN_QUERY, 'SELECT', 'SHOW MEASUREMENTS'] });
    expect(answer.body).toEqual({
      results: [
        { series: [{ time: WINDOW, avg: 75.5 }] },
        { error: expect.objectContaining({ code: 'parse_error', position: 6 }) },
        { series: [{ name: 'cpu_usage' }] },
      ],
    });
  });

  it('validates without running', async () => {
    await start();
    expect(await post('/v1/validate', { query: DESIGN_QUERY })).toEqual(
      expect.objectContaining({ status: 200, body: { ok: true } }),
    );
    expect((await post('/v1/validate', { query: 'SELECT avg(x) GROUP BY time(0s)' })).body.error).toEqual(
      expect.objectContaining({ code: 'invalid_duration', position: 28 }),
    );
    expect(shard.requests).toHaveLength(0);
  });

  it('answers EXPLAIN with the plan as rows', async () => {
    await start();
    const answer = await post('/query', { query: `EXPLAIN ${DESIGN_QUERY}` });
    expect(answer.body.series[0]).toEqual({ step: 'query', detail: expect.stringContaining('SELECT avg(cpu_usage)') });
    expect(answer.body.series.map((row: { step: string }) => row.step)).toContain('source 1: cpu_usage.value');
  });

  it("with multi-tenancy, needs an API key and scopes storage calls to the key's tenant", async () => {
    await start(ApiKeyStore.parse(JSON.stringify({ keys: [{ key: 'secret-key-a', client: 'c1', tenant: 'team-a' }] })));
    expect((await post('/query', { query: DESIGN_QUERY })).status).toBe(401);
    expect((await post('/query', { query: DESIGN_QUERY }, { authorization: 'Bearer wrong-key-xx' })).status).toBe(401);
    const answer = await post('/query', { query: DESIGN_QUERY }, { authorization: 'Bearer secret-key-a' });
    expect(answer.body).toEqual({ series: [{ time: WINDOW, avg: 99 }] });
    expect(shard.requests.at(-1)!.tenant).toBe('team-a');
  });
});
