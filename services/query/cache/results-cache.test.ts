import { Redis } from 'ioredis';
import { createLogger } from '../../kit/logger';
import { startRedis, type ManagedProcess } from '../../kit/testing/processes';
import type { SelectStatement } from '../parser/ast';
import { parse } from '../parser/parser';
import { planSelect } from '../planner/planner';
import { cacheKey, cacheLifetime, MemoryCache, RedisCache } from './results-cache';

const OPTIONS = { defaultRangeMs: 3_600_000, maxPoints: 100_000, exactPointsLimit: 1000 };
const keyAt = (query: string, now: number, tenant = 'default') =>
  cacheKey(planSelect(parse(query) as SelectStatement, { ...OPTIONS, now }), tenant, 60_000);

describe('cacheKey', () => {
  const DASHBOARD = 'SELECT avg(cpu) WHERE time > now() - 1h GROUP BY time(5m)';
  const BASE = 1_700_000_100_000; // 100 s into a 5-minute window

  it('is the same while now() stays in one window and changes with the next', () => {
    expect(keyAt(DASHBOARD, BASE)).toBe(keyAt(DASHBOARD, BASE + 60_000));
    expect(keyAt(DASHBOARD, BASE)).not.toBe(keyAt(DASHBOARD, BASE + 300_000));
  });

  it('keeps a short relative range no longer than the range itself', () => {
    const ALERT = 'SELECT avg(cpu) WHERE time > now() - 1s';
    expect(keyAt(ALERT, BASE)).toBe(keyAt(ALERT, BASE + 500));
    expect(keyAt(ALERT, BASE)).not.toBe(keyAt(ALERT, BASE + 1000));
    const plan = planSelect(parse(ALERT) as SelectStatement, { ...OPTIONS, now: BASE });
    expect(cacheLifetime(plan, 60_000)).toBe(1000);
  });

  it('normalizes the query text and separates tenants', () => {
    expect(keyAt('select AVG(cpu)   where time > now()-1h group by time(5m)', BASE)).toBe(keyAt(DASHBOARD, BASE));
    expect(keyAt(DASHBOARD, BASE, 'team-a')).not.toBe(keyAt(DASHBOARD, BASE));
  });
});

describe('MemoryCache', () => {
  it('expires entries after their TTL and evicts the oldest beyond its size', async () => {
    let now = 0;
    const cache = new MemoryCache(10, () => now);
    await cache.set('a', '12345', 1000);
    now = 999;
    expect(await cache.get('a')).toBe('12345');
    now = 1000;
    expect(await cache.get('a')).toBeUndefined();
    await cache.set('b', '12345', 1000);
    await cache.set('c', '123456', 1000);
    expect(await cache.get('b')).toBeUndefined();
    expect(await cache.get('c')).toBe('123456');
  });
});

describe('RedisCache', () => {
  let redis: ManagedProcess & { url: string };
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.kill9();
  });

  it('stores answers with a TTL in redis-server', async () => {
    const client = new Redis(redis.url);
    const cache = new RedisCache(client, createLogger('query', 'error'));
    await cache.set('metricstream:query:test', '{"series":[]}', 60_000);
    expect(await cache.get('metricstream:query:test')).toBe('{"series":[]}');
    const ttl = await client.pttl('metricstream:query:test');
    expect(ttl).toBeGreaterThan(59_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    await cache.close();
  });

  it('reads as a miss (not an error) when Redis is unreachable', async () => {
    const client = new Redis('redis://127.0.0.1:1', {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      lazyConnect: true,
    });
    const cache = new RedisCache(client, createLogger('query', 'error'));
    expect(await cache.get('anything')).toBeUndefined();
    await cache.set('anything', 'x', 1000);
    await cache.close();
  });
});
