import { seededRandom, type Random } from '../../kit/clock';
import { RaftNode } from './raft';
import { MemoryStorage } from './storage';
import { describeEntry, describeMessage } from './interaction';
import {
  decodeConfigChange,
  EntryKind,
  MessageType,
  type ConfigChange,
  type Entry,
  type Message,
  type NodeId,
  type Ready,
  type SnapshotRequest,
} from './types';

/**
 * A deterministic simulator for the Raft core: every peer runs in one process on a shared logical clock, and a
 * seeded random source decides every delay, loss, duplicate, crash, partition and client request. The same seed and
 * options replay exactly. Invariants are checked as the run goes; at the end the faults stop, the network heals,
 * and every acknowledged proposal must be committed at the same index on every member.
 */
export interface SimulationOptions {
  nodes: number;
  /** Logical time units with faults; each unit ticks every running peer once. */
  steps: number;
  /** After the faults stop, the cluster must converge without ever going this many time units without progress. */
  settleSteps: number;
  electionTicks: number;
  heartbeatTicks: number;
  /** Per time unit probabilities. */
  proposeRate: number;
  crashRate: number;
  partitionRate: number;
  compactRate: number;
  transferRate: number;
  membershipRate: number;
  /** Per message. */
  dropRate: number;
  duplicateRate: number;
  maxDelay: number;
  /** A peer handles its pending Ready in a given time unit with this probability; until then it is lost on a crash. */
  readyRate: number;
  maxEntriesPerAppend: number;
  maxInflight: number;
  isPreVoteEnabled: boolean;
  isCheckQuorumEnabled: boolean;
  /**
   * A deliberately broken disk for testing the checkers: a crash also loses the persisted HardState, so a restarted
   * peer may vote twice in one term. Runs with it must report violations.
   */
  isForgettingHardState: boolean;
  /** Also trace every message delivered (slower; for replaying a failing seed). */
  isTracingMessages: boolean;
}

export const defaultSimulationOptions: SimulationOptions = {
  nodes: 3,
  steps: 250,
  settleSteps: 400,
  electionTicks: 10,
  heartbeatTicks: 2,
  proposeRate: 0.3,
  crashRate: 0.01,
  partitionRate: 0.01,
  compactRate: 0.02,
  transferRate: 0.005,
  membershipRate: 0.005,
  dropRate: 0.05,
  duplicateRate: 0.03,
  maxDelay: 4,
  readyRate: 0.8,
  maxEntriesPerAppend: 4,
  maxInflight: 4,
  isPreVoteEnabled: true,
  isCheckQuorumEnabled: false,
  isForgettingHardState: false,
  isTracingMessages: false,
};

export interface SimulationResult {
  seed: number;
  /** The first invariant broken, or null when the run was correct. */
  violation: string | null;
  /** The last events before the end (or the violation), for debugging a failing seed. */
  trace: string[];
  acknowledged: number;
  elections: number;
  crashes: number;
  catchUps: number;
  configChanges: number;
  transfers: number;
}

class InvariantViolation extends Error {
  override readonly name = 'InvariantViolation';
}

interface SimulatedPeer {
  id: NodeId;
  storage: MemoryStorage;
  /** Null while crashed. */
  raft: RaftNode | null;
  restartAt: number;
  /** The state machine: the digest of the entry applied at each index (index 1 at position 0). */
  applied: string[];
  /** A Ready taken from the core and still being persisted. */
  pendingReady: Ready | null;
  /** Data streamed by a leader for a catch-up, installed when a Ready asks for it. */
  staged: Map<number, string[]>;
  /** Proposals this peer accepted as leader, by `index/term`, waiting to be acknowledged. */
  proposals: Map<string, string>;
}

interface InFlight {
  message: Message;
  /** For a catch-up: the state machine prefix streamed ahead of the snapshot message, or 'fails' for a broken stream. */
  stream?: string[] | 'fails';
}

const TRACE_LENGTH = 300;

