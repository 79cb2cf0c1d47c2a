import type { Random } from '../../kit/clock';
import { CompactedError } from '../errors';
import { ConfigChangePendingError, InvalidConfigChangeError, LeadershipTransferError, NotLeaderError } from './errors';
import { Progress } from './progress';
import { committedIndex } from './quorum';
import { RaftLog } from './raft-log';
import type { RaftStorage } from './storage';
import {
  applyConfigChange,
  decodeConfigChange,
  encodeConfigChange,
  EntryKind,
  MessageType,
  type AppendRequest,
  type AppendResponse,
  type CatchUpRequest,
  type ConfigChange,
  type Entry,
  type HardState,
  type Heartbeat,
  type Message,
  type NodeId,
  type PeerProgress,
  type Ready,
  type Role,
  type SnapshotRequest,
  type Status,
  type VoteRequest,
  type VoteResponse,
} from './types';

export interface RaftOptions {
  id: NodeId;
  storage: RaftStorage;
  /** Ticks without hearing from a leader before campaigning; each timeout is drawn from [electionTicks, 2×electionTicks). */
  electionTicks: number;
  heartbeatTicks: number;
  random: Random;
  /** Pre-vote (thesis §9.6): a rejoining partitioned peer cannot force a new term. Default true. */
  isPreVoteEnabled?: boolean;
  /** A leader that has not heard from a majority for an election timeout steps down. Default false. */
  isCheckQuorumEnabled?: boolean;
  /** Entries per append message (batching). Default 256. */
  maxEntriesPerAppend?: number;
  /** Bytes of entry data per append message (at least one entry is always sent). Default 1 MiB. */
  maxBytesPerAppend?: number;
  /** Unacknowledged appends per follower while pipelining. Default 64. */
  maxInflight?: number;
  /** Bytes of committed entries handed out per Ready. Default 16 MiB. */
  maxCommittedBytesPerReady?: number;
  /** The last index the node's state machine already applied; committed entries after it are handed out again. */
  appliedIndex?: number;
  /** Ticks a catch-up stream may run before the leader asks for a new one. Default 10 × electionTicks. */
  catchUpTimeoutTicks?: number;
}

type CampaignKind = 'preVote' | 'vote' | 'transfer';

/** The membership in effect from the entry at `index` on. */
interface ConfigState {
  index: number;
  members: NodeId[];
}

/**
 * One member of a Raft group as a pure state machine: no clock, no disk, no network. The node feeds it ticks,
 * messages and proposals, and pulls a Ready (what to persist, send and apply) as etcd's RawNode does.
 * Role-specific behaviour lives in the `stepByRole` and `tickByRole` fields, swapped by the become* methods.
 */
export class RaftNode {
  readonly id: NodeId;
  private readonly log: RaftLog;
  private readonly electionTicks: number;
  private readonly heartbeatTicks: number;
  private readonly random: Random;
  private readonly isPreVoteEnabled: boolean;
  private readonly isCheckQuorumEnabled: boolean;
  private readonly maxEntriesPerAppend: number;
  private readonly maxBytesPerAppend: number;
  private readonly maxInflight: number;
  private readonly maxCommittedBytesPerReady: number;
  private readonly catchUpTimeoutTicks: number;

  private term: number;
  private vote: NodeId | null;
  private leader: NodeId | null = null;
  private role: Role = 'follower';
  /** configs[0] is the last committed membership; later ones come from uncommitted Config entries. */
  private configs: ConfigState[];
  private progress = new Map<NodeId, Progress>();
  private votes = new Map<NodeId, boolean>();
  private messages: Message[] = [];
  private catchUps: CatchUpRequest[] = [];
  private isBroadcastPending = false;
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private leadTransferee: NodeId | null = null;
  /** A leader accepts no membership change until this index is committed. */
  private pendingConfigIndex = 0;
  private lastHardState: HardState;
  private readonly quorumScratch: number[] = [];
  private readonly matchScratch: number[] = [];

  private stepByRole: (message: Message) => void = (message) => this.stepFollower(message);
  private tickByRole: () => void = () => this.tickElection();

