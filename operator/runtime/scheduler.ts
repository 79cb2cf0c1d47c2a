/**
 * Time for the operator's machinery: the work queue, informers and leader election read `now()` and schedule timers
 * through this interface, so their tests advance a manual scheduler instead of sleeping.
 */
export interface Scheduler {
  now(): number;
  /** Runs `task` after `delayMs`; the returned function cancels it. */
  schedule(delayMs: number, task: () => void): () => void;
}

export const systemScheduler: Scheduler = {
  now: () => Date.now(),
  schedule(delayMs, task) {
    const timer = setTimeout(task, Math.max(0, delayMs));
    return () => clearTimeout(timer);
  },
};

/** A scheduler driven by hand: `advance(ms)` runs every task that falls due, in time order. */
export class ManualScheduler implements Scheduler {
  private current: number;
  private sequence = 0;
  private readonly tasks = new Map<number, { dueAt: number; task: () => void }>();

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  schedule(delayMs: number, task: () => void): () => void {
    const id = this.sequence++;
    this.tasks.set(id, { dueAt: this.current + Math.max(0, delayMs), task });
    return () => this.tasks.delete(id);
  }

  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      let nextId: number | undefined;
      for (const [id, entry] of this.tasks)
        if (entry.dueAt <= target && (nextId === undefined || entry.dueAt < this.tasks.get(nextId)!.dueAt)) nextId = id;
      if (nextId === undefined) break;
      const entry = this.tasks.get(nextId)!;
      this.tasks.delete(nextId);
      this.current = Math.max(this.current, entry.dueAt);
      entry.task();
    }
    this.current = target;
  }

  get pendingTasks(): number {
    return this.tasks.size;
  }
}
