import { rmSync } from 'node:fs';
import Redis from 'ioredis';
import { freePort, startRedis, startService, waitFor, type ManagedProcess } from '../../kit/testing/processes';
import { QueueDouble } from '../testing/queue-double';
import { oneMetric, postMetrics, scrape, tempDir } from './helpers';

/** Two replicas share one bucket per client through a real redis-server, and survive losing it. */
describe('Redis-backed rate limiting (cross-process)', () => {
  const dataDir = tempDir('redis');
  const queue = new QueueDouble({ isRecording: false });
  let redis: ManagedProcess & { url: string };
  const replicas: ManagedProcess[] = [];
  const bases: string[] = [];

  beforeAll(async () => {
    await queue.start();
    redis = await startRedis();
    for (const replica of [0, 1]) {
      const port = await freePort();
      replicas.push(
        await startService(
          'ingestion',
          port,
          [
            '--queue-url',
            queue.url,
            '--data-dir',
            `${dataDir}/${replica}`,
            '--redis-timeout',
            '200ms',
            // A slow refill, so the bucket read back from Redis below shows exactly the two tokens taken.
            '--rate-limit-overrides',
            'after_client=0.01:10',
          ],
          { REDIS_URL: redis.url },
        ),
      );
      bases.push(`http://127.0.0.1:${port}`);
    }
    await Promise.all(
      bases.map((base) => waitFor(async () => (await scrape(base, 'ingestion_ratelimit_redis_up')) === 1 || undefined)),
    );
  });

  afterAll(async () => {
    for (const replica of replicas) await replica.stop();
    await redis.kill9();
    await queue.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Sends `perSecond` requests/s for one client, alternating replicas; returns admitted count and elapsed seconds. */
  async function hammer(client: string, seconds: number, perSecond: number) {
    const statuses: number[] = [];
    const started = Date.now();
    const pending: Promise<void>[] = [];
    for (let request = 0; Date.now() - started < seconds * 1000; request++) {
      pending.push(
        postMetrics(bases[request % 2], client, oneMetric(request)).then((reply) => void statuses.push(reply.status)),
      );
      await new Promise((resolve) => setTimeout(resolve, 1000 / perSecond));
    }
    await Promise.all(pending);
    return {
      admitted: statuses.filter((status) => status === 202).length,
      statuses,
      elapsed: (Date.now() - started) / 1000,
    };
  }

  it('admits about 10 req/s for one client across both replicas together, not 20', async () => {
    const { admitted, statuses, elapsed } = await hammer('shared_client', 3, 60);
    expect(statuses.every((status) => status === 202 || status === 429)).toBe(true);
    // Burst 10 plus 10/s: ~40 in 3 s when shared; two independent buckets would admit ~80.
    expect(admitted).toBeGreaterThanOrEqual(10 + 10 * (elapsed - 1));
    expect(admitted).toBeLessThanOrEqual(10 + 10 * elapsed + 2);
  });

  it('keeps serving from memory while Redis is down, counts it, and returns to Redis when it is back', async () => {
    await redis.kill9();
    await Promise.all(
      bases.map((base) =>
        waitFor(
          async () => (await scrape(base, 'ingestion_ratelimit_redis_up')) === 0 || undefined,
          5000,
          'redis_up to drop',
        ),
      ),
    );
    const during = await hammer('outage_client', 1, 40);
    expect(during.statuses.every((status) => status === 202 || status === 429)).toBe(true);
    expect(during.admitted).toBeGreaterThan(0);
    for (const base of bases) expect(await scrape(base, 'ingestion_ratelimit_local_fallback_total')).toBeGreaterThan(0);
    for (const replica of replicas) expect(replica.output.join('').match(/redis unreachable/g)).toHaveLength(1);

    redis = Object.assign(await redis.restart(), { url: redis.url });
    await Promise.all(
      bases.map((base) =>
        waitFor(
          async () => (await scrape(base, 'ingestion_ratelimit_redis_up')) === 1 || undefined,
          10_000,
          'redis_up to return',
        ),
      ),
    );
    const fallbacks = await Promise.all(bases.map((base) => scrape(base, 'ingestion_ratelimit_local_fallback_total')));
    expect((await postMetrics(bases[0], 'after_client', oneMetric(1))).status).toBe(202);
    expect((await postMetrics(bases[1], 'after_client', oneMetric(2))).status).toBe(202);
    expect(await Promise.all(bases.map((base) => scrape(base, 'ingestion_ratelimit_local_fallback_total')))).toEqual(
      fallbacks,
    );
    const client = new Redis(redis.url, { lazyConnect: true });
    await client.connect();
    const bucket = await client.hgetall('metricstream:ratelimit:after_client');
    client.disconnect();
    expect(Number(bucket.tokens)).toBeCloseTo(8, 1);
    const shared = await hammer('shared_after', 2, 60);
    expect(shared.admitted).toBeLessThanOrEqual(10 + 10 * shared.elapsed + 2);
  });
});
