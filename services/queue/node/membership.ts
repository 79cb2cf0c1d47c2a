import type { Logger } from '../../kit/logger';
import type { ClusterView, QueueNode } from './queue-node';
import type { RaftReplication } from './raft-replication';

/**
 * How a peer finds its place in each partition's Raft group when it is not (yet) a member of it.
 *
 * A partition log created from nothing knows no membership (unless `--bootstrap new` or a single peer): its Raft
 * group neither campaigns nor counts itself anywhere, it only answers a leader. While any group is in that state the
 * peer polls the other peers' `GET /cluster`:
 * - when some peer reports members for that partition, a cluster exists: the peer waits to be added (the leader's
 *   catch-up then brings the log and the membership), and meanwhile answers with the leader and members it learned;
 * - in `auto` mode, when every peer of `--peers` answered and none knows members for the partition, the cluster is
 *   being created: the group starts with `--peers` as its membership (every creating peer picks the same one).
 * A removed peer (its log says it is no longer a member) is polled for the same way, so it forwards to the real
 * leaders and reports the current members until it is stopped.
 */
export type BootstrapMode = 'auto' | 'new' | 'join';

export interface MembershipWatcherOptions {
  node: QueueNode;
  replication: RaftReplication;
  /** `--peers` (this peer included): the membership of a cluster being created. */
  configuredPeers: ReadonlyMap<string, string>;
  mode: BootstrapMode;
  pollMs: number;
  logger: Logger;
}

export class MembershipWatcher {
  private readonly timer: NodeJS.Timeout;
  private isPolling = false;
  private isWaitingReported = false;

  constructor(private readonly options: MembershipWatcherOptions) {
    this.timer = setInterval(() => void this.poll(), options.pollMs);
    this.timer.unref();
    void this.poll();
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** One round: ask the other peers about every group this peer is not a member of. */
  async poll(): Promise<void> {
    if (this.isPolling) return;
    this.isPolling = true;
    try {
      await this.pollOnce();
    } catch (error) {
      this.options.logger.warn('membership poll failed', { error: (error as Error).message });
    } finally {
      this.isPolling = false;
    }
  }

  private async pollOnce(): Promise<void> {
    const { node, replication } = this.options;
    const partitions = [...node.partitions.values()];
    const outside = partitions.filter((partition) => !replication.isMember(partition));
    for (const partition of partitions) if (!outside.includes(partition)) replication.setHint(partition, undefined);
    if (outside.length === 0) {
      this.isWaitingReported = false;
      return;
    }
    const views = await this.fetchViews();
    const configuredOthers = [...this.options.configuredPeers.keys()].filter((id) => id !== replication.selfId);
    const isEveryConfiguredPeerAnswering = configuredOthers.every((id) => views.has(id));
    const waiting: string[] = [];
    const created: string[] = [];
    for (const partition of outside) {
      const reports = [...views.values()]
        .map((view) =>
          view.partitions.find((item) => item.topic === partition.topic && item.partition === partition.partition),
        )
        .filter((item) => item !== undefined && item.members.length > 0);
      if (reports.length > 0) {
        // The report of the highest term, preferring one that names a leader.
        const best = reports.sort(
          (a, b) => b!.term - a!.term || Number(b!.leader !== null) - Number(a!.leader !== null),
        )[0]!;
        replication.setHint(partition, { leader: best.leader, term: best.term, members: [...best.members] });
        waiting.push(partition.key);
        continue;
      }
      if (!replication.isMembershipUnknown(partition) || this.options.mode !== 'auto') continue;
      if (!isEveryConfiguredPeerAnswering) continue;
      if (replication.bootstrap(partition, [...this.options.configuredPeers.keys()])) created.push(partition.key);
    }
    this.reportWaiting(waiting);
    if (created.length > 0)
      this.options.logger.info('created Raft groups with the configured peers', {
        partitions: created,
        members: [...this.options.configuredPeers.keys()],
      });
  }

  private async fetchViews(): Promise<Map<string, ClusterView>> {
    const { replication } = this.options;
    const views = new Map<string, ClusterView>();
    const timeoutMs = Math.max(200, this.options.pollMs * 2);
    await Promise.all(
      replication
        .peers()
        .filter((peer) => peer.id !== replication.selfId)
        .map(async (peer) => {
          try {
            const response = await fetch(`${peer.url}/cluster`, { signal: AbortSignal.timeout(timeoutMs) });
            if (!response.ok) {
              await response.arrayBuffer();
              return;
            }
            views.set(peer.id, (await response.json()) as ClusterView);
          } catch {
            // Not up yet, or gone: its answer is simply missing from this round.
          }
        }),
    );
    return views;
  }

  private reportWaiting(partitions: string[]): void {
    if (this.isWaitingReported || partitions.length === 0) return;
    this.isWaitingReported = true;
    this.options.logger.info('not a member of these Raft groups: waiting to be added', { partitions });
  }
}