  constructor(options: RaftOptions) {
    this.id = options.id;
    this.electionTicks = options.electionTicks;
    this.heartbeatTicks = options.heartbeatTicks;
    this.random = options.random;
    this.isPreVoteEnabled = options.isPreVoteEnabled ?? true;
    this.isCheckQuorumEnabled = options.isCheckQuorumEnabled ?? false;
    this.maxEntriesPerAppend = options.maxEntriesPerAppend ?? 256;
    this.maxBytesPerAppend = options.maxBytesPerAppend ?? 1024 * 1024;
    this.maxInflight = options.maxInflight ?? 64;
    this.maxCommittedBytesPerReady = options.maxCommittedBytesPerReady ?? 16 * 1024 * 1024;
    this.catchUpTimeoutTicks = options.catchUpTimeoutTicks ?? 10 * options.electionTicks;
    if (!(this.heartbeatTicks > 0 && this.electionTicks > this.heartbeatTicks)) {
      throw new RangeError('electionTicks must be greater than heartbeatTicks, which must be positive');
    }

    const storage = options.storage;
    const initial = storage.initialState();
    const hardState = initial.hardState;
    const firstIndex = storage.firstIndex();
    // Only applied (hence committed) entries are ever compacted, whatever an older HardState says.
    const committed = Math.max(hardState.commit, firstIndex - 1);
    const applied = Math.max(firstIndex - 1, Math.min(options.appliedIndex ?? firstIndex - 1, committed));
    this.log = new RaftLog(storage, committed, applied);
    this.term = hardState.term;
    this.vote = hardState.vote;
    this.lastHardState = { ...hardState };
    this.configs = [{ index: initial.membersIndex ?? firstIndex - 1, members: [...initial.members].sort() }];
    this.replayConfigEntries(Math.max(this.configs[0].index + 1, firstIndex));
    this.becomeFollower(this.term, null);
  }

  // ---- inputs --------------------------------------------------------------------------------------------

  /** Advances the logical clock by one tick. */
  tick(): void {
    this.tickByRole();
  }

  /** Advances the state machine with a message from a peer. */
  step(message: Message): void {
    if (message.to !== this.id) return;
    if (message.term > this.term) {
      if (message.type === MessageType.PreVote || message.type === MessageType.Vote) {
        // Thesis §4.2.3/§9.6: a peer that heard from a leader within the minimum election timeout ignores
        // campaigns, so a rejoining partitioned peer cannot depose a healthy leader. A transfer is exempt.
        if (!message.isLeadershipTransfer && this.isInLease()) return;
      }
      if (message.type === MessageType.PreVote) {
        // A pre-vote never changes our term.
      } else if (message.type === MessageType.PreVoteResponse && message.isGranted) {
        // A granted pre-vote echoes the future term the candidate asked about; the candidate keeps its term.
      } else if (
        message.type === MessageType.Append ||
        message.type === MessageType.Heartbeat ||
        message.type === MessageType.Snapshot
      ) {
        this.becomeFollower(message.term, message.from);
      } else {
        this.becomeFollower(message.term, null);
      }
    } else if (message.term < this.term) {
      this.answerStaleMessage(message);
      return;
    }

    switch (message.type) {
      case MessageType.PreVote:
      case MessageType.Vote:
        this.handleVoteRequest(message);
        return;
      default:
        this.stepByRole(message);
    }
  }

  /** Starts an election now, as if the election timeout had fired (a lone bootstrap peer, tests). */
  campaign(): void {
    if (this.role === 'leader') return;
    this.electionElapsed = 0;
    this.startCampaign(this.isPreVoteEnabled ? 'preVote' : 'vote');
  }

  /**
   * Gives a peer that started without a membership (it did not know whether it joins an existing group) the group's
   * initial membership. Only possible while its log is empty and no leader told it the membership; answers whether
   * it took effect. The node must persist `members` as the membership of its empty log.
   */
  bootstrap(members: readonly NodeId[]): boolean {
    if (!this.isMembershipUnknown() || this.log.lastIndex() !== 0 || members.length === 0) return false;
    this.configs = [{ index: 0, members: [...members].sort() }];
    return true;
  }

  /** Appends a client entry; the node acknowledges it once it appears in Ready.committed. */
  propose(data: Uint8Array): { index: number; term: number } {
    this.checkCanPropose();
    return this.appendEntry(EntryKind.Normal, data);
  }

  /** Appends a single-server membership change; it takes effect on each peer as soon as that peer appends it. */
  proposeConfigChange(change: ConfigChange): { index: number; term: number } {
    this.checkCanPropose();
    if (this.pendingConfigIndex > this.log.committed) throw new ConfigChangePendingError(this.pendingConfigIndex);
    const members = this.members();
    const isMember = members.includes(change.node);
    if (change.type === 'add' && isMember) throw new InvalidConfigChangeError(`${change.node} is already a member`);
    if (change.type === 'remove' && !isMember) throw new InvalidConfigChangeError(`${change.node} is not a member`);
    if (change.type === 'remove' && members.length === 1) {
      throw new InvalidConfigChangeError('cannot remove the last member');
    }
    const position = this.appendEntry(EntryKind.Config, encodeConfigChange(change));
    this.pendingConfigIndex = position.index;
    return position;
  }

