import { ExponentialBackoffLimiter, MaxOfLimiter, TokenBucketLimiter } from './ratelimiter';
import { ManualScheduler } from './scheduler';
import { WorkQueue } from './workqueue';

const queueWith = (scheduler = new ManualScheduler()) =>
  new WorkQueue(scheduler, new ExponentialBackoffLimiter(10, 1000));

describe('WorkQueue', () => {
  test('a key added many times is queued once', async () => {
    const queue = queueWith();
    queue.add('a');
    queue.add('b');
    queue.add('a');
    expect(queue.depth).toBe(2);
    expect(await queue.get()).toBe('a');
    expect(await queue.get()).toBe('b');
  });

  test('a key added while in flight is handed out again only after done', async () => {
    const queue = queueWith();
    queue.add('a');
    const key = await queue.get();
    queue.add('a');
    expect(queue.depth).toBe(0);
    queue.done(key!);
    expect(queue.depth).toBe(1);
    expect(await queue.get()).toBe('a');
  });

  test('a waiting worker receives the next key added', async () => {
    const queue = queueWith();
    const waiting = queue.get();
    queue.add('x');
    expect(await waiting).toBe('x');
  });

  test('addRateLimited backs off exponentially per key and forget resets it', async () => {
    const scheduler = new ManualScheduler();
    const queue = queueWith(scheduler);
    queue.addRateLimited('a');
    expect(queue.depth).toBe(0);
    scheduler.advance(9);
    expect(queue.depth).toBe(0);
    scheduler.advance(1);
    expect(queue.depth).toBe(1);
    queue.done((await queue.get())!);
    queue.addRateLimited('a');
    scheduler.advance(19);
    expect(queue.depth).toBe(0);
    scheduler.advance(1);
    expect(queue.depth).toBe(1);
    queue.forget('a');
    expect(queue.failures('a')).toBe(0);
  });

  test('an earlier delayed add of a key wins over a later one', () => {
    const scheduler = new ManualScheduler();
    const queue = queueWith(scheduler);
    queue.addAfter('a', 100);
    queue.addAfter('a', 500);
    scheduler.advance(100);
    expect(queue.depth).toBe(1);
  });

  test('shutDown releases waiting workers and drops delayed keys', async () => {
    const scheduler = new ManualScheduler();
    const queue = queueWith(scheduler);
    const waiting = queue.get();
    queue.addAfter('later', 50);
    queue.shutDown();
    expect(await waiting).toBeUndefined();
    expect(scheduler.pendingTasks).toBe(0);
  });
});

describe('rate limiters', () => {
  test('exponential backoff doubles up to the ceiling', () => {
    const limiter = new ExponentialBackoffLimiter(5, 100);
    expect([1, 2, 3, 4, 5, 6].map(() => limiter.delayFor('k'))).toEqual([5, 10, 20, 40, 80, 100]);
    expect(limiter.delayFor('other')).toBe(5);
  });

  test('the token bucket allows a burst, then one key per 1/rate seconds', () => {
    const limiter = new TokenBucketLimiter(10, 2);
    expect(limiter.delayFor('a', 0)).toBe(0);
    expect(limiter.delayFor('b', 0)).toBe(0);
    expect(limiter.delayFor('c', 0)).toBe(100);
    expect(limiter.delayFor('d', 0)).toBe(200);
    expect(limiter.delayFor('e', 1000)).toBe(0);
  });

  test('the combined limiter takes the larger delay', () => {
    const limiter = new MaxOfLimiter(new ExponentialBackoffLimiter(5, 1000), new TokenBucketLimiter(1, 1));
    expect(limiter.delayFor('a', 0)).toBe(5);
    expect(limiter.delayFor('b', 0)).toBe(1000);
    expect(limiter.failures('a')).toBe(1);
  });
});
