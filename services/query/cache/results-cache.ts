import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../../kit/logger';
import type { SelectPlan } from '../planner/plan';

/** A store of serialized answers with a time to live. */
export interface ResultsCache {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The cache key of a dashboard query: tenant, the normalized statement and its range aligned to the window (or to
 * the TTL without GROUP BY time). Within one window the same windows are answered, so a dashboard refreshing every
 * few seconds is served from the cache; the newest window may be up to one TTL stale, as the design document accepts.
 */
const rangeOf = (plan: SelectPlan) => Math.max(1, plan.end - plan.start);

/** How long an answer may be reused: the TTL, but never longer than the queried range (an alert's "last 1 s"). */
export const cacheLifetime = (plan: SelectPlan, ttlMs: number) => Math.min(ttlMs, rangeOf(plan));

export function cacheKey(plan: SelectPlan, tenant: string, ttlMs: number): string {
  const step = Math.min(plan.window?.interval ?? ttlMs, rangeOf(plan));
  const offset = plan.window?.offset ?? 0;
  const align = (time: number) => (plan.isRelative ? Math.floor((time - offset) / step) : time);
  const material = JSON.stringify([tenant, plan.normalized, align(plan.start), align(plan.end - 1)]);
  return 'metricstream:query:' + createHash('sha256').update(material).digest('hex');
}

/** In-process cache: entries expire after their TTL; the oldest go first once `maxBytes` is reached. */
export class MemoryCache implements ResultsCache {
  private readonly entries = new Map<string, { value: string; expiresAt: number }>();
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly now: () => number,
  ) {}

  async get(key: string): Promise<string | undefined> {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.delete(key);
      return undefined;
    }
    return entry.value;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    if (value.length > this.maxBytes) return;
    this.delete(key);
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs });
    this.bytes += value.length;
    for (const oldest of this.entries.keys()) {
      if (this.bytes <= this.maxBytes) break;
      this.delete(oldest);
    }
  }

  async close(): Promise<void> {
    this.entries.clear();
    this.bytes = 0;
  }

  private delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.bytes -= entry.value.length;
    this.entries.delete(key);
  }
}

/** Shared cache in Redis (`SET key value PX ttl`), so replicas of the query engine share answers. */
export class RedisCache implements ResultsCache {
  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
  ) {}

  async get(key: string): Promise<string | undefined> {
    try {
      return (await this.redis.get(key)) ?? undefined;
    } catch (error) {
      // The cache only saves work: an unreachable Redis means computing the answer, not failing the query.
      this.logger.warn('results cache read failed', { error: (error as Error).message });
      return undefined;
    }
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    try {
      await this.redis.set(key, value, 'PX', ttlMs);
    } catch (error) {
      this.logger.warn('results cache write failed', { error: (error as Error).message });
    }
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