  /**
   * Hands leadership to `to` (used for graceful restarts): the leader stops accepting proposals, brings `to` up to
   * date, then tells it to campaign at once. Abandoned after an election timeout.
   */
  transferLeadership(to: NodeId): void {
    if (this.role !== 'leader') throw new NotLeaderError(this.leader);
    if (to === this.id) {
      this.leadTransferee = null;
      return;
    }
    if (!this.members().includes(to)) throw new InvalidConfigChangeError(`${to} is not a member`);
    if (this.leadTransferee === to) return;
    this.leadTransferee = to;
    this.electionElapsed = 0;
    const progress = this.progress.get(to);
    if (progress !== undefined && progress.match === this.log.lastIndex()) {
      this.sendTimeoutNow(to);
    } else {
      this.sendAppend(to);
    }
  }

  /** The transport could not reach `peer`: stop pipelining to it (and give up a catch-up stream). */
  reportUnreachable(peer: NodeId): void {
    if (this.role !== 'leader') return;
    const progress = this.progress.get(peer);
    if (progress !== undefined && progress.state !== 'probe') progress.becomeProbe();
  }

  /** A catch-up stream to `peer` finished: its log now matches the leader's up to `index`. */
  reportCaughtUp(peer: NodeId, index: number): void {
    if (this.role !== 'leader') return;
    this.acknowledge(peer, index);
  }

  // ---- outputs -------------------------------------------------------------------------------------------

  hasReady(): boolean {
    return (
      this.isBroadcastPending ||
      this.messages.length > 0 ||
      this.catchUps.length > 0 ||
      !this.isHardStateUnchanged() ||
      this.log.hasSnapshotToPersist() ||
      this.log.hasEntriesToPersist() ||
      this.log.hasEntriesToApply()
    );
  }

  /** Everything produced since the last Ready; see Ready in types.ts for the order to handle it in. */
  ready(): Ready {
    this.flushBroadcast();
    const hardState = this.currentHardState();
    const ready: Ready = {
      hardState: this.isHardStateUnchanged() ? null : hardState,
      snapshot: this.log.takeSnapshotToPersist(),
      entries: this.log.takeEntriesToPersist(),
      committed: this.log.takeEntriesToApply(this.maxCommittedBytesPerReady),
      messages: this.messages,
      needsCatchUp: this.catchUps,
    };
    this.lastHardState = hardState;
    this.messages = [];
    this.catchUps = [];
    return ready;
  }

  /** The node persisted, sent and applied `ready`. */
  advance(ready: Ready): void {
    const lastEntry = ready.entries[ready.entries.length - 1];
    this.log.stableTo(ready.snapshot, lastEntry?.index ?? -1, lastEntry?.term ?? -1);
    const lastCommitted = ready.committed[ready.committed.length - 1];
    if (lastCommitted !== undefined) this.log.appliedTo(lastCommitted.index);
  }

  /** The role, without building a whole status (the node asks this on every request it may have to forward). */
  get currentRole(): Role {
    return this.role;
  }

  get currentTerm(): number {
    return this.term;
  }

  /** The leader this peer knows of, possibly itself. */
  get currentLeader(): NodeId | null {
    return this.leader;
  }

  status(): Status {
    const status: Status = {
      id: this.id,
      term: this.term,
      role: this.role,
      leader: this.leader,
      commit: this.log.committed,
      applied: this.log.applied,
      lastIndex: this.log.lastIndex(),
      members: [...this.members()],
      membersIndex: this.configs[this.configs.length - 1].index,
      leadTransferee: this.leadTransferee,
    };
    if (this.role === 'leader') {
      const progress: Record<NodeId, PeerProgress> = {};
      for (const [peer, tracked] of this.progress) {
        progress[peer] = { match: tracked.match, next: tracked.next, state: tracked.state };
      }
      status.progress = progress;
    }
    return status;
  }

  // ---- roles ---------------------------------------------------------------------------------------------

  private becomeFollower(term: number, leader: NodeId | null): void {
    this.reset(term);
    this.role = 'follower';
    this.leader = leader;
    this.stepByRole = (message) => this.stepFollower(message);
    this.tickByRole = () => this.tickElection();
  }

  /** Pre-candidates do not touch their term or vote: only a won pre-vote lets them disturb the cluster. */
  private becomePreCandidate(): void {
    this.role = 'precandidate';
    this.leader = null;
    this.votes.clear();
    this.stepByRole = (message) => this.stepCandidate(message);
    this.tickByRole = () => this.tickElection();
  }

  private becomeCandidate(): void {
    this.reset(this.term + 1);
    this.role = 'candidate';
    this.vote = this.id;
    this.stepByRole = (message) => this.stepCandidate(message);
    this.tickByRole = () => this.tickElection();
  }

