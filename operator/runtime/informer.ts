import type { KubeClient, KubeObject, Resource, WatchEventType, WatchHandle } from './kube';
import type { Scheduler } from './scheduler';

export const objectKey = (object: { metadata: { namespace?: string; name: string } }) =>
  object.metadata.namespace ? `${object.metadata.namespace}/${object.metadata.name}` : object.metadata.name;

export type InformerEvent = 'added' | 'updated' | 'deleted' | 'resynced';

export interface InformerOptions {
  resource: Resource;
  /** Watch scope; undefined watches every namespace. */
  namespace?: string;
  labelSelector?: string;
  scheduler: Scheduler;
  /** Full list every so often: repairs anything a watch missed and re-delivers every object (a resync). */
  relistMs: number;
  /**
   * A watch that delivers nothing (not even a bookmark) for this long is presumed dead and restarted. The JavaScript
   * client can leave a watch connected but silent after a network fault; bookmarks make a healthy watch chatty.
   */
  silenceMs: number;
  /** Delay before retrying after a failed list or watch. */
  retryMs: number;
  onError?: (error: unknown) => void;
}

/**
 * List-then-watch cache of one resource, after client-go's reflector: the list fills the store, the watch continues
 * from the list's resourceVersion with bookmarks, a 410 Gone or a dead watch leads to a fresh list, and a periodic
 * relist resyncs. Handlers receive the key and the object (the last known one for deletions).
 */
export class Informer<T extends KubeObject> {
  private readonly store = new Map<string, T>();
  private readonly handlers: ((event: InformerEvent, object: T) => void)[] = [];
  private resourceVersion = '';
  private watchHandle: WatchHandle | undefined;
  private cancelWatchdog: (() => void) | undefined;
  private cancelRelist: (() => void) | undefined;
  private cancelRetry: (() => void) | undefined;
  private generation = 0;
  private isRunning = false;
  private isSynced = false;
  private syncWaiters: (() => void)[] = [];

  constructor(
    private readonly client: KubeClient,
    private readonly options: InformerOptions,
  ) {}

  on(handler: (event: InformerEvent, object: T) => void): void {
    this.handlers.push(handler);
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  list(namespace?: string): T[] {
    const all = [...this.store.values()];
    return namespace === undefined ? all : all.filter((object) => object.metadata.namespace === namespace);
  }

  get hasSynced(): boolean {
    return this.isSynced;
  }

  /** Starts listing and watching; resolves once the first list has filled the cache. */
  start(): Promise<void> {
    this.isRunning = true;
    void this.relist();
    return this.waitForSync();
  }

  waitForSync(): Promise<void> {
    if (this.isSynced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  stop(): void {
    this.isRunning = false;
    this.generation++;
    this.stopWatch();
    this.cancelRelist?.();
    this.cancelRetry?.();
  }

  private async relist(): Promise<void> {
    if (!this.isRunning) return;
    const generation = ++this.generation;
    this.stopWatch();
    this.cancelRelist?.();
    this.cancelRetry?.();
    try {
      const { items, resourceVersion } = await this.client.list<T>(
        this.options.resource,
        this.options.namespace,
        this.options.labelSelector,
      );
      if (generation !== this.generation) return;
      this.replace(items);
      this.resourceVersion = resourceVersion;
      this.markSynced();
      this.cancelRelist = this.options.scheduler.schedule(this.options.relistMs, () => void this.relist());
      await this.startWatch(generation);
    } catch (error) {
      if (generation !== this.generation) return;
      this.options.onError?.(error);
      this.cancelRetry = this.options.scheduler.schedule(this.options.retryMs, () => void this.relist());
    }
  }

  private async startWatch(generation: number): Promise<void> {
    this.armWatchdog(generation);
    const handle = await this.client.watch(
      this.options.resource,
      this.options.namespace,
      {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        labelSelector: this.options.labelSelector,
        timeoutSeconds: Math.max(60, Math.round(this.options.silenceMs / 1000) * 4),
      },
      (type, object) => {
        if (generation === this.generation) this.handleEvent(type, object as T, generation);
      },
      (error) => {
        if (generation === this.generation) this.handleWatchEnd(error, generation);
      },
    );
    if (generation === this.generation) this.watchHandle = handle;
    else handle.abort();
  }

  private handleEvent(type: WatchEventType, object: T, generation: number): void {
    this.armWatchdog(generation);
    switch (type) {
      case 'ADDED':
      case 'MODIFIED': {
        const key = objectKey(object);
        const isKnown = this.store.has(key);
        this.store.set(key, object);
        this.emit(isKnown ? 'updated' : 'added', object);
        break;
      }
      case 'DELETED': {
        const key = objectKey(object);
        this.store.delete(key);
        this.emit('deleted', object);
        break;
      }
      case 'BOOKMARK':
        break;
      case 'ERROR':
        // Usually 410 Gone: the resourceVersion is too old to resume from, so start over with a list.
        this.resourceVersion = '';
        void this.relist();
        return;
      default: {
        const exhaustive: never = type;
        return exhaustive;
      }
    }
    const resourceVersion = object.metadata?.resourceVersion;
    if (resourceVersion) this.resourceVersion = resourceVersion;
  }

  private handleWatchEnd(error: unknown, generation: number): void {
    this.stopWatch();
    const status = (error as { statusCode?: number } | undefined)?.statusCode;
    if (!error) {
      // A server-side timeout ends a healthy watch: resume from the last resourceVersion seen.
      void this.startWatch(generation).catch((watchError: unknown) => this.retryLater(watchError, generation));
      return;
    }
    if (status === 410) this.resourceVersion = '';
    this.retryLater(error, generation);
  }

  private retryLater(error: unknown, generation: number): void {
    if (generation !== this.generation) return;
    this.options.onError?.(error);
    this.cancelRetry?.();
    this.cancelRetry = this.options.scheduler.schedule(this.options.retryMs, () => void this.relist());
  }

  private armWatchdog(generation: number): void {
    this.cancelWatchdog?.();
    this.cancelWatchdog = this.options.scheduler.schedule(this.options.silenceMs, () => {
      if (generation !== this.generation) return;
      this.options.onError?.(
        new Error(`watch of ${this.options.resource.plural} silent for ${this.options.silenceMs} ms`),
      );
      void this.relist();
    });
  }

  private stopWatch(): void {
    this.cancelWatchdog?.();
    this.cancelWatchdog = undefined;
    this.watchHandle?.abort();
    this.watchHandle = undefined;
  }

  /** Applies a full list: new and changed objects, objects that disappeared, and a resync of the unchanged. */
  private replace(items: T[]): void {
    const seen = new Set<string>();
    for (const object of items) {
      const key = objectKey(object);
      seen.add(key);
      const previous = this.store.get(key);
      this.store.set(key, object);
      if (!previous) this.emit('added', object);
      else if (previous.metadata.resourceVersion !== object.metadata.resourceVersion) this.emit('updated', object);
      else this.emit('resynced', object);
    }
    for (const [key, object] of this.store)
      if (!seen.has(key)) {
        this.store.delete(key);
        this.emit('deleted', object);
      }
  }

  private markSynced(): void {
    if (this.isSynced) return;
    this.isSynced = true;
    for (const resolve of this.syncWaiters.splice(0)) resolve();
  }

  private emit(event: InformerEvent, object: T): void {
    for (const handler of this.handlers) handler(event, object);
  }
}
