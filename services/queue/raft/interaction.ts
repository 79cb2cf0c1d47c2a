import { RaftNode, type RaftOptions } from './raft';
import { MemoryStorage } from './storage';
import { decodeConfigChange, EntryKind, MessageType, type Entry, type Message, type NodeId, type Ready } from './types';

const textDecoder = new TextDecoder();
const textEncoder = new TextEncoder();

interface Peer {
  raft: RaftNode;
  storage: MemoryStorage;
  applied: Entry[];
}

/**
 * A hand-driven cluster for scenario tests, after etcd's rafttest interaction environment: commands move messages
 * and Readies one step at a time, and every step is written to a trace that tests compare with the expected text.
 */
export class Interaction {
  readonly peers = new Map<NodeId, Peer>();
  /** Messages sent and not yet delivered, in send order. */
  inFlight: Message[] = [];
  private trace: string[] = [];
  private readonly cutOff = new Set<NodeId>();

  constructor(private readonly options: Partial<Omit<RaftOptions, 'id' | 'storage'>> = {}) {}

  addPeers(ids: NodeId[], members: NodeId[] = ids): void {
    for (const id of ids) this.startPeer(id, new MemoryStorage(members));
  }

  /** Rebuilds a peer from what it persisted, as after a crash. */
  restart(id: NodeId): void {
    const storage = this.peer(id).storage;
    this.startPeer(id, storage);
  }

  raft(id: NodeId): RaftNode {
    return this.peer(id).raft;
  }

  storage(id: NodeId): MemoryStorage {
    return this.peer(id).storage;
  }

  /** What the peer's state machine applied, as `index/term data` strings. */
  applied(id: NodeId): string[] {
    return this.peer(id).applied.map(describeEntry);
  }

  propose(id: NodeId, text: string): { index: number; term: number } {
    return this.raft(id).propose(textEncoder.encode(text));
  }

  tick(id: NodeId, count: number): void {
    for (let tick = 0; tick < count; tick++) this.raft(id).tick();
  }

  /**
   * Lets the named followers' leader lease run out (electionTicks ticks, short of the 15-tick timeout), so they
   * grant votes again.
   */
  expireLeases(ids: NodeId[]): void {
    for (const id of ids) this.tick(id, this.options.electionTicks ?? 10);
  }

  /** Messages to and from `id` are dropped until `reconnect`. */
  isolate(id: NodeId): void {
    this.cutOff.add(id);
  }

  reconnect(id: NodeId): void {
    this.cutOff.delete(id);
  }

  /** Handles one Ready of `id` the way a node must: persist, then send, then apply, then advance. */
  processReady(id: NodeId): void {
    const peer = this.peer(id);
    if (!peer.raft.hasReady()) return;
    const ready = peer.raft.ready();
    const description = describeReady(ready);
    this.record(description === '' ? `${id} ready` : `${id} ready ${description}`);
    if (ready.snapshot !== null) peer.storage.applySnapshot(ready.snapshot);
    peer.storage.append(ready.entries);
    if (ready.hardState !== null) peer.storage.setHardState(ready.hardState);
    this.inFlight.push(...ready.messages);
    for (const request of ready.needsCatchUp) this.inFlight.push(request.message);
    peer.applied.push(...ready.committed);
    peer.raft.advance(ready);
  }

  /** Delivers every message in flight now (not those they cause), except those `isLost` picks. */
  deliver(isLost: (message: Message) => boolean = () => false): void {
    const batch = this.inFlight;
    this.inFlight = [];
    for (const message of batch) {
      const isDropped = isLost(message) || this.cutOff.has(message.to) || this.cutOff.has(message.from);
      this.record(`${isDropped ? 'dropped ' : ''}${describeMessage(message)}`);
      if (!isDropped && this.peers.has(message.to)) this.raft(message.to).step(message);
    }
  }

  /** Processes Readies and delivers messages until nothing moves. */
  stabilize(isLost: (message: Message) => boolean = () => false): void {
    for (let round = 0; round < 1000; round++) {
      let isIdle = true;
      for (const id of this.peers.keys()) {
        if (this.raft(id).hasReady()) {
          this.processReady(id);
          isIdle = false;
        }
      }
      if (this.inFlight.length > 0) {
        this.deliver(isLost);
        isIdle = false;
      }
      if (isIdle) return;
    }
    throw new Error('the cluster did not stabilize in 1000 rounds');
  }

