import type { Logger } from '../../kit/logger';
import { prom, type Registry } from '../../kit/metrics';
import { FRAME_HEADER_BYTES } from '../spool/frame';
import { SpoolFullError, type Spool } from '../spool/spool';
import { QueueRejectedError, type QueueClient } from './client';

/**
 * Batches accepted requests into queue produce calls and makes each one durable before its request is answered:
 * either the queue acknowledged it, or it is fsynced in the spool. While the spool holds a backlog every new batch
 * joins the backlog too, so the queue receives batches in the order they were accepted; the replayer drains it.
 */
export interface ForwarderOptions {
  maxRecords: number;
  /** Approximate: counted in UTF-16 characters of the serialised records. */
  maxBytes: number;
  lingerMs: number;
  maxInFlight: number;
  /** Most records and bytes in one replayed produce call (the queue accepts up to 10,000 records and 16 MiB). */
  maxReplayRecords: number;
  maxReplayBytes: number;
  /** Backoff bounds while the queue stays unreachable during replay. */
  retryMinMs: number;
  retryMaxMs: number;
}

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

interface Batch {
  records: string[];
  characters: number;
  waiters: Waiter[];
}

const newBatch = (): Batch => ({ records: [], characters: 0, waiters: [] });

const serialise = (records: string[]) => Buffer.from(`[${records.join(',')}]`, 'utf8');

export interface ForwarderMetrics {
  batches: prom.Counter<'outcome'>;
  records: prom.Counter<'outcome'>;
  spoolBytes: prom.Gauge;
  spooling: prom.Gauge;
}