/** Simulated payloads are ASCII; byte-wise conversion is much cheaper than TextDecoder inside jest's sandbox. */
function asciiText(data: Uint8Array): string {
  return String.fromCharCode(...data);
}

function asciiBytes(text: string): Uint8Array {
  return Uint8Array.from(text, (character) => character.charCodeAt(0));
}

class Simulation {
  private readonly random: Random;
  private readonly peers = new Map<NodeId, SimulatedPeer>();
  /** Messages in flight, by the time they arrive. */
  private readonly inFlight = new Map<number, InFlight[]>();
  /** The running leader of the highest term as of the last election-safety check. */
  private knownLeader: SimulatedPeer | undefined;
  private now = 0;
  private isFaulty = true;
  private partition: { groups: Set<NodeId>; healAt: number } | null = null;
  private nextPeerNumber = 0;
  private nextProposal = 0;
  private readonly trace: string[] = [];
  /** Election safety: the leader seen for each term. */
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** Log matching: for each `index/term` seen in any stored log, its content and the term of its predecessor. */
  private readonly entryAt = new Map<string, { digest: string; previousTerm: number }>();
  /** State machine safety: what was applied at each index, and the lowest term any peer applied it in. */
  private readonly committed: { digest: string; knownInTerm: number }[] = [];
  /** Leader completeness is checked once per leader term. */
  private readonly checkedLeaderTerms = new Set<number>();
  private readonly acknowledged = new Map<string, number>();
  /** Entries travel between peers as shared objects, so each is described once. */
  private readonly digests = new WeakMap<Entry, string>();
  private readonly stats = { elections: 0, crashes: 0, catchUps: 0, configChanges: 0, transfers: 0 };

  constructor(
    private readonly seed: number,
    private readonly options: SimulationOptions,
  ) {
    this.random = seededRandom(seed);
    const ids = Array.from({ length: options.nodes }, () => this.newPeerId());
    for (const id of ids) this.addPeer(id, new MemoryStorage(ids));
  }

  run(): SimulationResult {
    let violation: string | null = null;
    try {
      for (; this.now < this.options.steps; this.now++) this.advanceTime();
      this.settle();
      this.checkAcknowledgedEverywhere();
    } catch (error) {
      // The core throwing is as much a failure as a broken invariant, and must report the seed just the same.
      violation = error instanceof InvariantViolation ? error.message : `the core threw: ${String(error)}`;
      if (!(error instanceof InvariantViolation)) this.note(error instanceof Error ? (error.stack ?? '') : '');
    }
    return {
      seed: this.seed,
      violation,
      trace: this.trace.slice(),
      acknowledged: this.acknowledged.size,
      ...this.stats,
    };
  }

  // ---- the clock -----------------------------------------------------------------------------------------

  private advanceTime(): void {
    if (this.isFaulty) this.injectFaults();
    this.restartDuePeers();
    this.deliverDueMessages();
    for (const peer of this.runningPeers()) peer.raft?.tick();
    if (this.isFaulty && this.random() < this.options.proposeRate) this.proposeFromClient();
    for (const peer of this.runningPeers()) this.progressReady(peer);
    this.checkElectionSafety();
  }

  /** Stops the faults, heals the network, restarts every peer, and runs until the members agree. */
  private settle(): void {
    this.isFaulty = false;
    this.partition = null;
    this.note('faults stop; network heals');
    for (const peer of this.peers.values()) {
      if (peer.raft === null && peer.restartAt !== Infinity) peer.restartAt = this.now;
    }
    // A long faulty run can leave a long backlog, so the bound is on time without progress (entries stored or
    // applied somewhere), within an overall limit.
    let lastProgressAt = this.now;
    let progress = this.measureProgress();
    const deadline = this.now + 25 * this.options.settleSteps;
    for (; this.now - lastProgressAt < this.options.settleSteps && this.now < deadline; this.now++) {
      this.advanceTime();
      if (this.isConverged()) return;
      const measured = this.measureProgress();
      if (measured > progress) {
        progress = measured;
        lastProgressAt = this.now;
      }
    }
    const states = [...this.peers.values()].map((peer) => {
      const status = peer.raft?.status();
      return `${peer.id}: ${status?.role} term ${status?.term} commit ${status?.commit}/${status?.lastIndex} applied ${peer.applied.length} members [${status?.members.join(',')}]`;
    });
    throw new InvariantViolation(
      `no convergence after the faults stopped (${this.options.settleSteps} steps without progress, or too long); ` +
        states.join('; '),
    );
  }

