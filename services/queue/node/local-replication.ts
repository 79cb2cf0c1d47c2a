import type { LogEntry } from '../log/frame';
import type { GroupCommitter } from '../log/group-commit';
import { writeHardState } from '../log/hard-state';
import type { Partition } from './partition';
import type { PartitionStatus, PeerInfo, Replication } from './replication';

/** A peer alone: an entry is committed as soon as it is durable on this peer's disk. */
export class LocalReplication implements Replication {
  private readonly term = 1;

  constructor(
    readonly selfId: string,
    private readonly url: string,
    private readonly committer: GroupCommitter,
    private readonly directoryOf: (partition: Partition) => string,
  ) {}

  leaderOf(): string {
    return this.selfId;
  }

  async propose(partition: Partition, data: Buffer): Promise<number> {
    const entry: LogEntry = { index: partition.log.lastIndex() + 1, term: this.term, kind: 'normal', data };
    partition.log.append([entry]);
    const committed = new Promise<number>((resolve, reject) =>
      partition.track({ index: entry.index, term: entry.term, resolve, reject }),
    );
    await this.committer.whenDurable(partition.log);
    partition.apply([entry]);
    return committed;
  }

  status(): PartitionStatus {
    return { leader: this.selfId, term: this.term, members: [this.selfId], lag: {} };
  }

  peers(): PeerInfo[] {
    return [{ id: this.selfId, url: this.url, reachable: true }];
  }

  peerUrl(id: string): string | undefined {
    return id === this.selfId ? this.url : undefined;
  }

  async close(partitions: readonly Partition[] = []): Promise<void> {
    for (const partition of partitions)
      writeHardState(this.directoryOf(partition), { term: this.term, vote: this.selfId, commit: partition.commitIndex });
  }
}