  private becomeLeader(): void {
    this.reset(this.term);
    this.role = 'leader';
    this.leader = this.id;
    this.stepByRole = (message) => this.stepLeader(message);
    this.tickByRole = () => this.tickHeartbeat();
    const lastIndex = this.log.lastIndex();
    for (const member of new Set([...this.configs[0].members, ...this.members(), this.id])) {
      this.progress.set(member, new Progress(lastIndex + 1, this.maxInflight));
    }
    this.selfProgress().maybeUpdate(lastIndex);
    // The log may end in an uncommitted Config entry we cannot see from here: wait until all of it commits.
    this.pendingConfigIndex = lastIndex;
    // §5.4.2: entries of earlier terms commit only under one of the current term, so write one right away.
    this.appendEntry(EntryKind.Noop, new Uint8Array(0));
  }

  private reset(term: number): void {
    if (term !== this.term) {
      this.term = term;
      this.vote = null;
    }
    this.leader = null;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.electionTicks + Math.floor(this.random() * this.electionTicks);
    this.leadTransferee = null;
    this.votes.clear();
    this.progress.clear();
    this.isBroadcastPending = false;
    this.pendingConfigIndex = 0;
  }

  // ---- ticks ---------------------------------------------------------------------------------------------

  private tickElection(): void {
    this.electionElapsed++;
    if (this.isPromotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.startCampaign(this.isPreVoteEnabled ? 'preVote' : 'vote');
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTicks) {
      this.electionElapsed = 0;
      if (this.isCheckQuorumEnabled && !this.hasActiveQuorum()) {
        this.becomeFollower(this.term, null);
        return;
      }
      this.leadTransferee = null;
      this.forgetRemovedFollowers(true);
    }
    for (const [peer, progress] of this.progress) {
      if (progress.state === 'catchUp' && ++progress.catchUpElapsed > this.catchUpTimeoutTicks) {
        progress.becomeProbe();
        this.sendAppend(peer);
      }
    }
    if (this.heartbeatElapsed >= this.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.broadcastHeartbeat();
    }
  }

  // ---- elections -----------------------------------------------------------------------------------------

  private startCampaign(kind: CampaignKind): void {
    if (!this.isPromotable()) return;
    let voteTerm: number;
    let type: VoteRequest['type'];
    if (kind === 'preVote') {
      this.becomePreCandidate();
      voteTerm = this.term + 1;
      type = MessageType.PreVote;
    } else {
      this.becomeCandidate();
      voteTerm = this.term;
      type = MessageType.Vote;
    }
    if (this.poll(this.id, true) === 'won') {
      this.winElection();
      return;
    }
    for (const member of this.members()) {
      if (member === this.id) continue;
      this.send({
        type,
        from: this.id,
        to: member,
        term: voteTerm,
        lastLogIndex: this.log.lastIndex(),
        lastLogTerm: this.log.lastTerm(),
        isLeadershipTransfer: kind === 'transfer',
      });
    }
  }

  private winElection(): void {
    if (this.role === 'precandidate') {
      this.startCampaign('vote');
    } else {
      this.becomeLeader();
    }
  }

  /** Records a vote and tells whether a majority of the membership decided. */
  private poll(from: NodeId, isGranted: boolean): 'won' | 'lost' | 'pending' {
    if (!this.votes.has(from)) this.votes.set(from, isGranted);
    const members = this.members();
    let granted = 0;
    let rejected = 0;
    for (const member of members) {
      const vote = this.votes.get(member);
      if (vote === true) granted++;
      if (vote === false) rejected++;
    }
    const majority = Math.floor(members.length / 2) + 1;
    if (granted >= majority) return 'won';
    if (rejected >= majority) return 'lost';
    return 'pending';
  }

  private handleVoteRequest(message: VoteRequest): void {
    const isPreVote = message.type === MessageType.PreVote;
    const canVote =
      this.vote === message.from ||
      (this.vote === null && this.leader === null) ||
      (isPreVote && message.term > this.term);
    const responseType = isPreVote ? MessageType.PreVoteResponse : MessageType.VoteResponse;
    if (canVote && this.log.isUpToDate(message.lastLogIndex, message.lastLogTerm)) {
      // A granted pre-vote answers at the term asked about, so the pre-candidate does not mistake it for a
      // newer term; a real vote is answered at our (now equal) term.
      this.send({ type: responseType, from: this.id, to: message.from, term: message.term, isGranted: true });
      if (!isPreVote) {
        this.electionElapsed = 0;
        this.vote = message.from;
      }
    } else {
      this.send({ type: responseType, from: this.id, to: message.from, term: this.term, isGranted: false });
    }
  }

