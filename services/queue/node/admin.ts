import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../../kit/errors';
import { writeFileAtomic } from '../log/atomic-file';
import { invalidRequest, noQuorum } from '../errors';
import type { ConfigChange } from '../raft/types';
import type { Partition } from './partition';
import type { QueueNode } from './queue-node';
import type { RaftReplication } from './raft-replication';

/**
 * Operator actions over every partition: membership changes (one peer at a time, in each partition's Raft group)
 * and moving leadership away from a peer before it restarts.
 */
const PEERS_FILE = 'peers.json';
const RETRY_MS = 50;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Peer URLs learned at run time (a member added by the operator), kept across restarts. */
export function readLearnedPeers(dataDir: string): Map<string, string> {
  const file = path.join(dataDir, PEERS_FILE);
  if (!fs.existsSync(file)) return new Map();
  return new Map(Object.entries(JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>));
}

export class ClusterAdmin {
  constructor(
    private readonly node: QueueNode,
    private readonly replication: RaftReplication,
    private readonly dataDir: string,
    private readonly timeoutMs: number,
  ) {}

  learnPeer(id: string, url: string): void {
    this.replication.transport.setUrl(id, url);
    fs.mkdirSync(this.dataDir, { recursive: true });
    writeFileAtomic(
      path.join(this.dataDir, PEERS_FILE),
      JSON.stringify(Object.fromEntries(this.replication.transport.knownUrls())),
    );
  }

  async addMember(id: string, url: string): Promise<{ partitions: number }> {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(id)) throw invalidRequest('"id" must be 1-64 letters, digits, . _ -');
    if (!/^https?:\/\/[^\s]+$/.test(url)) throw invalidRequest('"url" must be an http(s) URL');
    await this.announce(id, url);
    return this.changeEverywhere({ type: 'add', node: id });
  }

  async removeMember(id: string): Promise<{ partitions: number }> {
    return this.changeEverywhere({ type: 'remove', node: id });
  }

  /** Config change proposed on this peer, which must lead the partition. */
  proposeHere(partition: Partition, change: ConfigChange): Promise<number> {
    return this.replication.proposeConfigChange(partition, change, this.timeoutMs);
  }

  /** Asks peer `from` to hand every leadership it holds to other members, and waits until it holds none. */
  async transferFrom(from: string): Promise<{ from: string; remaining: number }> {
    if (from === this.replication.selfId) return { from, remaining: await this.transferAway() };
    const url = this.replication.peerUrl(from);
    if (!url) throw new ApiError(404, 'unknown_peer', `no peer named "${from}"`);
    const response = await fetch(`${url}/v1/internal/transfer-away`, {
      method: 'POST',
      signal: AbortSignal.timeout(this.timeoutMs + 1_000),
    });
    const body = (await response.json()) as { remaining?: number; error?: { code: string; message: string } };
    if (!response.ok)
      throw new ApiError(
        response.status,
        body.error?.code ?? 'transfer_failed',
        body.error?.message ?? 'transfer failed',
      );
    return { from, remaining: body.remaining ?? 0 };
  }

  /** Moves this peer's leaderships away; answers how many it still holds at the deadline. */
  async transferAway(): Promise<number> {
    const deadline = Date.now() + this.timeoutMs;
    while (Date.now() < deadline) {
      if (this.replication.ledPartitions() === 0) return 0;
      this.replication.transferAllLeadership();
      await sleep(RETRY_MS * 4);
    }
    return this.replication.ledPartitions();
  }

  private async announce(id: string, url: string): Promise<void> {
    this.learnPeer(id, url);
    await Promise.all(
      this.replication
        .peers()
        .filter((peer) => peer.id !== this.replication.selfId && peer.id !== id)
        .map((peer) =>
          fetch(`${peer.url}/v1/internal/peer-url`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ id, url }),
            signal: AbortSignal.timeout(this.timeoutMs),
          }).then(
            (response) => response.arrayBuffer(),
            () => undefined,
          ),
        ),
    );
  }

  private async changeEverywhere(change: ConfigChange): Promise<{ partitions: number }> {
    const partitions = [...this.node.partitions.values()];
    await Promise.all(partitions.map((partition) => this.changeOne(partition, change)));
    return { partitions: partitions.length };
  }

  private async changeOne(partition: Partition, change: ConfigChange): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    let problem = 'no leader';
    while (Date.now() < deadline) {
      // This peer's view of the membership includes appended changes: re-proposing after a lost answer is a no-op.
      const members = this.replication.status(partition).members;
      if (change.type === 'add' ? members.includes(change.node) : !members.includes(change.node)) return;
      const leader = this.replication.leaderOf(partition);
      try {
        if (leader === this.replication.selfId) {
          await this.proposeHere(partition, change);
          return;
        }
        const url = leader ? this.replication.peerUrl(leader) : undefined;
        if (url) {
          const response = await fetch(`${url}/v1/internal/config-change`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ topic: partition.topic, partition: partition.partition, change }),
            signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())),
          });
          const body = (await response.json()) as { error?: { code: string; message: string } };
          if (response.ok) return;
          if (response.status === 400)
            throw new ApiError(400, body.error?.code ?? 'invalid_config_change', body.error?.message ?? '');
          problem = body.error?.message ?? `leader answered ${response.status}`;
        }
      } catch (error) {
        if (error instanceof ApiError && error.status === 400) throw error;
        problem = (error as Error).message;
      }
      await sleep(RETRY_MS);
    }
    throw noQuorum(`${partition.key}: membership change not committed in time (${problem})`);
  }
}
