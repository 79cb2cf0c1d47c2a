import { seededRandom } from '../../kit/clock';
import { QueryEngine } from '../engine';
import { QueryError } from '../errors';
import type { SelectStatement } from '../parser/ast';
import { parse } from '../parser/parser';
import { print } from '../parser/printer';
import { bruteForce } from '../testing/oracle';
import { expectRowsClose, generatePoints, randomStatement } from '../testing/random-queries';
import { startStorageDouble, type StorageDouble } from '../testing/storage-double';
import { Executor } from './executor';

const NOW = 1_700_000_000_000;
const PLANNER = { defaultRangeMs: 3_600_000, maxPoints: 1_000_000, exactPointsLimit: 1_000_000 };

function makeEngine(
  shards: StorageDouble[],
  overrides: { exactPointsLimit?: number; shardTimeoutMs?: number; queryTimeoutMs?: number; maxPoints?: number } = {},
) {
  const executor = new Executor({
    shards: () => shards.map((shard) => shard.url),
    shardTimeoutMs: overrides.shardTimeoutMs ?? 5000,
    limits: { maxSeries: 10_000, maxPoints: overrides.maxPoints ?? 1_000_000 },
    workerThresholdBytes: Infinity,
  });
  return new QueryEngine({
    clock: { now: () => NOW },
    executor,
    shardCount: () => shards.length,
    planner: { ...PLANNER, exactPointsLimit: overrides.exactPointsLimit ?? PLANNER.exactPointsLimit },
    queryTimeoutMs: overrides.queryTimeoutMs ?? 10_000,
    maxResponseBytes: 10 * 1024 * 1024,
    cacheTtlMs: 0,
  });
}

async function run(engine: QueryEngine, query: string, allowPartial = false) {
  const outcome = await engine.run({ query, allowPartial, signal: new AbortController().signal });
  return JSON.parse(outcome.body) as { series: Record<string, number | string | null>[]; missing_shards?: string[] };
}

describe('executor against a brute-force evaluation', () => {
  const random = seededRandom(Number(process.env.QUERY_SEED ?? 20261126));
  const points = generatePoints(random, 1500, NOW);
  let whole: StorageDouble;
  let halves: StorageDouble[];

  beforeAll(async () => {
    whole = await startStorageDouble(points);
    const split = seededRandom(7);
    const left = points.filter(() => split() < 0.5);
    const right = points.filter((point) => !left.includes(point));
    halves = [await startStorageDouble(left), await startStorageDouble(right)];
  });
  afterAll(async () => {
    await Promise.all([whole, ...halves].map((double) => double.close()));
  });

  it('answers random queries like the oracle, on one shard and split over two', async () => {
    const single = makeEngine([whole]);
    const sharded = makeEngine(halves);
    for (let iteration = 0; iteration < 150; iteration++) {
      const statement = randomStatement(random);
      const query = print(statement);
      const expected = bruteForce(parse(query) as SelectStatement, points, { ...PLANNER, now: NOW });
      const context = `seed ${process.env.QUERY_SEED ?? 20261126}, query ${iteration}: ${query}`;
      expectRowsClose((await run(single, query)).series, expected, 1e-9, context);
      expectRowsClose((await run(sharded, query)).series, expected, 1e-9, context);
    }
  });

  it('merges DDSketches from two shards within the 1% relative error when the range is too big to be exact', async () => {
    const sketched = makeEngine(halves, { exactPointsLimit: 0 });
    for (const query of [
      'SELECT p95(cpu), median(cpu), percentile(cpu, 10) WHERE time > now() - 3h GROUP BY time(30m), host',
      'SELECT p99(value), p50(value) FROM cpu WHERE time > now() - 2h',
    ]) {
      const expected = bruteForce(parse(query) as SelectStatement, points, { ...PLANNER, now: NOW });
      expectRowsClose((await run(sketched, query)).series, expected, 0.0101, query);
    }
    const aggregateCalls = halves[0].requests.filter((request) => request.path === '/v1/aggregate');
    expect(aggregateCalls.at(-1)!.body).toMatchObject({ aggregates: ['count', 'sketch'], group_by: [] });
  });

  it('answers the design-document query in the design-document shape', async () => {
    const answer = await run(
      makeEngine(halves),
      "SELECT avg(cpu) WHERE host='a' AND time > now() - 1h GROUP BY time(5m) fill(none)",
    );
    expect(answer.series.length).toBeGreaterThan(0);
    for (const row of answer.series) expect(Object.keys(row)).toEqual(['time', 'avg']);
    const grouped = await run(
      makeEngine(halves),
      'SELECT avg(cpu) AS load WHERE time > now() - 1h GROUP BY time(5m), host fill(none)',
    );
    expect(Object.keys(grouped.series[0])).toEqual(['time', 'host', 'load']);
  });

  it('pushes filters, windows, grouping and the needed partials down to /v1/aggregate', async () => {
    const shard = await startStorageDouble(points);
    try {
      await run(
        makeEngine([shard]),
        'SELECT avg(cpu), stddev(cpu), spread(cpu) WHERE host =~ /a|b/ AND time > now() - 1h GROUP BY time(5m, 1m), host',
      );
      expect(shard.requests).toEqual([
        {
          path: '/v1/aggregate',
          tenant: undefined,
          body: {
            measurement: 'cpu',
            field: 'value',
            start: NOW - 3_600_000 + 1,
            end: NOW + 1,
            filters: [{ key: 'host', op: '=~', value: '.*(?:a|b).*' }],
            window_ms: 300_000,
            offset_ms: 60_000,
            group_by: ['host'],
            aggregates: ['count', 'sum', 'sumsq', 'min', 'max'],
          },
        },
      ]);
    } finally {
      await shard.close();
    }
  });

  it('answers a large-range quantile query with exactly one windowed aggregate call per shard', async () => {
    const query = 'SELECT p95(cpu), median(cpu) WHERE time > now() - 3h GROUP BY time(30m), host';
    const expected = bruteForce(parse(query) as SelectStatement, points, { ...PLANNER, now: NOW });
    halves.forEach((shard) => (shard.requests.length = 0));
    expectRowsClose((await run(makeEngine(halves, { exactPointsLimit: 10 }), query)).series, expected, 0.0101, query);
    for (const shard of halves)
      expect(shard.requests).toEqual([
        {
          path: '/v1/aggregate',
          tenant: undefined,
          body: expect.objectContaining({ window_ms: 1_800_000, group_by: ['host'], aggregates: ['count', 'sketch'] }),
        },
      ]);
  });

  it('computes quantiles exactly from raw points when the first pass counts few enough', async () => {
    const query = 'SELECT p95(cpu), median(cpu) WHERE time > now() - 3h GROUP BY time(30m), host';
    const expected = bruteForce(parse(query) as SelectStatement, points, { ...PLANNER, now: NOW });
    halves.forEach((shard) => (shard.requests.length = 0));
    expectRowsClose((await run(makeEngine(halves), query)).series, expected, 1e-9, query);
    for (const shard of halves)
      expect(shard.requests).toEqual([
        {
          path: '/v1/aggregate',
          tenant: undefined,
          body: expect.objectContaining({ window_ms: 1_800_000, aggregates: ['count', 'sketch'] }),
        },
        { path: '/query', tenant: undefined, body: expect.objectContaining({ measurement: 'cpu' }) },
      ]);
  });

  it('answers SHOW statements from the union of the shards', async () => {
    const engine = makeEngine(halves);
    expect((await run(engine, 'SHOW MEASUREMENTS')).series).toEqual([
      { name: 'cpu' },
      { name: 'mem' },
      { name: 'requests' },
    ]);
    expect((await run(engine, 'SHOW TAG KEYS FROM cpu')).series).toEqual([
      { measurement: 'cpu', tagKey: 'host' },
      { measurement: 'cpu', tagKey: 'region' },
    ]);
    expect((await run(engine, 'SHOW TAG VALUES FROM mem WITH KEY = region')).series).toEqual([
      { measurement: 'mem', key: 'region', value: 'east' },
      { measurement: 'mem', key: 'region', value: 'west' },
    ]);
  });
});

