import type { Logger } from '../../kit/logger';
import type { Engine } from '../engine/engine';
import { convertMessages } from './metric-batch';
import { OffsetOutOfRangeError, type QueueClient } from './queue-client';

export const PARTITION_COUNT = 12;

/** Partitions shard `index` of `count` owns: p mod count = index. `count` must divide the 12 partitions. */
export function ownedPartitions(index: number, count: number): number[] {
  if (!Number.isInteger(count) || count < 1 || PARTITION_COUNT % count !== 0)
    throw new RangeError(`shard count ${count} must divide ${PARTITION_COUNT} (1, 2, 3, 4, 6 or 12)`);
  if (!Number.isInteger(index) || index < 0 || index >= count)
    throw new RangeError(`shard index ${index} must be in 0..${count - 1}`);
  const partitions: number[] = [];
  for (let partition = 0; partition < PARTITION_COUNT; partition++)
    if (partition % count === index) partitions.push(partition);
  return partitions;
}

export interface ConsumerOptions {
  engine: Engine;
  client: QueueClient;
  topic: string;
  group: string;
  partitions: readonly number[];
  /** Messages per /consume. */
  batchSize: number;
  /** Long-poll wait per /consume. */
  waitMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  logger: Logger;
  /** Called with how many metrics were skipped as invalid. */
  onSkipped?: (count: number) => void;
}

/**
 * Consumes the owned partitions into the engine, one loop per partition. Exactly-once storage: each write carries the
 * last offset it applies and is logged with it in the WAL, offsets at or below what the engine already applied are
 * skipped, and the queue commit (a hint for where to restart) is sent only after the write is durable.
 */
export class QueueConsumer {
  private isStopping = false;
  private readonly loops: Promise<void>[] = [];
  private readonly failures = new Map<number, string>();
  private readonly started = new Set<number>();
  private readonly wakeups = new Set<() => void>();

  constructor(private readonly options: ConsumerOptions) {}

  start(): void {
    for (const partition of this.options.partitions) this.loops.push(this.run(partition));
  }

  /** Ready once every partition has reached the queue, and while none is failing. */
  readiness(): { ready: boolean; reason?: string } {
    const failing = [...this.failures].map(([partition, reason]) => `partition ${partition}: ${reason}`);
    if (failing.length > 0) return { ready: false, reason: `queue unreachable (${failing.join('; ')})` };
    if (this.started.size < this.options.partitions.length) return { ready: false, reason: 'connecting to the queue' };
    return { ready: true };
  }

  private async run(partition: number): Promise<void> {
    const { client, engine, topic, group, logger } = this.options;
    let backoffMs = this.options.backoffInitialMs;
    let nextOffset: number | undefined;
    while (!this.isStopping) {
      try {
        if (nextOffset === undefined) {
          const committed = (await client.offsets(group, topic)).get(partition) ?? 0;
          const applied = engine.appliedOffsets.get(partition);
          nextOffset = Math.max(committed, applied === undefined ? 0 : applied + 1);
        }
        const result = await client.consume(topic, partition, nextOffset, this.options.batchSize, this.options.waitMs);
        this.started.add(partition);
        this.failures.delete(partition);
        backoffMs = this.options.backoffInitialMs;
        const applied = engine.appliedOffsets.get(partition) ?? -1;
        const fresh = result.messages.filter((message) => message.offset > applied);
        if (fresh.length > 0) {
          const lastOffset = fresh[fresh.length - 1].offset;
          const converted = convertMessages(fresh);
          if (converted.skipped.length > 0) {
            this.options.onSkipped?.(converted.skipped.length);
            logger.warn('skipped metrics storage cannot accept', { partition, first: converted.skipped[0] });
          }
          const tenants = [...converted.byTenant];
          // The offset travels with the last write, so it is recorded only once every tenant's points are logged.
          for (let index = 0; index < tenants.length; index++) {
            const [tenant, points] = tenants[index];
            const offsets =
              index === tenants.length - 1 ? new Map([[partition, lastOffset]]) : new Map<number, number>();
            await engine.write(tenant, points, offsets);
          }
          if (tenants.length === 0) await engine.write('default', [], new Map([[partition, lastOffset]]));
          await client.commit(group, topic, partition, lastOffset + 1).catch((error: unknown) =>
            logger.warn('commit failed; will commit again after the next batch', {
              partition,
              error: (error as Error).message,
            }),
          );
        }
        nextOffset = Math.max(result.next_offset, nextOffset);
      } catch (error) {
        if (error instanceof OffsetOutOfRangeError) {
          logger.warn('offset below the queue retention; skipping ahead', {
            partition,
            from: nextOffset,
            to: error.earliestOffset,
          });
          nextOffset = error.earliestOffset;
          continue;
        }
        if (this.isStopping) break;
        this.failures.set(partition, (error as Error).message);
        logger.warn('queue consume failed; backing off', { partition, backoffMs, error: (error as Error).message });
        await this.sleep(backoffMs);
        backoffMs = Math.min(this.options.backoffMaxMs, backoffMs * 2);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakeups.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakeups.add(wake);
    });
  }

  /** Stops after the batches in flight are written. */
  async close(): Promise<void> {
    this.isStopping = true;
    for (const wake of [...this.wakeups]) wake();
    await Promise.all(this.loops);
  }
}
