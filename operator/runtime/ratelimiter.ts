/**
 * Rate limiters for the work queue, after client-go's: the delay before a key may be retried is the larger of a
 * per-key exponential backoff and a global token bucket, so one failing object backs off on its own while a burst of
 * failures across many objects is still bounded overall.
 */
export interface RateLimiter {
  /** Milliseconds to wait before `key` is processed again; counts as one more failure of `key`. */
  delayFor(key: string, now: number): number;
  /** Clears the failure history of `key` (after it succeeded). */
  forget(key: string): void;
  failures(key: string): number;
}

export class ExponentialBackoffLimiter implements RateLimiter {
  private readonly failureCounts = new Map<string, number>();

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
  ) {}

  delayFor(key: string): number {
    const failures = this.failureCounts.get(key) ?? 0;
    this.failureCounts.set(key, failures + 1);
    return Math.min(this.maxMs, this.baseMs * 2 ** Math.min(failures, 52));
  }

  forget(key: string): void {
    this.failureCounts.delete(key);
  }

  failures(key: string): number {
    return this.failureCounts.get(key) ?? 0;
  }
}

/** A token bucket shared by every key: `perSecond` sustained, `burst` at once. Tokens are reserved ahead. */
export class TokenBucketLimiter implements RateLimiter {
  private tokens: number;
  private updatedAt: number | undefined;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  delayFor(_key: string, now: number): number {
    if (this.updatedAt !== undefined)
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.perSecond);
    this.updatedAt = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.perSecond) * 1000);
  }

  forget(): void {}

  failures(): number {
    return 0;
  }
}

export class MaxOfLimiter implements RateLimiter {
  private readonly limiters: readonly RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    this.limiters = limiters;
  }

  delayFor(key: string, now: number): number {
    return Math.max(...this.limiters.map((limiter) => limiter.delayFor(key, now)));
  }

  forget(key: string): void {
    for (const limiter of this.limiters) limiter.forget(key);
  }

  failures(key: string): number {
    return Math.max(...this.limiters.map((limiter) => limiter.failures(key)));
  }
}

/** client-go's default controller limiter, with a lower ceiling: 5 ms doubling to 5 min per key, 10/s burst 100. */
export const defaultControllerLimiter = () =>
  new MaxOfLimiter(new ExponentialBackoffLimiter(5, 300_000), new TokenBucketLimiter(10, 100));