  /** Returns the trace since the last call. */
  takeTrace(): string {
    const text = this.trace.join('\n');
    this.trace = [];
    return text;
  }

  private record(line: string): void {
    this.trace.push(line);
  }

  private peer(id: NodeId): Peer {
    const peer = this.peers.get(id);
    if (peer === undefined) throw new Error(`no peer ${id}`);
    return peer;
  }

  private startPeer(id: NodeId, storage: MemoryStorage): void {
    const raft = new RaftNode({
      electionTicks: 10,
      heartbeatTicks: 1,
      // Every election timeout is 15 ticks, so a script knows when a peer campaigns.
      random: () => 0.5,
      ...this.options,
      id,
      storage,
    });
    const applied = this.peers.get(id)?.applied.slice(0, raft.status().applied) ?? [];
    this.peers.set(id, { raft, storage, applied });
  }
}

export function describeEntry(entry: Entry): string {
  switch (entry.kind) {
    case EntryKind.Normal:
      return `${entry.index}/${entry.term} ${textDecoder.decode(entry.data)}`;
    case EntryKind.Noop:
      return `${entry.index}/${entry.term} noop`;
    case EntryKind.Config: {
      const change = decodeConfigChange(entry.data);
      return `${entry.index}/${entry.term} ${change.type} ${change.node}`;
    }
    default: {
      const exhaustive: never = entry.kind;
      throw new TypeError(`unknown entry kind ${String(exhaustive)}`);
    }
  }
}

function describeReady(ready: Ready): string {
  const parts: string[] = [];
  if (ready.hardState !== null) {
    const { term, vote, commit } = ready.hardState;
    parts.push(`hardState term:${term} vote:${vote ?? '-'} commit:${commit}`);
  }
  if (ready.snapshot !== null) parts.push(`snapshot ${ready.snapshot.index}/${ready.snapshot.term}`);
  if (ready.entries.length > 0) parts.push(`entries [${ready.entries.map(describeEntry).join(', ')}]`);
  if (ready.committed.length > 0) parts.push(`committed [${ready.committed.map(describeEntry).join(', ')}]`);
  for (const request of ready.needsCatchUp) parts.push(`catch up ${request.peer} from ${request.fromIndex}`);
  return parts.join('; ');
}

export function describeMessage(message: Message): string {
  const head = `${message.from}->${message.to} ${message.type} term:${message.term}`;
  switch (message.type) {
    case MessageType.PreVote:
    case MessageType.Vote:
      return `${head} log:${message.lastLogIndex}/${message.lastLogTerm}${message.isLeadershipTransfer ? ' transfer' : ''}`;
    case MessageType.PreVoteResponse:
    case MessageType.VoteResponse:
      return `${head} ${message.isGranted ? 'granted' : 'rejected'}`;
    case MessageType.Append: {
      const entries = message.entries.map(describeEntry).join(', ');
      return `${head} prev:${message.prevIndex}/${message.prevTerm} entries:[${entries}] commit:${message.commit}`;
    }
    case MessageType.AppendResponse:
      return message.isRejected
        ? `${head} rejected:${message.index} hint:${message.hintIndex}/${message.hintTerm}${message.isMembershipUnknown ? ' membership-unknown' : ''}`
        : `${head} index:${message.index}`;
    case MessageType.Heartbeat:
      return `${head} commit:${message.commit}`;
    case MessageType.HeartbeatResponse:
    case MessageType.TimeoutNow:
      return head;
    case MessageType.Snapshot: {
      const { index, term, members } = message.snapshot;
      return `${head} at:${index}/${term} members:[${members.join(',')}]`;
    }
    case MessageType.SnapshotResponse:
      return `${head} index:${message.index}`;
    default: {
      const exhaustive: never = message;
      throw new TypeError(`unknown message ${JSON.stringify(exhaustive)}`);
    }
  }
}
