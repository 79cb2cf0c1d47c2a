import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../../kit/errors';
import { writeFileAtomic } from '../log/atomic-file';
import { invalidRequest, noQuorum, notLeader } from '../errors';
import type { ConfigChange } from '../raft/types';
import type { Partition } from './partition';
import type { QueueNode } from './queue-node';
import type { RaftReplication } from './raft-replication';

/**
 * Operator actions over every partition: membership changes (one peer at a time, in each partition's Raft group)
 * and moving leadership away from a peer before it leaves or restarts. Every action is idempotent: repeating one
 * that already took effect answers as the first did, so the operator may retry after a lost answer.
 */
const PEERS_FILE = 'peers.json';
const RETRY_MS = 50;
/** A peer leadership was moved away from gets none back (leader balancing) for this long. */
const DRAIN_MS = 30_000;
const ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const majority = (size: number) => Math.floor(size / 2) + 1;

export const unknownPeer = (id: string) => new ApiError(404, 'unknown_peer', `no peer named "${id}"`);
const peerUnreachable = (id: string, reason: string) =>
  new ApiError(503, 'peer_unreachable', `peer ${id} did not answer: ${reason}`, { retry_after_seconds: 1 });
const quorumAtRisk = (message: string) => new ApiError(409, 'quorum_at_risk', message);

