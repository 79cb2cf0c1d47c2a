import type { RateLimiter } from './ratelimiter';
import type { Scheduler } from './scheduler';

/**
 * A work queue of object keys with client-go's guarantees: a key is queued at most once however often it is added,
 * a key is never handed to two workers at once (added while in flight, it is queued again when `done`), and
 * `addRateLimited` delays a retry by the rate limiter's backoff.
 */
export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly delayed = new Map<string, { dueAt: number; cancel: () => void }>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private isShuttingDown = false;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly limiter: RateLimiter,
  ) {}

  add(key: string): void {
    if (this.isShuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.processing.add(key);
      waiter(key);
    } else this.queue.push(key);
  }

  /** Adds `key` after `delayMs`; an earlier pending delayed add of the same key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.isShuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const dueAt = this.scheduler.now() + delayMs;
    const pending = this.delayed.get(key);
    if (pending && pending.dueAt <= dueAt) return;
    pending?.cancel();
    const cancel = this.scheduler.schedule(delayMs, () => {
      this.delayed.delete(key);
      this.add(key);
    });
    this.delayed.set(key, { dueAt, cancel });
  }

  addRateLimited(key: string): void {
    this.addAfter(key, this.limiter.delayFor(key, this.scheduler.now()));
  }

  /** The key succeeded: its next failure starts the backoff from the beginning. */
  forget(key: string): void {
    this.limiter.forget(key);
  }

  failures(key: string): number {
    return this.limiter.failures(key);
  }

  /** The next key to process, or undefined once the queue is shut down. Call `done(key)` when finished. */
  get(): Promise<string | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    if (this.isShuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (!this.dirty.has(key)) return;
    this.dirty.delete(key);
    this.add(key);
  }

  /** Keys waiting to be processed (not counting delayed retries or keys in flight). */
  get depth(): number {
    return this.queue.length;
  }

  shutDown(): void {
    this.isShuttingDown = true;
    for (const { cancel } of this.delayed.values()) cancel();
    this.delayed.clear();
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }
}
