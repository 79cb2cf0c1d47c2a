/**
 * Everything the alerting service must not forget across a restart or a failover, as five keyed collections.
 * The narrow interface the scheduler, the outbox and the API write through; `FileStore` (one process) and
 * `RedisStore` (replicas sharing state) implement it.
 *
 * Ordering contract: `apply` resolves only once its changes are durable, and changes given in one call become
 * durable together (state transitions and the outbox entries they produce, so a crash never keeps one without the
 * other). Callers send a notification only after the `apply` that queued it has resolved, and mark it delivered
 * with another `apply` before they report it delivered.
 */
export const COLLECTIONS = ['rules', 'channels', 'alerts', 'outbox', 'deliveries'] as const;
export type Collection = (typeof COLLECTIONS)[number];

export interface StoreChange {
  collection: Collection;
  key: string;
  /** `undefined` deletes the key. */
  value?: unknown;
}

export type StoreData = Record<Collection, Map<string, unknown>>;

export interface AlertingStore {
  load(): Promise<StoreData>;
  loadCollection(collection: Collection): Promise<Map<string, unknown>>;
  apply(changes: readonly StoreChange[]): Promise<void>;
  /** Changes whenever rules or channels change, so a leader notices edits made through another replica. */
  configurationVersion(): Promise<number>;
  close(): Promise<void>;
}

export const emptyData = (): StoreData =>
  Object.fromEntries(COLLECTIONS.map((collection) => [collection, new Map<string, unknown>()])) as StoreData;

export const isConfiguration = (collection: Collection) => collection === 'rules' || collection === 'channels';