  private measureProgress(): number {
    let count = 0;
    for (const peer of this.peers.values()) count += peer.applied.length + peer.storage.lastIndex();
    return count;
  }

  private isConverged(): boolean {
    const leader = this.currentLeader();
    if (leader?.raft == null) return false;
    const status = leader.raft.status();
    if (status.commit !== status.lastIndex || status.leadTransferee !== null) return false;
    return status.members.every((id) => {
      const peer = this.peers.get(id);
      const raft = peer?.raft;
      if (peer === undefined || raft == null || raft.hasReady()) return false;
      const memberStatus = raft.status();
      return memberStatus.commit === status.commit && peer.applied.length === status.commit;
    });
  }

  // ---- faults --------------------------------------------------------------------------------------------

  private injectFaults(): void {
    const options = this.options;
    if (this.partition !== null && this.now >= this.partition.healAt) {
      this.partition = null;
      this.note('partition heals');
    }
    // One draw picks at most one fault per time unit; the rates are small enough that this changes little.
    let draw = this.random();
    const faults: [number, () => void][] = [
      [options.crashRate, () => this.crashPeer()],
      [options.partitionRate, () => this.startPartition()],
      [options.compactRate, () => this.compactPeer()],
      [options.transferRate, () => this.transferLeadership()],
      [options.membershipRate, () => this.changeMembership()],
    ];
    for (const [rate, inject] of faults) {
      if (draw < rate) {
        inject();
        return;
      }
      draw -= rate;
    }
  }

  private crashPeer(): void {
    const running = this.runningPeers();
    if (running.length === 0) return;
    const peer = running[Math.floor(this.random() * running.length)];
    peer.raft = null;
    peer.pendingReady = null;
    peer.restartAt = this.now + 5 + Math.floor(this.random() * 60);
    peer.proposals.clear();
    peer.staged.clear();
    if (this.options.isForgettingHardState) {
      peer.storage.setHardState({ term: 0, vote: null, commit: peer.storage.initialState().hardState.commit });
    }
    this.stats.crashes++;
    this.note(`${peer.id} crashes until ${peer.restartAt}`);
  }

  private restartDuePeers(): void {
    for (const peer of this.peers.values()) {
      if (peer.raft !== null || peer.restartAt > this.now) continue;
      // The state machine lives in memory: it keeps only what the storage's compaction point stands for.
      peer.applied = peer.applied.slice(0, peer.storage.firstIndex() - 1);
      peer.raft = this.newRaft(peer.id, peer.storage);
      this.note(`${peer.id} restarts: ${JSON.stringify(peer.raft.status())}`);
    }
  }

  private startPartition(): void {
    if (this.partition !== null) return;
    const ids = [...this.peers.keys()];
    const groups = new Set(ids.filter(() => this.random() < 0.5));
    this.partition = { groups, healAt: this.now + 10 + Math.floor(this.random() * 80) };
    this.note(`partition [${[...groups].join(',')}] until ${this.partition.healAt}`);
  }

  private compactPeer(): void {
    const running = this.runningPeers();
    if (running.length === 0) return;
    const peer = running[Math.floor(this.random() * running.length)];
    const index = Math.min(peer.applied.length, peer.storage.lastIndex()) - Math.floor(this.random() * 3);
    if (index < peer.storage.firstIndex()) return;
    peer.storage.compact(index);
    this.note(`${peer.id} compacts to ${index}`);
  }

