import type { Partition } from './partition';

/** How a partition's entries get committed: alone on this peer, or through its Raft group. */
export interface PartitionStatus {
  leader: string | null;
  term: number;
  members: string[];
  /** Entries each follower is behind the leader (known on the leader only). */
  lag: Record<string, number>;
}

export interface PeerInfo {
  id: string;
  url: string;
  reachable: boolean;
}

export interface Replication {
  readonly selfId: string;
  leaderOf(partition: Partition): string | undefined;
  /** Appends one record batch as one entry; resolves with the batch's first offset once committed. */
  propose(partition: Partition, data: Buffer, timeoutMs: number): Promise<number>;
  status(partition: Partition): PartitionStatus;
  peers(): PeerInfo[];
  peerUrl(id: string): string | undefined;
  close(): Promise<void>;
}
