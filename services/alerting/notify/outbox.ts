import type { Clock, Random } from '../../kit/clock';
import type { Logger } from '../../kit/logger';
import type { AlertingMetrics } from '../metrics';
import type { AlertingStore, StoreChange } from '../store/store';
import { redact, type Channel } from './channel';
import { statusOf, type AlertStatus, type Message } from './message';
import { retryDelay, takeToken, type TokenBucket } from './pacing';
import { DeliveryError, type Send } from './senders';

/**
 * The durable outbox. A message enters it in the same store transaction as the state change that produced it, and
 * leaves it in the same transaction that records its delivery, so after a crash every message is either still
 * queued (and is sent again: at least once, with a stable id receivers deduplicate on) or recorded as delivered (and
 * is never sent again). Deliveries respect each channel's concurrency and rate; failures are retried with
 * exponential backoff and jitter until `maxAttempts` or `maxAgeMs`.
 */
export interface OutboxEntry {
  message: Message;
  attempts: number;
  nextAttemptAt: number;
  lastError?: string;
}

export type DeliveryStatus = 'delivered' | 'retrying' | 'failed';

export interface DeliveryRecord {
  sequence: number;
  id: string;
  rule: string;
  channel: string;
  channel_type: string | null;
  status: DeliveryStatus;
  alert_status: AlertStatus;
  alerts: number;
  attempts: number;
  at: string;
  error?: string;
  next_attempt_at?: string;
}

export interface OutboxOptions {
  store: AlertingStore;
  clock: Clock;
  random: Random;
  send: Send;
  channelOf(name: string): Channel | undefined;
  logger: Logger;
  metrics: AlertingMetrics;
  retryBaseMs: number;
  retryMaxMs: number;
  maxAttempts: number;
  maxAgeMs: number;
  historySize: number;
  pollMs: number;
  /** Called after every recorded attempt, e.g. to show the outcome on the alerts it carried. */
  onOutcome(message: Message, record: DeliveryRecord): void;
}

const sequenceKey = (sequence: number) => String(sequence).padStart(12, '0');

export class Outbox {
  private readonly entries = new Map<string, OutboxEntry>();
  private readonly sending = new Set<string>();
  private readonly inFlight = new Map<string, number>();
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly history: DeliveryRecord[] = [];
  private readonly running = new Set<Promise<void>>();
  private sequence = 0;
  private timer: NodeJS.Timeout | undefined;
  private isActive = false;

  constructor(private readonly options: OutboxOptions) {}

  /** Replaces the in-memory view with what the store holds (at start-up and when this replica becomes leader). */
  load(entries: Map<string, unknown>, deliveries: Map<string, unknown>): void {
    this.entries.clear();
    for (const [id, entry] of entries) this.entries.set(id, entry as OutboxEntry);
    this.history.length = 0;
    for (const key of [...deliveries.keys()].sort()) this.history.push(deliveries.get(key) as DeliveryRecord);
    this.sequence = this.history.at(-1)?.sequence ?? 0;
    this.options.metrics.outboxSize.set(this.entries.size);
  }

  /** The store changes that queue `messages`; pass them to the same `apply` as the state change, then `accept`. */
  changesFor(messages: readonly Message[]): StoreChange[] {
    return messages.map((message) => ({
      collection: 'outbox',
      key: message.id,
      value: { message, attempts: 0, nextAttemptAt: message.createdAt } satisfies OutboxEntry,
    }));
  }

  accept(messages: readonly Message[]): void {
    for (const message of messages)
      if (!this.entries.has(message.id))
        this.entries.set(message.id, { message, attempts: 0, nextAttemptAt: message.createdAt });
    this.options.metrics.outboxSize.set(this.entries.size);
    if (this.isActive) this.deliverDue();
  }

  start(): void {
    if (this.isActive) return;
    this.isActive = true;
    const loop = () => {
      this.deliverDue();
      this.timer = setTimeout(loop, this.options.pollMs);
    };
    loop();
  }

  /** Stops starting deliveries and waits for those in flight to be recorded. */
  async stop(): Promise<void> {
    this.isActive = false;
    clearTimeout(this.timer);
    while (this.running.size > 0) await Promise.all(this.running);
  }

  pending(): OutboxEntry[] {
    return [...this.entries.values()];
  }

  recent(): readonly DeliveryRecord[] {
    return this.history;
  }

