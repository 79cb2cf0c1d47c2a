import { Worker } from 'node:worker_threads';
import { QueryError, type ErrorCode } from '../errors';
import type { SelectPlan } from '../planner/plan';
import type { MergeRunner } from './executor';
import type { MergeLimits, ShardBody } from './wire';

export interface MergeRequest {
  id: number;
  plan: SelectPlan;
  bodies: ShardBody[];
  limits: MergeLimits;
}

export type MergeReply =
  | { id: number; rowsJson: string }
  | { id: number; error: { code?: ErrorCode; message: string; details?: Record<string, unknown> } };

interface Task {
  request: MergeRequest;
  signal: AbortSignal;
  resolve(rowsJson: string): void;
  reject(error: unknown): void;
}

interface Slot {
  worker: Worker;
  task?: Task;
}

/**
 * A fixed pool of worker threads that merge big answers, so one large query does not stall the event loop for the
 * others. A cancelled query's worker is terminated (a merge cannot be interrupted otherwise) and replaced on demand.
 */
export class MergePool implements MergeRunner {
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private isClosed = false;

  constructor(
    private readonly script: string,
    private readonly size: number,
  ) {}

  merge(plan: SelectPlan, bodies: ShardBody[], limits: MergeLimits, signal: AbortSignal): Promise<string> {
    if (this.isClosed) return Promise.reject(new Error('merge pool is closed'));
    signal.throwIfAborted();
    return new Promise<string>((resolve, reject) => {
      const task: Task = { request: { id: this.nextId++, plan, bodies, limits }, signal, resolve, reject };
      signal.addEventListener('abort', () => this.cancel(task), { once: true });
      this.queue.push(task);
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.isClosed = true;
    for (const task of this.queue.splice(0)) task.reject(new Error('merge pool is closed'));
    await Promise.all(this.slots.splice(0).map((slot) => slot.worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((candidate) => !candidate.task);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const task = this.queue.shift()!;
      slot.task = task;
      slot.worker.postMessage(task.request);
    }
  }

  private spawn(): Slot {
    const slot: Slot = { worker: new Worker(this.script) };
    slot.worker.on('message', (reply: MergeReply) => {
      const task = slot.task;
      slot.task = undefined;
      if (task && task.request.id === reply.id) {
        if ('rowsJson' in reply) task.resolve(reply.rowsJson);
        else if (reply.error.code)
          task.reject(new QueryError(reply.error.code, reply.error.message, reply.error.details));
        else task.reject(new Error(`merge failed in a worker: ${reply.error.message}`));
      }
      this.dispatch();
    });
    slot.worker.on('error', (error) => this.replace(slot, error));
    slot.worker.on('exit', () => this.replace(slot, new Error('merge worker exited')));
    this.slots.push(slot);
    return slot;
  }

  private replace(slot: Slot, error: unknown): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    this.slots.splice(index, 1);
    slot.task?.reject(error);
    slot.task = undefined;
    if (!this.isClosed) this.dispatch();
  }

  private cancel(task: Task): void {
    const queued = this.queue.indexOf(task);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      task.reject(task.signal.reason);
      return;
    }
    const slot = this.slots.find((candidate) => candidate.task === task);
    if (!slot) return;
    slot.task = undefined;
    task.reject(task.signal.reason);
    this.slots.splice(this.slots.indexOf(slot), 1);
    void slot.worker.terminate();
    this.dispatch();
  }
}