  private isInLease(): boolean {
    return (
      (this.isPreVoteEnabled || this.isCheckQuorumEnabled) &&
      this.leader !== null &&
      this.electionElapsed < this.electionTicks
    );
  }

  private answerStaleMessage(message: Message): void {
    switch (message.type) {
      case MessageType.Append:
      case MessageType.Heartbeat:
      case MessageType.Snapshot:
        // A deposed leader learns our newer term from this answer and steps down; without it, a leader cut off
        // while the others moved on would never hear of the new term under pre-vote or check-quorum.
        this.send({
          type: MessageType.AppendResponse,
          from: this.id,
          to: message.from,
          term: this.term,
          index: 0,
          isRejected: false,
        });
        return;
      case MessageType.PreVote:
      case MessageType.Vote:
        // The rejection carries our term so that a candidate left behind adopts it (Raft §5.1). Ignoring it can
        // leave two peers campaigning at ever higher terms that never meet.
        this.send({
          type: message.type === MessageType.PreVote ? MessageType.PreVoteResponse : MessageType.VoteResponse,
          from: this.id,
          to: message.from,
          term: this.term,
          isGranted: false,
        });
        return;
      default:
        return;
    }
  }

  // ---- role handlers -------------------------------------------------------------------------------------

  private stepFollower(message: Message): void {
    switch (message.type) {
      case MessageType.Append:
        this.electionElapsed = 0;
        this.leader = message.from;
        this.handleAppend(message);
        return;
      case MessageType.Heartbeat:
        this.electionElapsed = 0;
        this.leader = message.from;
        this.handleHeartbeat(message);
        return;
      case MessageType.Snapshot:
        this.electionElapsed = 0;
        this.leader = message.from;
        this.handleSnapshot(message);
        return;
      case MessageType.TimeoutNow:
        this.startCampaign('transfer');
        return;
      default:
        // Answers to requests from a role we no longer hold.
        return;
    }
  }

  private stepCandidate(message: Message): void {
    switch (message.type) {
      case MessageType.Append:
        this.becomeFollower(message.term, message.from);
        this.handleAppend(message);
        return;
      case MessageType.Heartbeat:
        this.becomeFollower(message.term, message.from);
        this.handleHeartbeat(message);
        return;
      case MessageType.Snapshot:
        this.becomeFollower(message.term, message.from);
        this.handleSnapshot(message);
        return;
      case MessageType.PreVoteResponse:
      case MessageType.VoteResponse:
        this.handleVoteResponse(message);
        return;
      case MessageType.TimeoutNow:
        // A pre-candidate still at the leader's term: the transfer outranks its own pre-vote.
        if (this.role === 'precandidate') this.startCampaign('transfer');
        return;
      default:
        return;
    }
  }

  private handleVoteResponse(message: VoteResponse): void {
    const isExpected =
      (this.role === 'precandidate' && message.type === MessageType.PreVoteResponse) ||
      (this.role === 'candidate' && message.type === MessageType.VoteResponse);
    if (!isExpected) return;
    switch (this.poll(message.from, message.isGranted)) {
      case 'won':
        this.winElection();
        return;
      case 'lost':
        this.becomeFollower(this.term, null);
        return;
      case 'pending':
        return;
    }
  }

  private stepLeader(message: Message): void {
    switch (message.type) {
      case MessageType.AppendResponse:
        this.handleAppendResponse(message);
        return;
      case MessageType.SnapshotResponse:
        this.acknowledge(message.from, message.index);
        return;
      case MessageType.HeartbeatResponse: {
        const progress = this.progress.get(message.from);
        if (progress === undefined) return;
        progress.isRecentlyActive = true;
        progress.isProbeSent = false;
        // A lost acknowledgement must not stall a full pipeline forever.
        if (progress.state === 'replicate' && progress.isPaused()) progress.releaseOldestInflight();
        if (progress.match < this.log.lastIndex()) this.sendAppend(message.from);
        return;
      }
      default:
        return;
    }
  }

  // ---- follower side of replication ----------------------------------------------------------------------

