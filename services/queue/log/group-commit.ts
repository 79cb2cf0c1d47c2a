/**
 * When writes become durable (the syncable is the peer's WAL, peer-wal.ts). `group` (default): the appends of every
 * partition in one event-loop turn share one fdatasync, and those arriving while syncs run share the next one, so
 * under load one fdatasync serves many appends. `always`: every request gets an fdatasync of its own, started at once. `interval`: requests are
 * answered at once and a timer syncs every `intervalMs` (a write acknowledged then can be lost with the machine; a
 * minority of peers losing power is still covered by Raft's other copies).
 */
export const FsyncPolicy = { Group: 'group', Always: 'always', Interval: 'interval' } as const;
export type FsyncPolicy = (typeof FsyncPolicy)[keyof typeof FsyncPolicy];

export interface Syncable {
  /** Durable once resolved; concurrent calls may share one fdatasync. */
  sync(): Promise<void>;
  /** An fdatasync of this caller's own, even if one is already running. */
  syncAlone(): Promise<void>;
}

export class GroupCommitter {
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly dirty = new Set<Syncable>();

  constructor(
    private readonly policy: FsyncPolicy,
    intervalMs: number,
    /** Called with each fdatasync's duration in seconds (the fsync latency metric). */
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
      case 'group':
        return this.timed(() => log.sync());
      case 'always':
        return this.timed(() => log.syncAlone());
      case 'interval':
        this.dirty.add(log);
        return Promise.resolve();
      default: {
        const exhaustive: never = this.policy;
        return exhaustive;
      }
    }
  }

  /** Syncs everything outstanding (used at shutdown). */
  flush(): Promise<void> {
    return this.syncDirty();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async syncDirty(): Promise<void> {
    const logs = [...this.dirty];
    this.dirty.clear();
    await Promise.all(logs.map((log) => this.timed(() => log.sync())));
  }

  private async timed(sync: () => Promise<void>): Promise<void> {
    const started = process.hrtime.bigint();
    await sync();
    this.onSynced(Number(process.hrtime.bigint() - started) / 1e9);
  }
}
