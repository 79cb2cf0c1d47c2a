import Redis from 'ioredis';
import type { Clock } from '../../kit/clock';
import type { Logger } from '../../kit/logger';
import { prom, type Registry } from '../../kit/metrics';
import { describeDecision, TokenBuckets, type Decision, type PolicyTable } from './bucket';

/** Decides whether a client may make one more request. Local decisions are synchronous (no promise on the hot path). */
export interface RateLimiter {
  take(client: string): Decision | Promise<Decision>;
  close(): Promise<void>;
}

/** Buckets in this process's memory; idle full buckets are swept once a minute. */
export class LocalLimiter implements RateLimiter {
  private readonly buckets: TokenBuckets;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    policies: PolicyTable,
    private readonly clock: Clock,
  ) {
    this.buckets = new TokenBuckets(policies);
    this.sweeper = setInterval(() => this.buckets.sweep(this.clock.now()), 60_000);
    this.sweeper.unref();
  }

  take(client: string): Decision {
    return this.buckets.take(client, this.clock.now());
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }
}

/**
 * The token bucket as one atomic Lua script, so every replica draws from the same bucket. Time comes from Redis
 * (`TIME`), not from the replicas, so their clocks need not agree. Tokens travel as strings: Redis truncates Lua
 * numbers to integers.
 */
const TAKE_TOKEN_SCRIPT = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local updated = tonumber(state[2])
if tokens == nil or updated == nil then
  tokens = burst
  updated = now
end
tokens = math.min(burst, tokens + math.max(0, now - updated) * rate / 1000)
local allowed = 0
if tokens >= 1 - 1e-9 then
  tokens = math.max(0, tokens - 1)
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {allowed, tostring(tokens)}
`;

type RedisWithScript = Redis & {
  takeToken(key: string, rate: number, burst: number): Promise<[number, string]>;
};

export interface RedisLimiterOptions {
  url: string;
  commandTimeoutMs: number;
  keyPrefix: string;
}

/**
 * Buckets in Redis, shared by every replica. When Redis cannot answer, decisions fall back to the local limiter
 * (logged once per outage, each counted) and return to Redis as soon as the connection is ready again.
 */
export class RedisLimiter implements RateLimiter {
  private readonly redis: RedisWithScript;
  private isUsingRedis = true;
  private readonly localDecisions: prom.Counter;
  private readonly isRedisUp: prom.Gauge;

  constructor(
    options: RedisLimiterOptions,
    private readonly policies: PolicyTable,
    private readonly local: LocalLimiter,
    registry: Registry,
    private readonly logger: Logger,
  ) {
    this.localDecisions = new prom.Counter({
      name: 'ingestion_ratelimit_local_fallback_total',
      help: 'Rate-limit decisions taken in memory because Redis was unreachable',
      registers: [registry],
    });
    this.isRedisUp = new prom.Gauge({
      name: 'ingestion_ratelimit_redis_up',
      help: '1 while rate-limit decisions are taken in Redis',
      registers: [registry],
    });
    this.redis = new Redis(options.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs,
      enableAutoPipelining: true,
      keyPrefix: options.keyPrefix,
      retryStrategy: (attempt) => Math.min(100 * attempt, 1000),
      lazyConnect: false,
    }) as RedisWithScript;
    this.redis.defineCommand('takeToken', { numberOfKeys: 1, lua: TAKE_TOKEN_SCRIPT });
    this.redis.on('ready', () => this.useRedis());
    this.redis.on('close', () => this.useMemory('connection closed'));
    // ioredis reports connection errors here; the decision path notices the outage by itself.
    this.redis.on('error', () => undefined);
  }

  take(client: string): Decision | Promise<Decision> {
    if (this.redis.status !== 'ready') return this.takeLocally(client, 'not connected');
    const policy = this.policies.policyFor(client);
    return this.redis.takeToken(client, policy.rate, policy.burst).then(
      ([allowed, tokens]) => describeDecision(allowed === 1, Number(tokens), policy),
      (error: Error) => this.takeLocally(client, error.message),
    );
  }

  private takeLocally(client: string, reason: string): Decision {
    this.useMemory(reason);
    this.localDecisions.inc();
    return this.local.take(client);
  }

  private useMemory(reason: string): void {
    if (!this.isUsingRedis) return;
    this.isUsingRedis = false;
    this.isRedisUp.set(0);
    this.logger.warn('redis unreachable; rate limiting in memory until it returns', { reason });
  }

  private useRedis(): void {
    if (!this.isUsingRedis) this.logger.info('redis reachable again; rate limiting in redis');
    this.isUsingRedis = true;
    this.isRedisUp.set(1);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
    await this.local.close();
  }
}