  private handleAppend(message: AppendRequest): void {
    const log = this.log;
    if (this.isMembershipUnknown()) {
      // Entries cannot be interpreted without the membership they start from: ask for a catch-up, which carries it.
      this.send({
        type: MessageType.AppendResponse,
        from: this.id,
        to: message.from,
        term: this.term,
        index: message.prevIndex,
        isRejected: true,
        hintIndex: 0,
        hintTerm: 0,
        isMembershipUnknown: true,
      });
      return;
    }
    if (message.prevIndex < log.committed) {
      this.respondToAppend(message.from, log.committed);
      return;
    }
    if (log.matchTerm(message.prevIndex, message.prevTerm)) {
      const lastNewIndex = message.prevIndex + message.entries.length;
      const conflict = log.findConflict(message.entries);
      if (conflict > 0) {
        this.appendToLog(message.entries.slice(conflict - message.prevIndex - 1));
      }
      this.commitTo(Math.min(message.commit, lastNewIndex));
      this.respondToAppend(message.from, lastNewIndex);
      return;
    }
    const hintIndex = log.findConflictByTerm(Math.min(message.prevIndex, log.lastIndex()), message.prevTerm);
    this.send({
      type: MessageType.AppendResponse,
      from: this.id,
      to: message.from,
      term: this.term,
      index: message.prevIndex,
      isRejected: true,
      hintIndex,
      hintTerm: log.term(hintIndex) ?? 0,
    });
  }

  private respondToAppend(to: NodeId, index: number): void {
    this.send({ type: MessageType.AppendResponse, from: this.id, to, term: this.term, index, isRejected: false });
  }

  private handleHeartbeat(message: Heartbeat): void {
    this.commitTo(message.commit);
    this.send({ type: MessageType.HeartbeatResponse, from: this.id, to: message.from, term: this.term });
  }

  private handleSnapshot(message: SnapshotRequest): void {
    const snapshot = message.snapshot;
    let index: number;
    if (this.isMembershipUnknown() && this.log.lastIndex() <= snapshot.index) {
      // A joining peer learns its group's membership from its first catch-up, even one at index 0.
      this.log.restore(snapshot);
      this.configs = [{ index: snapshot.index, members: [...snapshot.members].sort() }];
      index = snapshot.index;
    } else if (snapshot.index <= this.log.committed) {
      index = this.log.committed;
    } else if (this.log.matchTerm(snapshot.index, snapshot.term)) {
      // Our log already holds the catch-up point: keep it (the staged data is not needed) and just commit.
      this.commitTo(snapshot.index);
      index = snapshot.index;
    } else {
      this.log.restore(snapshot);
      this.configs = [{ index: snapshot.index, members: [...snapshot.members].sort() }];
      index = snapshot.index;
    }
    this.send({ type: MessageType.SnapshotResponse, from: this.id, to: message.from, term: this.term, index });
  }

  // ---- leader side of replication ------------------------------------------------------------------------

  private handleAppendResponse(message: AppendResponse): void {
    const progress = this.progress.get(message.from);
    if (progress === undefined) return;
    progress.isRecentlyActive = true;
    if (!message.isRejected) {
      this.acknowledge(message.from, message.index);
      if (this.role === 'leader' && !this.members().includes(message.from)) this.forgetRemovedFollowers();
      return;
    }
    if (message.isMembershipUnknown === true) {
      if (progress.state !== 'catchUp') this.startCatchUp(message.from, progress);
      return;
    }
    // Skip the follower's whole conflicting term at once rather than one index per round trip.
    const matchHint =
      message.hintTerm > 0 ? this.log.findConflictByTerm(message.hintIndex, message.hintTerm) : message.hintIndex;
    if (progress.maybeDecreaseTo(message.index, matchHint)) {
      if (progress.state === 'replicate') progress.becomeProbe();
      this.sendAppend(message.from);
    }
  }

  /** `peer`'s log matches ours up to `index`. */
  private acknowledge(peer: NodeId, index: number): void {
    const progress = this.progress.get(peer);
    if (progress === undefined) return;
    progress.isRecentlyActive = true;
    const wasPaused = progress.isPaused();
    if (!progress.maybeUpdate(index)) {
      if (progress.state === 'catchUp' && progress.match >= progress.catchUpIndex) {
        // A catch-up that changed nothing here (a joining peer brought to index 0): resume appending at once.
        progress.becomeReplicate();
        while (this.sendAppend(peer, false)) {
          // each call sends one batch
        }
      }
      return;
    }
    switch (progress.state) {
      case 'probe':
        progress.becomeReplicate();
        break;
      case 'catchUp':
        if (progress.match + 1 >= this.log.firstIndex()) progress.becomeReplicate();
        break;
      case 'replicate':
        progress.acknowledgeInflight(index);
        break;
      default: {
        const exhaustive: never = progress.state;
        throw new TypeError(`unknown progress state ${String(exhaustive)}`);
      }
    }
    if (this.maybeCommit()) {
      this.broadcastAppend();
      if (this.stepDownIfRemoved()) return;
    } else if (wasPaused) {
      this.sendAppend(peer);
    }
    // Keep the pipeline full: send whatever else fits in the in-flight window.
    while (this.sendAppend(peer, false)) {
      // each call sends one batch
    }
    if (peer === this.leadTransferee && progress.match === this.log.lastIndex()) this.sendTimeoutNow(peer);
  }