  private transferLeadership(): void {
    const leader = this.currentLeader();
    if (leader?.raft == null) return;
    const others = leader.raft.status().members.filter((id) => id !== leader.id);
    if (others.length === 0) return;
    const target = others[Math.floor(this.random() * others.length)];
    leader.raft.transferLeadership(target);
    this.stats.transfers++;
    this.note(`${leader.id} transfers leadership to ${target}`);
  }

  private changeMembership(): void {
    const leader = this.currentLeader();
    if (leader?.raft == null) return;
    const status = leader.raft.status();
    const isAdd = status.members.length < 3 || (status.members.length < this.options.nodes + 1 && this.random() < 0.5);
    try {
      if (isAdd) {
        const id = this.newPeerId();
        leader.raft.proposeConfigChange({ type: 'add', node: id });
        // The new peer starts knowing no membership, as a queue peer joining an existing cluster does: it waits for
        // the leader's catch-up, which tells it the membership, and never campaigns before.
        this.addPeer(id, new MemoryStorage([]));
        this.note(`${leader.id} adds ${id}`);
      } else {
        const node = status.members[Math.floor(this.random() * status.members.length)];
        leader.raft.proposeConfigChange({ type: 'remove', node });
        this.note(`${leader.id} removes ${node}`);
      }
      this.stats.configChanges++;
    } catch (error) {
      if (!(error instanceof Error && 'code' in error)) throw error;
      this.note(`${leader.id} refuses a membership change: ${error.message}`);
    }
  }

  private proposeFromClient(): void {
    const leader = this.currentLeader();
    if (leader?.raft == null) return;
    const text = `p${this.nextProposal++}`;
    try {
      const position = leader.raft.propose(asciiBytes(text));
      leader.proposals.set(`${position.index}/${position.term}`, text);
    } catch (error) {
      if (!(error instanceof Error && 'code' in error)) throw error;
    }
  }

  // ---- the network ---------------------------------------------------------------------------------------

  private send(message: Message, stream?: InFlight['stream']): void {
    const { dropRate, duplicateRate } = this.options;
    if (this.isFaulty && stream === undefined && dropRate > 0 && this.random() < dropRate) return;
    const copies = this.isFaulty && duplicateRate > 0 && this.random() < duplicateRate ? 2 : 1;
    for (let copy = 0; copy < copies; copy++) {
      const delay = 1 + Math.floor(this.random() * this.options.maxDelay) + (stream === undefined ? 0 : 5);
      const deliverAt = this.now + delay;
      const bucket = this.inFlight.get(deliverAt);
      if (bucket === undefined) {
        this.inFlight.set(deliverAt, [{ message, stream }]);
      } else {
        bucket.push({ message, stream });
      }
    }
  }

  private deliverDueMessages(): void {
    const due = this.inFlight.get(this.now);
    if (due === undefined) return;
    this.inFlight.delete(this.now);
    for (const item of due) this.deliver(item);
  }

  private deliver(item: InFlight): void {
    const { message } = item;
    if (item.stream === 'fails') {
      this.peers.get(message.from)?.raft?.reportUnreachable(message.to);
      this.note(`catch-up stream ${message.from}->${message.to} fails`);
      return;
    }
    const recipient = this.peers.get(message.to);
    if (recipient?.raft == null || this.isCut(message.from, message.to)) return;
    if (this.options.isTracingMessages) this.note(describeMessage(message));
    if (message.type === MessageType.Snapshot && item.stream !== undefined) {
      recipient.staged.set(message.snapshot.index, item.stream);
    }
    recipient.raft.step(message);
  }

  private isCut(from: NodeId, to: NodeId): boolean {
    return this.partition !== null && this.partition.groups.has(from) !== this.partition.groups.has(to);
  }

  // ---- a node's Ready loop -------------------------------------------------------------------------------