export function createForwarderMetrics(registry: Registry): ForwarderMetrics {
  return {
    batches: new prom.Counter({
      name: 'ingestion_queue_batches_total',
      help: 'Batches by outcome: queued (queue acknowledged), spooled, replayed, rejected, spool_full',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    records: new prom.Counter({
      name: 'ingestion_queue_records_total',
      help: 'MetricBatch records by outcome (see ingestion_queue_batches_total)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    spoolBytes: new prom.Gauge({
      name: 'ingestion_spool_bytes',
      help: 'Bytes held in the local spool',
      registers: [registry],
    }),
    spooling: new prom.Gauge({
      name: 'ingestion_spooling',
      help: '1 while batches go to the local spool instead of the queue',
      registers: [registry],
    }),
  };
}

export class Forwarder {
  private current = newBatch();
  /** Cancels the pending linger wake-up, when one is pending. */
  private cancelLinger: (() => void) | undefined;
  /** The open batch has waited its linger time and goes out at the next free slot. */
  private isLingerDue = false;
  private readonly waiting: Batch[] = [];
  private inFlight = 0;
  private readonly idle = new Set<() => void>();
  private hasBacklog: boolean;
  private replaying: Promise<void> | undefined;
  private isClosed = false;
  private retryTimer: { timer: NodeJS.Timeout; wake(): void } | undefined;

  constructor(
    private readonly queue: QueueClient,
    private readonly spool: Spool,
    private readonly options: ForwarderOptions,
    private readonly metrics: ForwarderMetrics,
    private readonly logger: Logger,
  ) {
    this.hasBacklog = !spool.isDrained;
    this.metrics.spoolBytes.set(spool.bytes);
    this.metrics.spooling.set(this.hasBacklog ? 1 : 0);
    if (this.hasBacklog) this.startReplay();
  }

  get isSpooling(): boolean {
    return this.hasBacklog;
  }

  /** Forwards one serialised record `{"key", "value"}`; resolves once it is durable. */
  submit(record: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const batch = this.current;
      batch.records.push(record);
      batch.characters += record.length + 1;
      batch.waiters.push({ resolve, reject });
      if (batch.records.length >= this.options.maxRecords || batch.characters >= this.options.maxBytes) {
        this.seal();
        this.dispatch();
      } else if (!this.cancelLinger && !this.isLingerDue) this.scheduleLinger();
    });
  }

  /**
   * Linger 0 waits only for the end of the current event-loop turn (setImmediate): requests that arrived together
   * travel together, and under load, while every slot is busy, the open batch keeps growing on its own.
   */
  private scheduleLinger(): void {
    const due = () => {
      this.cancelLinger = undefined;
      this.isLingerDue = true;
      this.dispatch();
    };
    if (this.options.lingerMs === 0) {
      const immediate = setImmediate(due);
      this.cancelLinger = () => clearImmediate(immediate);
    } else {
      const timer = setTimeout(due, this.options.lingerMs);
      this.cancelLinger = () => clearTimeout(timer);
    }
  }

  /** Closes the open batch: it waits for a free slot as it is. */
  private seal(): void {
    this.cancelLinger?.();
    this.cancelLinger = undefined;
    this.isLingerDue = false;
    if (this.current.records.length === 0) return;
    this.waiting.push(this.current);
    this.current = newBatch();
  }

  /**
   * Fills free slots with sealed batches first, then with the open batch once its linger time has passed. While
   * every slot is busy the open batch keeps growing, so a slow queue gets fewer, larger calls instead of a backlog
   * of small ones.
   */
  private dispatch(): void {
    while (this.inFlight < this.options.maxInFlight) {
      if (this.waiting.length === 0 && this.isLingerDue) this.seal();
      const batch = this.waiting.shift();
      if (!batch) break;
      this.inFlight++;
      void this.deliver(batch).finally(() => {
        this.inFlight--;
        this.dispatch();
        if (this.inFlight === 0 && this.waiting.length === 0 && this.current.records.length === 0) {
          for (const wake of this.idle) wake();
          this.idle.clear();
        }
      });
    }
  }

  private async deliver(batch: Batch): Promise<void> {
    const payload = serialise(batch.records);
    const count = batch.records.length;
    if (!this.hasBacklog) {
      try {
        await this.queue.produce(payload, count);
        this.count('queued', count);
        batch.waiters.forEach((waiter) => waiter.resolve());
        return;
      } catch (error) {
        if (error instanceof QueueRejectedError) {
          this.logger.error('queue refused a batch', { status: error.status, detail: error.detail, records: count });
          this.count('rejected', count);
          batch.waiters.forEach((waiter) => waiter.reject(error));
          return;
        }
        this.enterSpooling(error);
      }
    }
    try {
      await this.spool.append(payload, count);
      this.count('spooled', count);
      this.metrics.spoolBytes.set(this.spool.bytes);
      batch.waiters.forEach((waiter) => waiter.resolve());
      this.startReplay();
    } catch (error) {
      if (error instanceof SpoolFullError) this.count('spool_full', count);
      batch.waiters.forEach((waiter) => waiter.reject(error));
    }
  }

  private count(outcome: string, records: number): void {
    this.metrics.batches.inc({ outcome });
    this.metrics.records.inc({ outcome }, records);
  }

  private enterSpooling(cause: unknown): void {
    if (!this.hasBacklog)
      this.logger.warn('queue unreachable; spooling batches to disk', { error: (cause as Error).message });
    this.hasBacklog = true;
    this.metrics.spooling.set(1);
    this.startReplay();
  }

  private startReplay(): void {
    this.replaying ??= this.replay().finally(() => {
      this.replaying = undefined;
    });
  }

  /** Sends the backlog oldest first, backing off while the queue stays away; ends when the spool is drained. */
  private async replay(): Promise<void> {
    let delayMs = this.options.retryMinMs;
    while (!this.isClosed) {
      const backlog = await this.spool.readBacklog();
      if (!backlog || backlog.frames.length === 0) {
        // Checked synchronously with the switch: any batch cut after this point goes straight to the queue.
        if (this.spool.isDrained) {
          this.hasBacklog = false;
          this.metrics.spooling.set(0);
          this.logger.info('spool drained; forwarding to the queue again');
          return;
        }
        await this.pause(delayMs);
        continue;
      }
      let index = 0;
      while (index < backlog.frames.length && !this.isClosed) {
        let end = index;
        let records = 0;
        let bytes = 0;
        while (
          end < backlog.frames.length &&
          (end === index ||
            (records + backlog.frames[end].count <= this.options.maxReplayRecords &&
              bytes + backlog.frames[end].payload.length <= this.options.maxReplayBytes))
        ) {
          records += backlog.frames[end].count;
          bytes += backlog.frames[end++].payload.length;
        }
        const group = backlog.frames.slice(index, end);
        try {
          await this.queue.produce(joinFrames(group.map((frame) => frame.payload)), records);
          this.count('replayed', records);
        } catch (error) {
          if (!(error instanceof QueueRejectedError)) {
            await this.pause(delayMs);
            delayMs = Math.min(this.options.retryMaxMs, delayMs * 2);
            break;
          }
          this.logger.error('queue refused spooled records; they are dropped', {
            status: error.status,
            detail: error.detail,
            records,
          });
          this.count('rejected', records);
        }
        delayMs = this.options.retryMinMs;
        const last = group[group.length - 1];
        await this.spool.acknowledge(backlog.sequence, last.offset + FRAME_HEADER_BYTES + last.payload.length);
        this.metrics.spoolBytes.set(this.spool.bytes);
        index = end;
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.retryTimer = undefined;
        resolve();
      }, ms);
      this.retryTimer = { timer, wake: resolve };
    });
  }

  /** Flushes the open batch and waits until every batch is durable. Replay stops; the spool keeps the rest. */
  async close(): Promise<void> {
    this.seal();
    this.dispatch();
    if (this.inFlight > 0 || this.waiting.length > 0) await new Promise<void>((resolve) => this.idle.add(resolve));
    this.isClosed = true;
    if (this.retryTimer) {
      clearTimeout(this.retryTimer.timer);
      this.retryTimer.wake();
    }
    await this.replaying;
  }
}

/** Concatenates JSON arrays `[a,b]`, `[c]` into `[a,b,c]` without parsing them. */
function joinFrames(payloads: readonly Uint8Array[]): Buffer {
  if (payloads.length === 1) return Buffer.from(payloads[0].buffer, payloads[0].byteOffset, payloads[0].byteLength);
  const parts: Uint8Array[] = [Buffer.from('[')];
  payloads.forEach((payload, index) => {
    if (index > 0) parts.push(Buffer.from(','));
    parts.push(payload.subarray(1, payload.length - 1));
  });
  parts.push(Buffer.from(']'));
  return Buffer.concat(parts);
}
