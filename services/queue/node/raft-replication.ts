import type { Random } from '../../kit/clock';
import { ApiError } from '../../kit/errors';
import type { Logger } from '../../kit/logger';
import { noQuorum, notLeader } from '../errors';
import type { GroupCommitter } from '../log/group-commit';
import type { PeerWal } from '../log/peer-wal';
import { writeHardStateAsync, type HardState } from '../log/hard-state';
import {
  ConfigChangePendingError,
  InvalidConfigChangeError,
  LeadershipTransferError,
  NotLeaderError,
} from '../raft/errors';
import { RaftNode } from '../raft/raft';
import type { InitialState, RaftStorage } from '../raft/storage';
import type { ConfigChange, Entry, Ready, Role, SnapshotMetadata } from '../raft/types';
import type { CatchUpStager } from './catch-up';
import type { QueueMetrics } from './metrics';
import type { Partition } from './partition';
import type { PartitionStatus, PeerInfo, Replication } from './replication';
import { PeerTransport } from './transport';
import type { MessageBatch } from './wire';

/**
 * Multi-Raft: one RaftNode per partition, all driven by one ticker and one Ready loop. Each round persists every
 * group's new entries, shares one group commit among them, and only then sends their messages (all groups' messages
 * to a peer in one request) and applies what they committed (Ready's ordering contract, see raft/types.ts).
 */
export interface RaftReplicationOptions {
  selfId: string;
  selfUrl: string;
  peers: Map<string, string>;
  partitions: readonly Partition[];
  directoryOf: (partition: Partition) => string;
  readHardState: (partition: Partition) => HardState;
  committer: GroupCommitter;
  /** Every group's appends go to this one WAL too: one sync per round makes them all durable. */
  wal: PeerWal;
  /** The WAL is checkpointed (segment logs synced, older generations deleted) once it has grown this much. */
  walCheckpointBytes: number;
  stager: CatchUpStager;
  tickMs: number;
  electionTicks: number;
  heartbeatTicks: number;
  /** A partition's leadership moves to its preferred peer after this long without a leader change. */
  balanceAfterMs: number;
  random: Random;
  logger: Logger;
  metrics: QueueMetrics;
  now: () => number;
}

interface Group {
  readonly key: string;
  /** Position of the partition among all partitions: picks its preferred leader. */
  readonly order: number;
  readonly partition: Partition;
  readonly raft: RaftNode;
  /** Readies handed out whose persistence (or predecessors') is still running. */
  readiesInFlight: number;
  /** Settles once the last handed-out Ready is finished: Readies finish strictly in order. */
  lastReadyDone: Promise<void>;
  /** A catch-up install waits for the Readies before it; no further Ready is taken meanwhile. */
  isWaitingToInstall: boolean;
  /** Term and vote last made durable, and the latest hard state (its commit is written lazily). */
  durableHardState: HardState;
  latestHardState: HardState;
  /** Hard-state writes of this group, in order: a later write never lands before an earlier one. */
  hardStateWrites: Promise<void>;
  leader: string | null;
  role: Role;
  leaderSinceMs: number;
  /** The group as a member reported it, while this peer is not one of its members (joining, or removed). */
  hint: GroupHint | undefined;
}

export interface GroupHint {
  leader: string | null;
  term: number;
  members: string[];
}

/** The segment log seen through the Raft core's narrow storage interface. */
class PartitionStorage implements RaftStorage {
  constructor(
    private readonly partition: Partition,
    private readonly hardState: HardState,
  ) {}

  initialState(): InitialState {
    const start = this.partition.log.logStart();
    return { hardState: { ...this.hardState }, members: start.members, membersIndex: start.index };
  }

  firstIndex(): number {
    return this.partition.log.firstIndex();
  }

  lastIndex(): number {
    return this.partition.log.lastIndex();
  }

  term(index: number): number {
    return this.partition.log.term(index);
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    return this.partition.log.entries(lo, hi, maxBytes);
  }
}

const HOUSEKEEPING_MS = 1_000;
/**
 * A commit index alone is recorded every this many housekeeping rounds: each record costs a partition two fsyncs
 * (file and directory), and a stale one only means a restarted peer re-learns a little more from its leader.
 */