  /**
   * A node takes a Ready, persists it (maybe over several time units, while messages and ticks keep arriving, as
   * with a group commit), then sends, applies and advances. What is not persisted yet is lost in a crash.
   */
  private progressReady(peer: SimulatedPeer): void {
    const isHurried = !this.isFaulty;
    if (peer.pendingReady !== null && (isHurried || this.random() < this.options.readyRate)) {
      this.completeReady(peer, peer.pendingReady);
    }
    if (peer.pendingReady !== null || !peer.raft?.hasReady()) return;
    if (!isHurried && this.random() >= this.options.readyRate) return;
    const ready = peer.raft.ready();
    if (isHurried || this.random() < 0.5) {
      this.completeReady(peer, ready);
      return;
    }
    // Like the queue node, a leader sends its appends before its own write ends (thesis §10.2.1); the rest waits.
    for (const message of ready.messages) {
      if (message.type === MessageType.Append) this.send(message);
    }
    ready.messages = ready.messages.filter((message) => message.type !== MessageType.Append);
    peer.pendingReady = ready;
  }

  private completeReady(peer: SimulatedPeer, ready: Ready): void {
    const raft = peer.raft;
    if (raft === null) return;
    peer.pendingReady = null;
    if (ready.snapshot !== null) this.installCatchUp(peer, ready);
    if (ready.entries.length > 0) {
      peer.storage.append(ready.entries);
      this.checkLogMatching(peer, ready.entries);
    }
    if (ready.hardState !== null) peer.storage.setHardState(ready.hardState);
    const term = raft.currentTerm;
    if (raft.currentRole === 'leader') this.checkLeaderCompleteness(peer, term);
    for (const message of ready.messages) this.send(message);
    for (const entry of ready.committed) this.apply(peer, entry, term);
    // A node streams from its log; here the applied prefix stands for it, so stream once this Ready is applied.
    for (const request of ready.needsCatchUp) this.streamCatchUp(peer, request.message);
    raft.advance(ready);
  }

  private installCatchUp(peer: SimulatedPeer, ready: Ready): void {
    const snapshot = ready.snapshot;
    if (snapshot === null) return;
    const staged = peer.staged.get(snapshot.index);
    if (staged === undefined) {
      throw new InvariantViolation(`${peer.id} was asked to install catch-up ${snapshot.index} it never received`);
    }
    peer.storage.applySnapshot(snapshot);
    peer.applied = staged.slice();
    for (const index of peer.staged.keys()) {
      if (index <= snapshot.index) peer.staged.delete(index);
    }
    for (let index = 1; index <= peer.applied.length; index++)
      this.recordCommitted(peer, index, peer.applied[index - 1], Infinity);
    this.note(`${peer.id} installs catch-up to ${snapshot.index}`);
  }

  private streamCatchUp(leader: SimulatedPeer, message: SnapshotRequest): void {
    this.stats.catchUps++;
    const index = message.snapshot.index;
    if (leader.applied.length < index) {
      throw new InvariantViolation(`${leader.id} asked to stream up to ${index} but applied ${leader.applied.length}`);
    }
    const fails = this.isFaulty && this.random() < 0.1;
    this.note(`${leader.id} streams ${message.to} up to ${index}${fails ? ' (the stream will fail)' : ''}`);
    this.send(message, fails ? 'fails' : leader.applied.slice(0, index));
  }

  private apply(peer: SimulatedPeer, entry: Entry, term: number): void {
    if (entry.index !== peer.applied.length + 1) {
      throw new InvariantViolation(`${peer.id} applies ${entry.index} after ${peer.applied.length}`);
    }
    const entryDigest = this.digest(entry);
    peer.applied.push(entryDigest);
    this.recordCommitted(peer, entry.index, entryDigest, term);
    if (entry.kind === EntryKind.Config) this.retireIfRemoved(decodeConfigChange(entry.data));
    const key = `${entry.index}/${entry.term}`;
    const proposal = peer.proposals.get(key);
    if (proposal !== undefined) {
      peer.proposals.delete(key);
      if (asciiText(entry.data) !== proposal) {
        throw new InvariantViolation(`${peer.id} proposed ${proposal} at ${key} but committed ${describeEntry(entry)}`);
      }
      this.acknowledged.set(proposal, entry.index);
    }
  }

