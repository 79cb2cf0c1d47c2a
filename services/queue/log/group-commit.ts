/**
 * When writes become durable. `group` (default): a sync starts as soon as none is running and covers every log written
 * since, so under load one fdatasync per file serves every append that arrived during the previous one. `always`:
 * each request syncs on its own. `interval`: requests are answered at once and a timer syncs every `intervalMs`
 * (an acknowledged write can be lost with the machine; a minority of peers losing power is still covered by Raft).
 */
export const FsyncPolicy = { Group: 'group', Always: 'always', Interval: 'interval' } as const;
export type FsyncPolicy = (typeof FsyncPolicy)[keyof typeof FsyncPolicy];

export interface Syncable {
  sync(): Promise<void>;
}

export class GroupCommitter {
  private waiting = new Map<Syncable, Array<{ resolve: () => void; reject: (error: unknown) => void }>>();
  private isSyncing = false;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly dirty = new Set<Syncable>();

  constructor(
    private readonly policy: FsyncPolicy,
    intervalMs: number,
    /** Called with each round's duration in seconds (the fsync latency metric). */
    private readonly onSynced: (seconds: number) => void = () => undefined,
  ) {
    if (policy === 'interval') {
      this.timer = setInterval(() => void this.syncDirty(), intervalMs);
      this.timer.unref();
    }
  }

  /** Resolves once `log`'s writes so far are durable under the policy. */
  whenDurable(log: Syncable): Promise<void> {
    switch (this.policy) {
      case 'always':
        return this.timed(() => log.sync());
      case 'interval':
        this.dirty.add(log);
        return Promise.resolve();
      case 'group':
        return new Promise((resolve, reject) => {
          const waiters = this.waiting.get(log) ?? [];
          waiters.push({ resolve, reject });
          this.waiting.set(log, waiters);
          if (!this.isSyncing) queueMicrotask(() => this.startRound());
        });
      default: {
        const exhaustive: never = this.policy;
        return exhaustive;
      }
    }
  }

  /** Syncs everything outstanding (used at shutdown). */
  async flush(): Promise<void> {
    await this.syncDirty();
    while (this.isSyncing || this.waiting.size > 0) {
      if (!this.isSyncing) this.startRound();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private startRound(): void {
    if (this.isSyncing || this.waiting.size === 0) return;
    this.isSyncing = true;
    const round = this.waiting;
    this.waiting = new Map();
    const started = process.hrtime.bigint();
    void Promise.all(
      [...round].map(([log, waiters]) =>
        log.sync().then(
          () => waiters.forEach((waiter) => waiter.resolve()),
          (error: unknown) => waiters.forEach((waiter) => waiter.reject(error)),
        ),
      ),
    ).finally(() => {
      this.onSynced(Number(process.hrtime.bigint() - started) / 1e9);
      this.isSyncing = false;
      this.startRound();
    });
  }

  private async syncDirty(): Promise<void> {
    const logs = [...this.dirty];
    this.dirty.clear();
    if (logs.length > 0) await this.timed(() => Promise.all(logs.map((log) => log.sync())).then(() => undefined));
  }

  private async timed(sync: () => Promise<void>): Promise<void> {
    const started = process.hrtime.bigint();
    await sync();
    this.onSynced(Number(process.hrtime.bigint() - started) / 1e9);
  }
}
