import { seededRandom } from '../../kit/clock';
import { retryDelay, takeToken, type TokenBucket } from './pacing';

describe('retryDelay', () => {
  test('doubles per attempt within [nominal/2, nominal] and stops at the maximum', () => {
    const random = seededRandom(7);
    for (let attempt = 1; attempt <= 12; attempt++) {
      const nominal = Math.min(60_000, 1000 * 2 ** (attempt - 1));
      const delay = retryDelay(attempt, 1000, 60_000, random);
      expect(delay).toBeGreaterThanOrEqual(nominal / 2);
      expect(delay).toBeLessThanOrEqual(nominal);
    }
  });

  test('jitter spreads retries apart', () => {
    const random = seededRandom(1);
    const delays = new Set(Array.from({ length: 20 }, () => retryDelay(5, 1000, 60_000, random)));
    expect(delays.size).toBeGreaterThan(15);
  });
});

describe('takeToken', () => {
  test('allows a burst of the rate, then one token per 1/rate seconds', () => {
    let bucket: TokenBucket | undefined;
    const allowedAt = (now: number) => {
      const result = takeToken(bucket, 2, now);
      bucket = result.bucket;
      return result.isAllowed;
    };
    expect([allowedAt(0), allowedAt(0), allowedAt(0)]).toEqual([true, true, false]);
    expect([allowedAt(499), allowedAt(500), allowedAt(501)]).toEqual([false, true, false]);
    expect([allowedAt(10_000), allowedAt(10_000), allowedAt(10_000)]).toEqual([true, true, false]);
  });

  test('a rate below one per second still lets one through', () => {
    expect(takeToken(undefined, 0.1, 0).isAllowed).toBe(true);
  });
});