const HARD_STATE_FLUSH_ROUNDS = 5;
/** Readies of one group being persisted at once; more just wait (the group commit merges their syncs anyway). */
const MAX_READIES_IN_FLIGHT = 16;

export class RaftReplication implements Replication {
  readonly selfId: string;
  readonly transport: PeerTransport;
  private readonly groups = new Map<string, Group>();
  private readonly drainingUntil = new Map<string, number>();
  private readonly ticker: NodeJS.Timeout;
  private readonly housekeeping: NodeJS.Timeout;
  private isProcessScheduled = false;
  private housekeepingRounds = 0;
  private isClosed = false;

  constructor(private readonly options: RaftReplicationOptions) {
    this.selfId = options.selfId;
    const peerUrls = new Map([...options.peers].filter(([id]) => id !== options.selfId));
    this.transport = new PeerTransport(
      options.selfId,
      options.selfUrl,
      peerUrls,
      (peer, groups) => {
        for (const key of groups) this.groups.get(key)?.raft.reportUnreachable(peer);
      },
      options.metrics,
      options.logger,
      // A slow answer is not a lost peer: only give up on a request after two maximum election timeouts.
      Math.max(2_000, 4 * options.tickMs * options.electionTicks),
    );
    options.partitions.forEach((partition, order) => {
      const hardState = options.readHardState(partition);
      const raft = new RaftNode({
        id: options.selfId,
        storage: new PartitionStorage(partition, hardState),
        electionTicks: options.electionTicks,
        heartbeatTicks: options.heartbeatTicks,
        random: options.random,
        isCheckQuorumEnabled: true,
        appliedIndex: partition.commitIndex,
      });
      this.groups.set(partition.key, {
        key: partition.key,
        order,
        partition,
        raft,
        readiesInFlight: 0,
        lastReadyDone: Promise.resolve(),
        isWaitingToInstall: false,
        durableHardState: { ...hardState },
        latestHardState: { ...hardState },
        hardStateWrites: Promise.resolve(),
        leader: null,
        role: 'follower',
        leaderSinceMs: options.now(),
        hint: undefined,
      });
    });
    this.ticker = setInterval(() => this.tick(), options.tickMs);
    this.housekeeping = setInterval(() => {
      if (++this.housekeepingRounds % HARD_STATE_FLUSH_ROUNDS === 0) void this.flushHardStates();
      if (options.wal.isCheckpointDue(options.walCheckpointBytes)) void this.checkpointWal();
      this.balanceLeadership();
    }, HOUSEKEEPING_MS);
    this.scheduleProcess();
  }

  // ---- Replication ----

  leaderOf(partition: Partition): string | undefined {
    const group = this.group(partition);
    if (group.hint) return group.hint.leader ?? undefined;
    return group.raft.currentLeader ?? undefined;
  }

  propose(partition: Partition, data: Buffer, timeoutMs: number): Promise<number> {
    const group = this.group(partition);
    let position: { index: number; term: number };
    try {
      position = group.raft.propose(data);
    } catch (error) {
      throw this.asApiError(error, partition);
    }
    return this.track(group, position, timeoutMs);
  }

  status(partition: Partition): PartitionStatus {
    const group = this.group(partition);
    if (group.hint)
      return { leader: group.hint.leader, term: group.hint.term, members: [...group.hint.members], lag: {} };
    const status = group.raft.status();
    const lag: Record<string, number> = {};
    for (const [peer, progress] of Object.entries(status.progress ?? {}))
      if (peer !== this.selfId) lag[peer] = Math.max(0, status.lastIndex - progress.match);
    return { leader: status.leader, term: status.term, members: status.members, lag };
  }

  peers(): PeerInfo[] {
    return this.transport.peers();
  }

  peerUrl(id: string): string | undefined {
    return this.transport.urlOf(id);
  }

  // ---- admin ----

  /** Whether this peer is a voter of the partition's group (as far as its own log says). */
  isMember(partition: Partition): boolean {
    return this.group(partition).raft.status().members.includes(this.selfId);
  }