describe('shard failures', () => {
  let healthy: StorageDouble;
  let broken: StorageDouble;
  const points = generatePoints(seededRandom(3), 200, NOW);

  beforeEach(async () => {
    healthy = await startStorageDouble(points);
    broken = await startStorageDouble(points);
  });
  afterEach(async () => {
    await Promise.all([healthy.close(), broken.close()]);
  });

  const failure = async (promise: Promise<unknown>) => {
    try {
      await promise;
    } catch (error) {
      return error as QueryError;
    }
    throw new Error('expected the query to fail');
  };

  it('fails with shard_failed naming the shard that answered 500', async () => {
    broken.failWith = 500;
    const error = await failure(run(makeEngine([healthy, broken]), 'SELECT count(cpu)'));
    expect(error).toBeInstanceOf(QueryError);
    expect(error.code).toBe('shard_failed');
    expect(error.details).toEqual({ shard: broken.url });
    expect(error.message).toContain('injected failure');
  });

  it('fails with shard_failed when a shard is down', async () => {
    await broken.close();
    const error = await failure(run(makeEngine([healthy, broken]), 'SELECT count(cpu)'));
    expect(error.code).toBe('shard_failed');
    expect(error.details).toEqual({ shard: broken.url });
  });

  it('fails with shard_timeout naming the slow shard', async () => {
    broken.delayMs = 1000;
    const error = await failure(run(makeEngine([healthy, broken], { shardTimeoutMs: 100 }), 'SELECT count(cpu)'));
    expect(error.code).toBe('shard_timeout');
    expect(error.details).toEqual({ shard: broken.url });
  });

  it('answers from the healthy shards with missing_shards when partial answers are allowed', async () => {
    broken.failWith = 503;
    const answer = await run(makeEngine([healthy, broken]), 'SELECT count(cpu)', true);
    const alone = await run(makeEngine([healthy]), 'SELECT count(cpu)');
    expect(answer.missing_shards).toEqual([broken.url]);
    expect(answer.series).toEqual(alone.series);
  });

  it('fails with query_timeout when the whole query runs too long', async () => {
    healthy.delayMs = 500;
    broken.delayMs = 500;
    const engine = makeEngine([healthy, broken], { queryTimeoutMs: 100, shardTimeoutMs: 5000 });
    expect((await failure(run(engine, 'SELECT count(cpu)'))).code).toBe('query_timeout');
  });

  it('refuses a rate over more raw points than the limit before fetching them', async () => {
    const engine = makeEngine([healthy, broken], { maxPoints: 10 });
    const error = await failure(run(engine, 'SELECT rate(requests) WHERE time > now() - 3h'));
    expect(error.code).toBe('too_many_points');
    expect(healthy.requests.map((request) => request.path)).toEqual(['/v1/aggregate']);
  });

  it('stops the shard calls when the caller aborts', async () => {
    broken.delayMs = 2000;
    const controller = new AbortController();
    const engine = makeEngine([healthy, broken]);
    const pending = engine.run({ query: 'SELECT count(cpu)', allowPartial: false, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('client disconnected')), 50);
    const started = Date.now();
    await expect(pending).rejects.toThrow('client disconnected');
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
