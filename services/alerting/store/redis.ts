import type Redis from 'ioredis';
import {
  COLLECTIONS,
  emptyData,
  isConfiguration,
  type AlertingStore,
  type Collection,
  type StoreChange,
  type StoreData,
} from './store';

/**
 * The shared store for replicas: one Redis hash per collection (`<prefix>:rules`, `<prefix>:alerts`, ...), values as
 * JSON. One `apply` is one MULTI/EXEC transaction, so a state transition and the outbox entries it produced land
 * together. `<prefix>:config-version` is incremented in the same transaction whenever rules or channels change.
 */
export class RedisStore implements AlertingStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(collection: Collection | 'config-version'): string {
    return `${this.prefix}:${collection}`;
  }

  async load(): Promise<StoreData> {
    const data = emptyData();
    for (const collection of COLLECTIONS) data[collection] = await this.loadCollection(collection);
    return data;
  }

  async loadCollection(collection: Collection): Promise<Map<string, unknown>> {
    const entries = await this.redis.hgetall(this.key(collection));
    return new Map(Object.entries(entries).map(([key, value]) => [key, JSON.parse(value) as unknown]));
  }

  async apply(changes: readonly StoreChange[]): Promise<void> {
    if (changes.length === 0) return;
    const transaction = this.redis.multi();
    for (const change of changes) {
      if (change.value === undefined) transaction.hdel(this.key(change.collection), change.key);
      else transaction.hset(this.key(change.collection), change.key, JSON.stringify(change.value));
    }
    if (changes.some((change) => isConfiguration(change.collection))) transaction.incr(this.key('config-version'));
    const results = await transaction.exec();
    const failed = results?.find(([error]) => error);
    if (!results || failed) throw new Error(`redis transaction failed: ${failed?.[0]?.message ?? 'aborted'}`);
  }

  async configurationVersion(): Promise<number> {
    return Number((await this.redis.get(this.key('config-version'))) ?? 0);
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