/** Codes that end a membership change at once; anything else (no leader yet, a change pending) is retried. */
const FINAL_CODES = new Set(['invalid_request', 'invalid_config_change', 'quorum_at_risk', 'unknown_peer']);

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

  /** Adds `id` as a voter of every group; the peer must already run (it is asked for `/healthz` first). */
  async addMember(id: string, url: string): Promise<{ partitions: number }> {
    if (!ID_PATTERN.test(id)) throw invalidRequest('"id" must be 1-64 letters, digits, . _ -');
    if (!/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(url)) throw invalidRequest('"url" must be an http(s) URL');
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(Math.min(2_000, this.timeoutMs)) });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`/healthz answered ${response.status}`);
    } catch (error) {
      throw peerUnreachable(id, (error as Error).message);
    }
    await this.announce(id, url);
    return this.changeEverywhere({ type: 'add', node: id });
  }

  /** Removes `id` from every group; removing a known peer that is no longer a member succeeds at once. */
  async removeMember(id: string): Promise<{ partitions: number }> {
    if (!this.isKnown(id)) throw unknownPeer(id);
    return this.changeEverywhere({ type: 'remove', node: id });
  }

  /**
   * On the partition's leader: makes `change` take effect and waits until it is committed. A change already in
   * effect only waits for its commit (a retry); one that would leave no reachable majority is refused.
   */
  async proposeHere(partition: Partition, change: ConfigChange, deadline: number): Promise<void> {
    const membership = this.replication.membership(partition);
    if (!membership.isLeader) throw notLeader(`${partition.key}: this peer is not the leader`);
    const isInEffect =
      change.type === 'add' ? membership.members.includes(change.node) : !membership.members.includes(change.node);
    if (!isInEffect) {
      this.checkQuorum(partition, membership.members, change);
      await this.replication.proposeConfigChange(partition, change, Math.max(1, deadline - Date.now()));
      return;
    }
    while (Date.now() < deadline) {
      const now = this.replication.membership(partition);
      if (!now.isLeader) throw notLeader(`${partition.key}: leadership moved`);
      if (now.commit >= membership.membersIndex) return;
      await sleep(RETRY_MS / 5);
    }
    throw noQuorum(`${partition.key}: membership change not committed in time`);
  }

  /** Asks peer `from` to hand every leadership it holds to other members, and waits until it holds none. */
  async transferFrom(from: string): Promise<{ from: string; remaining: number }> {
    if (!this.isKnown(from)) throw unknownPeer(from);
    await this.broadcast('/v1/internal/draining', { id: from, ms: DRAIN_MS });
    if (from === this.replication.selfId) return { from, remaining: await this.transferAway() };
    const url = this.replication.peerUrl(from);
    if (!url) throw unknownPeer(from);
    let response: Response;
    try {
      response = await fetch(`${url}/v1/internal/transfer-away`, {
        method: 'POST',
        signal: AbortSignal.timeout(this.timeoutMs + 1_000),
      });
    } catch (error) {
      throw peerUnreachable(from, (error as Error).message);
    }
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
    this.markDraining(this.replication.selfId, DRAIN_MS);
    const deadline = Date.now() + this.timeoutMs;
    while (Date.now() < deadline) {
      if (this.replication.ledPartitions() === 0) return 0;
      this.replication.transferAllLeadership();
      await sleep(RETRY_MS * 4);
    }
    return this.replication.ledPartitions();
  }

  markDraining(id: string, ms: number): void {
    this.replication.markDraining(id, Date.now() + Math.min(ms, DRAIN_MS));
  }

  /** A peer this one has a URL for, or that some group counts as a member. */
  private isKnown(id: string): boolean {
    if (this.replication.peerUrl(id) !== undefined) return true;
    return [...this.node.partitions.values()].some((partition) =>
      this.replication.status(partition).members.includes(id),
    );
  }

  /**
   * Refuses a change after which the group would not have a majority of members this leader can reach: adding a
   * peer to a group that lost one (the new peer was just seen answering), or removing one that others depend on.
   */
  private checkQuorum(partition: Partition, members: readonly string[], change: ConfigChange): void {
    const isReachable = (id: string) => id === this.replication.selfId || this.replication.isReachable(id);
    if (change.type === 'add') {
      const healthy = members.filter(isReachable).length + 1;
      if (healthy < majority(members.length + 1))
        throw quorumAtRisk(
          `${partition.key}: with ${change.node}, ${healthy} of ${members.length + 1} members would be reachable`,
        );
      return;
    }
    const remaining = members.filter((member) => member !== change.node);
    if (remaining.length === 0) throw new ApiError(400, 'invalid_config_change', 'cannot remove the last member');
    const healthy = remaining.filter(isReachable).length;
    if (healthy < majority(remaining.length))
      throw quorumAtRisk(
        `${partition.key}: without ${change.node}, ${healthy} of ${remaining.length} remaining members are reachable ` +
          `and a majority needs ${majority(remaining.length)}`,
      );
  }

  private async announce(id: string, url: string): Promise<void> {
    this.learnPeer(id, url);
    await this.broadcast('/v1/internal/peer-url', { id, url }, id);
  }

  /** Posts `body` to every other member of some group (but `except`), best effort; peers long removed are skipped. */
  private async broadcast(route: string, body: unknown, except?: string): Promise<void> {
    const members = new Set(
      [...this.node.partitions.values()].flatMap((partition) => this.replication.status(partition).members),
    );
    await Promise.all(
      this.replication
        .peers()
        .filter((peer) => members.has(peer.id) && peer.id !== this.replication.selfId && peer.id !== except)
        .map((peer) =>
          fetch(`${peer.url}${route}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
            signal: AbortSignal.timeout(Math.min(2_000, this.timeoutMs)),
          }).then(
            (response) => response.arrayBuffer(),
            () => undefined,
          ),
        ),
    );
  }

  private async changeEverywhere(change: ConfigChange): Promise<{ partitions: number }> {
    const partitions = [...this.node.partitions.values()];
    const deadline = Date.now() + this.timeoutMs;
    await Promise.all(partitions.map((partition) => this.changeOne(partition, change, deadline)));
    return { partitions: partitions.length };
  }

  /** Runs the change on the partition's leader (here or forwarded), retrying through elections until the deadline. */
  private async changeOne(partition: Partition, change: ConfigChange, deadline: number): Promise<void> {
    let problem = 'no leader';
    while (Date.now() < deadline) {
      const leader = this.replication.leaderOf(partition);
      try {
        if (leader === this.replication.selfId) {
          await this.proposeHere(partition, change, deadline);
          return;
        }
        const url = leader ? this.replication.peerUrl(leader) : undefined;
        if (url) {
          const response = await fetch(`${url}/v1/internal/config-change`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-metricstream-deadline': String(deadline) },
            body: JSON.stringify({ topic: partition.topic, partition: partition.partition, change }),
            signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())),
          });
          const body = (await response.json()) as { error?: { code: string; message: string } };
          if (response.ok) return;
          throw new ApiError(
            response.status,
            body.error?.code ?? 'config_change_failed',
            body.error?.message ?? `leader answered ${response.status}`,
          );
        }
      } catch (error) {
        if (error instanceof ApiError && FINAL_CODES.has(error.code)) throw error;
        problem = (error as Error).message;
      }
      await sleep(RETRY_MS);
    }
    throw noQuorum(`${partition.key}: membership change not committed in time (${problem})`);
  }
}
