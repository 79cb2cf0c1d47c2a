import type { Random } from '../../kit/clock';

/**
 * Retry delays and per-channel rate limits, pure (time and randomness come in as arguments).
 *
 * Backoff is exponential with "equal jitter": half the delay is fixed, half random, so retries of many alerts that
 * failed together spread out instead of hitting a recovering receiver at the same instant, and no retry comes
 * sooner than half the nominal delay.
 */
export function retryDelay(attempt: number, baseMs: number, maxMs: number, random: Random): number {
  const nominal = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(nominal / 2 + (random() * nominal) / 2);
}

export interface TokenBucket {
  tokens: number;
  updatedAt: number;
}

/** Takes one token if there is one; the bucket refills at `ratePerSecond` up to a burst of `ratePerSecond` (at least 1). */
export function takeToken(
  bucket: TokenBucket | undefined,
  ratePerSecond: number,
  now: number,
): { bucket: TokenBucket; isAllowed: boolean } {
  const capacity = Math.max(1, ratePerSecond);
  const previous = bucket ?? { tokens: capacity, updatedAt: now };
  const tokens = Math.min(capacity, previous.tokens + ((now - previous.updatedAt) / 1000) * ratePerSecond);
  return tokens >= 1
    ? { bucket: { tokens: tokens - 1, updatedAt: now }, isAllowed: true }
    : { bucket: { tokens, updatedAt: now }, isAllowed: false };
}