  /** The group's membership as this peer's log has it, the index that made it, and how far it is committed here. */
  membership(partition: Partition): { members: string[]; membersIndex: number; commit: number; isLeader: boolean } {
    const status = this.group(partition).raft.status();
    return {
      members: status.members,
      membersIndex: status.membersIndex,
      commit: status.commit,
      isLeader: status.role === 'leader',
    };
  }

  isReachable(id: string): boolean {
    return this.transport.isReachable(id);
  }

  /** Whether this peer started the partition without a membership and no leader has told it one yet. */
  isMembershipUnknown(partition: Partition): boolean {
    return this.group(partition).raft.status().members.length === 0;
  }

  /** Gives a group that knows no membership (and holds no entry) its initial one; answers whether it took effect. */
  bootstrap(partition: Partition, members: readonly string[]): boolean {
    const group = this.group(partition);
    if (!group.raft.bootstrap(members)) return false;
    group.partition.log.resetTo({ index: 0, term: 0, nextOffset: 0, members: [...members].sort() });
    this.options.wal.markReset(group.key);
    this.scheduleProcess();
    return true;
  }

  /** What a member reported about a group this peer is not a member of (undefined: forget it). */
  setHint(partition: Partition, hint: GroupHint | undefined): void {
    this.group(partition).hint = hint;
  }

  /** Peer `id` is about to leave or restart: no leadership is handed to it until `untilMs`. */
  markDraining(id: string, untilMs: number): void {
    this.drainingUntil.set(id, untilMs);
  }

  private isDraining(id: string): boolean {
    return (this.drainingUntil.get(id) ?? 0) > this.options.now();
  }

  /** Proposes a membership change in one partition (this peer must lead it); resolves once committed. */
  proposeConfigChange(partition: Partition, change: ConfigChange, timeoutMs: number): Promise<number> {
    const group = this.group(partition);
    let position: { index: number; term: number };
    try {
      position = group.raft.proposeConfigChange(change);
    } catch (error) {
      throw this.asApiError(error, partition);
    }
    return this.track(group, position, timeoutMs);
  }

  /** Moves every leadership this peer holds to another member; answers how many transfers started. */
  transferAllLeadership(): number {
    let started = 0;
    for (const group of this.groups.values()) {
      const status = group.raft.status();
      if (status.role !== 'leader') continue;
      const candidates = status.members.filter(
        (member) => member !== this.selfId && this.transport.isReachable(member) && !this.isDraining(member),
      );
      const target = candidates.sort(
        (a, b) => (status.progress?.[b]?.match ?? 0) - (status.progress?.[a]?.match ?? 0),
      )[0];
      if (!target) continue;
      group.raft.transferLeadership(target);
      started++;
    }
    this.scheduleProcess();
    return started;
  }

  ledPartitions(): number {
    let count = 0;
    for (const group of this.groups.values()) if (group.raft.status().role === 'leader') count++;
    return count;
  }

  // ---- transport in ----

  receive(batch: MessageBatch): void {
    this.transport.learnUrl(batch.from, batch.url);
    this.transport.markReachable(batch.from);
    for (const { group: key, message } of batch.messages) {
      const group = this.groups.get(key);
      if (!group) continue;
      try {
        group.raft.step(message);
      } catch (error) {
        this.options.logger.error('raft step failed', { group: key, type: message.type, error });
      }
    }
    this.scheduleProcess();
  }

  /** A catch-up stream for `partition` was staged: hand its closing message to the core. */
  stepCatchUpMessage(partition: Partition, message: Parameters<RaftNode['step']>[0]): void {
    this.group(partition).raft.step(message);
    this.scheduleProcess();
  }

  async close(): Promise<void> {
    this.isClosed = true;
    clearInterval(this.ticker);
    clearInterval(this.housekeeping);
    await Promise.all([...this.groups.values()].map((group) => group.lastReadyDone));
    await this.flushHardStates();
    this.transport.close();
    for (const group of this.groups.values())
      group.partition.failPending(new ApiError(503, 'shutting_down', 'the peer is shutting down'));
  }

  // ---- the loop ----

  private group(partition: Partition): Group {
    const group = this.groups.get(partition.key);
    if (!group) throw new Error(`no Raft group for ${partition.key}`);
    return group;
  }