  /**
   * Sends `to` the next batch of entries (or an empty append carrying the commit index). Returns whether a message
   * went out. When the entries were deleted by retention, asks the node for a catch-up stream instead.
   */
  private sendAppend(to: NodeId, isEmptyAllowed = true): boolean {
    const progress = this.progress.get(to);
    if (progress === undefined || to === this.id || progress.isPaused()) return false;
    const prevIndex = progress.next - 1;
    const prevTerm = this.log.term(prevIndex);
    let entries: Entry[];
    try {
      if (prevTerm === undefined) throw new CompactedError(prevIndex, this.log.firstIndex());
      const hi = Math.min(this.log.lastIndex() + 1, progress.next + this.maxEntriesPerAppend);
      entries = this.log.slice(progress.next, hi, this.maxBytesPerAppend);
    } catch (error) {
      if (!(error instanceof CompactedError)) throw error;
      this.startCatchUp(to, progress);
      return true;
    }
    if (entries.length === 0 && !isEmptyAllowed) return false;
    this.send({
      type: MessageType.Append,
      from: this.id,
      to,
      term: this.term,
      prevIndex,
      prevTerm,
      entries,
      commit: this.log.committed,
    });
    progress.sentEntries(prevIndex + entries.length, entries.length);
    return true;
  }

  private startCatchUp(to: NodeId, progress: Progress): void {
    const index = this.log.committed;
    const term = this.log.term(index);
    if (term === undefined) throw new RangeError(`the leader lost the term of its commit index ${index}`);
    const fromIndex = progress.next;
    progress.becomeCatchUp(index);
    this.catchUps.push({
      peer: to,
      fromIndex,
      message: {
        type: MessageType.Snapshot,
        from: this.id,
        to,
        term: this.term,
        snapshot: { index, term, members: [...this.membersAt(index)] },
      },
    });
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send({ type: MessageType.TimeoutNow, from: this.id, to, term: this.term });
  }

  /** Sends every follower the new commit index and as many batches of new entries as its pipeline allows. */
  private broadcastAppend(): void {
    for (const peer of this.progress.keys()) {
      if (peer === this.id || !this.sendAppend(peer)) continue;
      while (this.sendAppend(peer, false)) {
        // each call sends one more batch
      }
    }
  }

  private broadcastHeartbeat(): void {
    for (const [peer, progress] of this.progress) {
      if (peer === this.id) continue;
      // Only what the follower is known to hold may be committed on it.
      const commit = Math.min(progress.match, this.log.committed);
      this.send({ type: MessageType.Heartbeat, from: this.id, to: peer, term: this.term, commit });
    }
  }

  /** Proposals between two Readies leave in one append per follower: this is where batching happens. */
  private flushBroadcast(): void {
    if (!this.isBroadcastPending) return;
    this.isBroadcastPending = false;
    if (this.role === 'leader') this.broadcastAppend();
  }

  private appendEntry(kind: EntryKind, data: Uint8Array): { index: number; term: number } {
    const entry: Entry = { index: this.log.lastIndex() + 1, term: this.term, kind, data };
    this.appendToLog([entry]);
    this.selfProgress().maybeUpdate(entry.index);
    this.isBroadcastPending = true;
    if (this.maybeCommit()) this.stepDownIfRemoved();
    return { index: entry.index, term: entry.term };
  }

  /** Commits the highest index a majority holds, but only an entry of the current term (§5.4.2). */
  private maybeCommit(): boolean {
    const members = this.members();
    const matches = this.matchScratch;
    matches.length = members.length;
    for (let position = 0; position < members.length; position++) {
      matches[position] = this.progress.get(members[position])?.match ?? 0;
    }
    const index = committedIndex(matches, this.quorumScratch);
    if (index <= this.log.committed || this.log.term(index) !== this.term) return false;
    this.commitTo(index);
    return true;
  }

  /** A leader removed from the membership leads until the removal commits (thesis §4.2.2), then steps down. */
  private stepDownIfRemoved(): boolean {
    if (this.role !== 'leader' || this.configs[0].members.includes(this.id)) return false;
    this.flushBroadcast();
    this.becomeFollower(this.term, null);
    return true;
  }

  private hasActiveQuorum(): boolean {
    const members = this.members();
    let active = 0;
    for (const member of members) {
      const progress = this.progress.get(member);
      if (member === this.id || progress?.isRecentlyActive) active++;
    }
    for (const [peer, progress] of this.progress) progress.isRecentlyActive = peer === this.id;
    return active >= Math.floor(members.length / 2) + 1;
  }