  /** Starts every due delivery the channel limits allow; the timer calls it, and so does every completion. */
  deliverDue(): void {
    if (!this.isActive) return;
    const now = this.options.clock.now();
    for (const entry of this.entries.values()) {
      const id = entry.message.id;
      if (entry.nextAttemptAt > now || this.sending.has(id)) continue;
      const channel = this.options.channelOf(entry.message.channel);
      if (channel) {
        if ((this.inFlight.get(channel.name) ?? 0) >= channel.delivery.concurrency) continue;
        const { bucket, isAllowed } = takeToken(this.buckets.get(channel.name), channel.delivery.ratePerSecond, now);
        this.buckets.set(channel.name, bucket);
        if (!isAllowed) continue;
        this.inFlight.set(channel.name, (this.inFlight.get(channel.name) ?? 0) + 1);
      }
      this.sending.add(id);
      const delivery = this.deliver(entry, channel).finally(() => {
        this.sending.delete(id);
        if (channel) this.inFlight.set(channel.name, (this.inFlight.get(channel.name) ?? 1) - 1);
        this.running.delete(delivery);
        if (this.isActive) this.deliverDue();
      });
      this.running.add(delivery);
    }
  }

  private async deliver(entry: OutboxEntry, channel: Channel | undefined): Promise<void> {
    const { message } = entry;
    const attempts = entry.attempts + 1;
    let failure: DeliveryError | undefined;
    try {
      if (!channel) throw new DeliveryError(`no channel named "${message.channel}"`, false);
      await this.options.send(channel, message);
    } catch (error) {
      failure =
        error instanceof DeliveryError
          ? error
          : new DeliveryError(`delivery failed: ${(error as Error).message ?? String(error)}`, true);
    }
    const now = this.options.clock.now();
    const channelType = channel?.type ?? null;
    const errorText = failure && channel ? redact(failure.message, channel) : failure?.message;
    const canRetry =
      failure !== undefined &&
      failure.isRetryable &&
      attempts < this.options.maxAttempts &&
      now - message.createdAt < this.options.maxAgeMs;
    const status: DeliveryStatus = !failure ? 'delivered' : canRetry ? 'retrying' : 'failed';
    const record: DeliveryRecord = {
      sequence: ++this.sequence,
      id: message.id,
      rule: message.rule,
      channel: message.channel,
      channel_type: channelType,
      status,
      alert_status: statusOf(message),
      alerts: message.alerts.length,
      attempts,
      at: new Date(now).toISOString(),
    };
    if (errorText) record.error = errorText;
    const changes: StoreChange[] = [{ collection: 'deliveries', key: sequenceKey(record.sequence), value: record }];
    let retry: OutboxEntry | undefined;
    if (status === 'retrying') {
      const nextAttemptAt =
        now + retryDelay(attempts, this.options.retryBaseMs, this.options.retryMaxMs, this.options.random);
      record.next_attempt_at = new Date(nextAttemptAt).toISOString();
      retry = { message, attempts, nextAttemptAt, lastError: errorText };
      changes.push({ collection: 'outbox', key: message.id, value: retry });
    } else {
      changes.push({ collection: 'outbox', key: message.id });
    }
    const overflow = this.history.length + 1 - this.options.historySize;
    for (const dropped of this.history.slice(0, Math.max(0, overflow)))
      changes.push({ collection: 'deliveries', key: sequenceKey(dropped.sequence) });
    const type = channelType ?? 'unknown';
    if (status === 'delivered') this.options.metrics.notificationsSent.inc({ channel_type: type });
    else
      this.options.metrics.notificationsFailed.inc({
        channel_type: type,
        outcome: status === 'retrying' ? 'retrying' : 'dropped',
      });
    if (status !== 'delivered')
      this.options.logger.warn('notification delivery failed', {
        id: message.id,
        channel: message.channel,
        attempts,
        status,
        error: errorText,
      });
    try {
      await this.options.store.apply(changes);
    } catch (error) {
      this.options.logger.error('could not record a delivery', { id: message.id, error: (error as Error).message });
    }
    // Shown (and forgotten from the queue) only once durable, so what the API reports delivered stays delivered.
    if (retry) this.entries.set(message.id, retry);
    else this.entries.delete(message.id);
    this.history.push(record);
    if (overflow > 0) this.history.splice(0, overflow);
    this.options.metrics.outboxSize.set(this.entries.size);
    this.options.onOutcome(message, record);
  }
}