  private track(group: Group, position: { index: number; term: number }, timeoutMs: number): Promise<number> {
    const partition = group.partition;
    this.scheduleProcess();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          partition.forget(
            position.index,
            position.term,
            noQuorum(`${partition.key}: entry ${position.index} not committed within ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
      partition.track({
        index: position.index,
        term: position.term,
        resolve: (offset) => {
          clearTimeout(timer);
          resolve(offset);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
  }

  private asApiError(error: unknown, partition: Partition): unknown {
    if (error instanceof NotLeaderError) return notLeader(`${partition.key}: ${error.message}`);
    if (error instanceof LeadershipTransferError)
      return new ApiError(503, 'leadership_transfer', `${partition.key}: ${error.message}`);
    if (error instanceof ConfigChangePendingError)
      return new ApiError(409, 'config_change_pending', `${partition.key}: ${error.message}`);
    if (error instanceof InvalidConfigChangeError)
      return new ApiError(400, 'invalid_config_change', `${partition.key}: ${error.message}`);
    return error;
  }

  private tick(): void {
    for (const group of this.groups.values()) group.raft.tick();
    this.scheduleProcess();
  }

  private scheduleProcess(): void {
    if (this.isProcessScheduled || this.isClosed) return;
    this.isProcessScheduled = true;
    setImmediate(() => {
      this.isProcessScheduled = false;
      this.processReadies();
    });
  }

  /**
   * Takes every group's Ready without waiting for the previous one's disk write (etcd's asynchronous storage
   * writes): its entries go to the log at once and join the group commit in flight or the next one, a leader's
   * appends leave at once, and what must wait for durability (acknowledgements, votes, applying) waits in order.
   */
  private processReadies(): void {
    for (const group of this.groups.values()) {
      if (group.isWaitingToInstall || group.readiesInFlight >= MAX_READIES_IN_FLIGHT || !group.raft.hasReady())
        continue;
      const ready = group.raft.ready();
      if (ready.snapshot && group.readiesInFlight > 0) {
        // The catch-up replaces the log: the writes and syncs of the Readies before it must be over first.
        group.isWaitingToInstall = true;
        group.readiesInFlight++;
        group.lastReadyDone = group.lastReadyDone.then(() => {
          group.isWaitingToInstall = false;
          group.readiesInFlight--;
          this.handleReady(group, ready);
          this.scheduleProcess();
        });
        continue;
      }
      this.handleReady(group, ready);
    }
  }

  private handleReady(group: Group, ready: Ready): void {
    const durable: Array<Promise<void>> = [];
    try {
      if (ready.snapshot) this.installCatchUp(group, ready.snapshot);
      if (ready.entries.length > 0) {
        group.partition.log.append(ready.entries);
        this.options.wal.append(group.key, ready.entries);
      }
      if (ready.snapshot || ready.entries.length > 0)
        durable.push(this.options.committer.whenDurable(this.options.wal));
      if (ready.hardState) {
        const write = this.persistHardState(group, ready.hardState);
        if (write) durable.push(write);
      }
    } catch (error) {
      this.stopOnDiskFailure(group.key, error);
    }
    if (durable.length === 0 && group.readiesInFlight === 0) {
      this.finish(group, ready);
      return;
    }
    // A leader's appends may leave before its own disk write ends (thesis §10.2.1): applying a commit, the only way
    // it becomes visible, waits for that write. Votes and acknowledgements wait too: they promise durable state, and
    // an acknowledgement may cover entries of an earlier Ready still being synced, hence the strict order.
    const isEarly = (message: Ready['messages'][number]) => message.type === 'append';
    for (const message of ready.messages) if (isEarly(message)) this.transport.send(group.key, message);
    ready.messages = ready.messages.filter((message) => !isEarly(message));
    group.readiesInFlight++;
    group.lastReadyDone = Promise.all([group.lastReadyDone, ...durable]).then(
      () => {
        group.readiesInFlight--;
        this.finish(group, ready);
        this.scheduleProcess();
      },
      (error: unknown) => this.stopOnDiskFailure(group.key, error),
    );
  }

  /** A disk that failed a write or a sync cannot be trusted with what it acknowledged: stop the peer (fsyncgate). */
  private stopOnDiskFailure(subject: string, error: unknown): never {
    this.options.logger.error('could not persist Raft state; stopping', { subject, error });
    process.exit(70);
  }

  /** Syncs every segment log so that the WAL's older generations can go. */
  private async checkpointWal(): Promise<void> {
    const syncLogs = async () => {
      await Promise.all([...this.groups.values()].map((group) => group.partition.log.sync()));
    };
    try {
      await this.options.wal.checkpoint(syncLogs);
    } catch (error) {
      this.stopOnDiskFailure('wal checkpoint', error);
    }
  }

  private finish(group: Group, ready: Ready): void {
    if (this.isClosed) return;
    for (const message of ready.messages) this.transport.send(group.key, message);
    for (const request of ready.needsCatchUp)
      this.options.stager.stream(group.partition, request, this, () => {
        group.raft.reportUnreachable(request.peer);
        this.scheduleProcess();
      });
    if (ready.committed.length > 0) group.partition.apply(ready.committed);
    group.raft.advance(ready);
    this.noteRole(group);
  }

  private noteRole(group: Group): void {
    const role = group.raft.currentRole;
    const leader = group.raft.currentLeader;
    if (role === 'candidate' && group.role !== 'candidate') this.options.metrics.elections.inc();
    group.role = role;
    if (leader !== group.leader) {
      group.leader = leader;
      group.leaderSinceMs = this.options.now();
      if (leader !== null) this.options.metrics.leaderChanges.inc();
    }
  }

  /**
   * Term and vote must be durable before any message leaves (a vote is a promise, thesis §3.8): the returned write
   * holds the Ready back. A commit-index change alone is written later (flushHardStates); Raft re-learns it anyway.
   */
  private persistHardState(group: Group, hardState: HardState): Promise<void> | undefined {
    group.latestHardState = { ...hardState };
    if (hardState.term === group.durableHardState.term && hardState.vote === group.durableHardState.vote)
      return undefined;
    return this.writeHardState(group, {
      ...hardState,
      commit: Math.min(hardState.commit, group.partition.commitIndex),
    });
  }

  private writeHardState(group: Group, hardState: HardState): Promise<void> {
    group.durableHardState = { ...hardState };
    const directory = this.options.directoryOf(group.partition);
    group.hardStateWrites = group.hardStateWrites.then(() => writeHardStateAsync(directory, hardState));
    return group.hardStateWrites;
  }

  /** Records each group's commit index now and then (never beyond what this peer has applied from its own log). */
  private flushHardStates(): Promise<unknown> {
    const writes: Array<Promise<void>> = [];
    for (const group of this.groups.values()) {
      const commit = Math.min(group.latestHardState.commit, group.partition.commitIndex);
      if (commit === group.durableHardState.commit && group.latestHardState.term === group.durableHardState.term)
        continue;
      writes.push(this.writeHardState(group, { ...group.latestHardState, commit }));
    }
    return Promise.all(writes).catch((error: unknown) =>
      this.options.logger.error('hard state write failed', { error }),
    );
  }

  private installCatchUp(group: Group, snapshot: SnapshotMetadata): void {
    group.partition.log = this.options.stager.install(group.partition, snapshot);
    this.options.wal.markReset(group.key);
    group.partition.resetApplied(snapshot.index);
  }

  /**
   * Spreads leadership: partition number `order` prefers member `order mod n` (members sorted). Once a partition's
   * leadership has been stable for a while, a leader that is not the preferred one hands over to it when it is
   * reachable and fully caught up.
   */
  private balanceLeadership(): void {
    const now = this.options.now();
    for (const group of this.groups.values()) {
      const status = group.raft.status();
      if (status.role !== 'leader' || status.leadTransferee !== null) continue;
      if (now - group.leaderSinceMs < this.options.balanceAfterMs) continue;
      const preferred = status.members[group.order % status.members.length];
      if (preferred === this.selfId || !this.transport.isReachable(preferred) || this.isDraining(preferred)) continue;
      if (status.progress?.[preferred]?.match !== status.lastIndex) continue;
      group.raft.transferLeadership(preferred);
      group.leaderSinceMs = now;
    }
    this.scheduleProcess();
  }
}