  private checkCanPropose(): void {
    if (this.role !== 'leader') throw new NotLeaderError(this.leader);
    if (this.leadTransferee !== null) throw new LeadershipTransferError(this.leadTransferee);
  }

  // ---- log and membership --------------------------------------------------------------------------------

  private appendToLog(entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0].index;
    let isMembershipChanged = false;
    // A truncated Config entry takes its membership with it (changes take effect when appended, not committed).
    while (this.configs.length > 1 && this.configs[this.configs.length - 1].index >= first) {
      this.configs.pop();
      isMembershipChanged = true;
    }
    this.log.append(entries);
    for (const entry of entries) {
      if (entry.kind !== EntryKind.Config) continue;
      this.pushConfig(entry);
      isMembershipChanged = true;
    }
    if (isMembershipChanged) this.onMembersChanged();
  }

  private pushConfig(entry: Entry): void {
    const members = applyConfigChange(this.members(), decodeConfigChange(entry.data));
    this.configs.push({ index: entry.index, members });
  }

  private replayConfigEntries(from: number): void {
    const last = this.log.lastIndex();
    for (let index = from; index <= last;) {
      const entries = this.log.slice(index, last + 1, this.maxCommittedBytesPerReady);
      for (const entry of entries) {
        if (entry.kind === EntryKind.Config) this.pushConfig(entry);
      }
      index += entries.length;
    }
    this.forgetCommittedConfigs();
  }

  private commitTo(index: number): void {
    const before = this.log.committed;
    this.log.commitTo(index);
    if (this.log.committed === before) return;
    const configCount = this.configs.length;
    this.forgetCommittedConfigs();
    if (this.role === 'leader' && this.configs.length !== configCount) this.forgetRemovedFollowers();
  }

  /**
   * A removed follower keeps receiving appends until it holds its committed removal; it then gets a last heartbeat
   * carrying that commit and is forgotten. It thus knows it is no longer a member and stops campaigning, rather than
   * relying on the others ignoring it (§4.2.3). One that does not answer is forgotten after an election timeout.
   */
  private forgetRemovedFollowers(isGraceOver = false): void {
    const kept = new Set([...this.configs[0].members, ...this.members()]);
    for (const [peer, progress] of [...this.progress]) {
      if (peer === this.id || kept.has(peer)) continue;
      const holdsRemoval = progress.match >= this.configs[0].index;
      if (!holdsRemoval && !isGraceOver) continue;
      this.progress.delete(peer);
      const commit = Math.min(progress.match, this.log.committed);
      if (holdsRemoval) this.send({ type: MessageType.Heartbeat, from: this.id, to: peer, term: this.term, commit });
    }
  }

  /** Keeps only the last committed membership and the uncommitted ones after it. */
  private forgetCommittedConfigs(): void {
    while (this.configs.length > 1 && this.configs[1].index <= this.log.committed) this.configs.shift();
  }

  private onMembersChanged(): void {
    if (this.role !== 'leader') return;
    const members = this.members();
    const lastIndex = this.log.lastIndex();
    for (const member of members) {
      if (!this.progress.has(member)) this.progress.set(member, new Progress(lastIndex + 1, this.maxInflight));
    }
    this.forgetRemovedFollowers();
    if (this.leadTransferee !== null && !members.includes(this.leadTransferee)) this.leadTransferee = null;
    // A smaller membership may already hold a majority for a higher index.
    if (this.maybeCommit()) this.isBroadcastPending = true;
  }

  private members(): NodeId[] {
    return this.configs[this.configs.length - 1].members;
  }

  /** A peer that joined with an empty log knows no membership until a leader's catch-up tells it (never empty after). */
  private isMembershipUnknown(): boolean {
    return this.configs.length === 1 && this.configs[0].members.length === 0;
  }

  private membersAt(index: number): NodeId[] {
    let members = this.configs[0].members;
    for (const config of this.configs) {
      if (config.index <= index) members = config.members;
    }
    return members;
  }

  /**
   * Thesis §4.2.2: a peer whose own log removes it still campaigns until that removal commits, since it may hold the
   * only up-to-date log; it just does not count its own vote (poll counts members only).
   */
  private isPromotable(): boolean {
    return this.members().includes(this.id) || this.configs[0].members.includes(this.id);
  }

  private selfProgress(): Progress {
    let progress = this.progress.get(this.id);
    if (progress === undefined) {
      progress = new Progress(this.log.lastIndex() + 1, this.maxInflight);
      this.progress.set(this.id, progress);
    }
    return progress;
  }

  private send(message: Message): void {
    this.messages.push(message);
  }

  private currentHardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  private isHardStateUnchanged(): boolean {
    const last = this.lastHardState;
    return last.term === this.term && last.vote === this.vote && last.commit === this.log.committed;
  }
}
