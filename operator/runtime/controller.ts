import type { Logger } from '../../services/kit/logger';
import type { OperatorMetrics } from './metrics';
import type { Scheduler } from './scheduler';
import { WorkQueue } from './workqueue';
import type { RateLimiter } from './ratelimiter';

/** What a reconcile asks for next: nothing (wait for a change), or another look after a delay. */
export type ReconcileResult = { requeueAfterMs?: number } | undefined;

export type Reconcile = (key: string) => Promise<ReconcileResult>;

/**
 * Runs one reconcile function over a rate-limited work queue (sample-controller's processNextWorkItem): a key that
 * fails is retried with backoff, a key that succeeds is forgotten, and a reconcile can ask to be looked at again.
 */
export class Controller {
  readonly queue: WorkQueue;
  private workers: Promise<void>[] = [];

  constructor(
    readonly name: string,
    private readonly reconcile: Reconcile,
    scheduler: Scheduler,
    limiter: RateLimiter,
    private readonly logger: Logger,
    private readonly metrics: OperatorMetrics,
  ) {
    this.queue = new WorkQueue(scheduler, limiter);
  }

  enqueue(key: string): void {
    this.queue.add(key);
    this.metrics.queueDepth.set({ controller: this.name }, this.queue.depth);
  }

  run(workerCount = 1): void {
    for (let index = 0; index < workerCount; index++) this.workers.push(this.work());
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all(this.workers);
  }

  private async work(): Promise<void> {
    for (let key = await this.queue.get(); key !== undefined; key = await this.queue.get()) {
      this.metrics.queueDepth.set({ controller: this.name }, this.queue.depth);
      await this.processItem(key);
      this.queue.done(key);
    }
  }

  private async processItem(key: string): Promise<void> {
    const endTimer = this.metrics.reconcileDuration.startTimer({ controller: this.name });
    try {
      const result = await this.reconcile(key);
      this.queue.forget(key);
      if (result?.requeueAfterMs !== undefined) {
        this.queue.addAfter(key, result.requeueAfterMs);
        this.metrics.reconciles.inc({ controller: this.name, result: 'requeue' });
      } else this.metrics.reconciles.inc({ controller: this.name, result: 'success' });
    } catch (error) {
      this.metrics.reconciles.inc({ controller: this.name, result: 'error' });
      this.metrics.reconcileErrors.inc({ controller: this.name });
      this.logger.warn('reconcile failed, retrying with backoff', {
        controller: this.name,
        key,
        failures: this.queue.failures(key) + 1,
        error: error instanceof Error ? error.message : String(error),
      });
      this.queue.addRateLimited(key);
    } finally {
      endTimer();
    }
  }
}