  /**
   * Without pre-vote or check-quorum nothing stops a removed peer that missed its removal from forcing elections
   * forever (thesis §4.2.3), so in those runs the operator stops a peer once its removal commits, as a scale-down
   * does. With either defence on, removed peers keep running: they must not disturb the others.
   */
  private retireIfRemoved(change: ConfigChange): void {
    if (this.options.isPreVoteEnabled || this.options.isCheckQuorumEnabled || change.type !== 'remove') return;
    const peer = this.peers.get(change.node);
    if (peer === undefined || peer.restartAt === Infinity) return;
    peer.raft = null;
    peer.pendingReady = null;
    peer.restartAt = Infinity;
    this.note(`${peer.id} is stopped for good`);
  }

  // ---- invariants ----------------------------------------------------------------------------------------

  private checkElectionSafety(): void {
    let leader: SimulatedPeer | undefined;
    let leaderTerm = -1;
    for (const peer of this.peers.values()) {
      if (peer.raft?.currentRole !== 'leader') continue;
      const term = peer.raft.currentTerm;
      if (term > leaderTerm) {
        leader = peer;
        leaderTerm = term;
      }
      const known = this.leaderOfTerm.get(term);
      if (known === undefined) {
        this.leaderOfTerm.set(term, peer.id);
        this.stats.elections++;
        this.note(`${peer.id} leads term ${term}`);
      } else if (known !== peer.id) {
        throw new InvariantViolation(`election safety: ${known} and ${peer.id} both lead term ${term}`);
      }
    }
    this.knownLeader = leader;
  }

  /**
   * Log matching, checked incrementally: if every `index/term` pair anywhere has one content and one predecessor
   * term, then by induction two logs sharing an `index/term` agree on every entry up to it.
   */
  private checkLogMatching(peer: SimulatedPeer, entries: Entry[]): void {
    for (const entry of entries) {
      const key = `${entry.index}/${entry.term}`;
      const previousTerm = peer.storage.term(entry.index - 1);
      const seen = { digest: this.digest(entry), previousTerm };
      const known = this.entryAt.get(key);
      if (known === undefined) {
        this.entryAt.set(key, seen);
      } else if (known.digest !== seen.digest || known.previousTerm !== seen.previousTerm) {
        throw new InvariantViolation(
          `log matching: ${peer.id} stores ${key} as ${seen.digest} after term ${previousTerm}, ` +
            `elsewhere ${known.digest} after term ${known.previousTerm}`,
        );
      }
    }
  }

  /** Every entry known committed before this term must be in the new leader's log (checked once it is stored). */
  private checkLeaderCompleteness(leader: SimulatedPeer, term: number): void {
    if (this.checkedLeaderTerms.has(term)) return;
    this.checkedLeaderTerms.add(term);
    const storage = leader.storage;
    this.committed.forEach((committed, position) => {
      const index = position + 1;
      if (committed.knownInTerm >= term || index < storage.firstIndex()) return;
      const stored = index <= storage.lastIndex() ? storage.entries(index, index + 1, Infinity)[0] : undefined;
      if (stored === undefined || this.digest(stored) !== committed.digest) {
        throw new InvariantViolation(
          `leader completeness: ${leader.id} leads term ${term} without committed ${index} (${committed.digest})`,
        );
      }
    });
  }

  /** State machine safety: no two peers apply different entries at one index. */
  private recordCommitted(peer: SimulatedPeer, index: number, entryDigest: string, term: number): void {
    const known = this.committed[index - 1];
    if (known === undefined) {
      if (index !== this.committed.length + 1) {
        throw new InvariantViolation(`${peer.id} applied ${index} before anyone applied ${this.committed.length + 1}`);
      }
      this.committed.push({ digest: entryDigest, knownInTerm: term });
    } else if (known.digest !== entryDigest) {
      throw new InvariantViolation(
        `state machine safety: ${peer.id} applied ${entryDigest} at ${index}, another peer ${known.digest}`,
      );
    } else {
      known.knownInTerm = Math.min(known.knownInTerm, term);
    }
  }

  private checkAcknowledgedEverywhere(): void {
    const leader = this.currentLeader();
    const members = leader?.raft?.status().members ?? [];
    for (const [proposal, index] of this.acknowledged) {
      for (const id of members) {
        const applied = this.peers.get(id)?.applied[index - 1];
        if (applied === undefined || !applied.endsWith(` ${proposal}`)) {
          throw new InvariantViolation(`acknowledged ${proposal} at ${index} but ${id} applied ${applied} there`);
        }
      }
    }
  }

  // ---- helpers -------------------------------------------------------------------------------------------

  private digest(entry: Entry): string {
    let text = this.digests.get(entry);
    if (text === undefined) {
      text = `${entry.index}/${entry.term} ${entry.kind} ${asciiText(entry.data)}`;
      this.digests.set(entry, text);
    }
    return text;
  }

  private addPeer(id: NodeId, storage: MemoryStorage): void {
    this.peers.set(id, {
      id,
      storage,
      raft: this.newRaft(id, storage),
      restartAt: 0,
      pendingReady: null,
      applied: [],
      staged: new Map(),
      proposals: new Map(),
    });
  }

  private newRaft(id: NodeId, storage: MemoryStorage): RaftNode {
    const options = this.options;
    return new RaftNode({
      id,
      storage,
      electionTicks: options.electionTicks,
      heartbeatTicks: options.heartbeatTicks,
      random: seededRandom(Math.floor(this.random() * 2 ** 32)),
      isPreVoteEnabled: options.isPreVoteEnabled,
      isCheckQuorumEnabled: options.isCheckQuorumEnabled,
      maxEntriesPerAppend: options.maxEntriesPerAppend,
      maxInflight: options.maxInflight,
      catchUpTimeoutTicks: 4 * options.electionTicks,
    });
  }

  private newPeerId(): NodeId {
    return `n${this.nextPeerNumber++}`;
  }

  private runningPeers(): SimulatedPeer[] {
    return [...this.peers.values()].filter((peer) => peer.raft !== null);
  }

  /** The running leader of the highest term, if it still leads. */
  private currentLeader(): SimulatedPeer | undefined {
    const leader = this.knownLeader;
    return leader?.raft?.currentRole === 'leader' ? leader : undefined;
  }

  private note(line: string): void {
    this.trace.push(`t=${this.now} ${line}`);
    if (this.trace.length > TRACE_LENGTH) this.trace.shift();
  }
}

/**
 * The options a seed runs with by default: the seed also picks the cluster size and a fault profile, so a sweep of
 * seeds covers 3 and 5 peers, single-entry and batched appends, check-quorum, runs without pre-vote, and runs with
 * or without membership changes and leadership transfers.
 */
export function optionsForSeed(seed: number): SimulationOptions {
  const random = seededRandom(seed ^ 0x5eed5eed);
  const pick = <T>(choices: readonly T[]): T => choices[Math.floor(random() * choices.length)];
  return {
    ...defaultSimulationOptions,
    nodes: pick([3, 5]),
    maxEntriesPerAppend: pick([1, 4, 64]),
    maxInflight: pick([1, 4, 16]),
    isCheckQuorumEnabled: random() < 0.3,
    isPreVoteEnabled: random() < 0.85,
    dropRate: pick([0, 0.05, 0.2]),
    duplicateRate: pick([0, 0.03, 0.1]),
    crashRate: pick([0.005, 0.01, 0.03]),
    readyRate: pick([0.5, 0.8, 1]),
    membershipRate: pick([0, 0.01]),
    transferRate: pick([0, 0.01]),
  };
}

/** Runs one seeded simulation; the same seed and options always produce the same run. */
export function runSimulation(seed: number, options: Partial<SimulationOptions> = {}): SimulationResult {
  return new Simulation(seed, { ...optionsForSeed(seed), ...options }).run();
}
