/** Identifies one member of a Raft group (a peer's name, stable across restarts). */
export type NodeId = string;

export const EntryKind = { Normal: 'normal', Noop: 'noop', Config: 'config' } as const;
export type EntryKind = (typeof EntryKind)[keyof typeof EntryKind];

/** One log entry. `data` of a Config entry is the UTF-8 JSON of a ConfigChange; a Noop entry's is empty. */
export interface Entry {
  index: number;
  term: number;
  kind: EntryKind;
  data: Uint8Array;
}

/** A single-server membership change (thesis §4.1): one voter added or removed at a time. */
export interface ConfigChange {
  type: 'add' | 'remove';
  node: NodeId;
}

/** What must survive a crash besides the log: the current term, the vote cast in it, and the commit index. */
export interface HardState {
  term: number;
  vote: NodeId | null;
  commit: number;
}

/** Where a catch-up leaves a follower: its log ends at `index` (of `term`), with `members` in effect there. */
export interface SnapshotMetadata {
  index: number;
  term: number;
  members: NodeId[];
}

export const MessageType = {
  PreVote: 'preVote',
  PreVoteResponse: 'preVoteResponse',
  Vote: 'vote',
  VoteResponse: 'voteResponse',
  Append: 'append',
  AppendResponse: 'appendResponse',
  Heartbeat: 'heartbeat',
  HeartbeatResponse: 'heartbeatResponse',
  TimeoutNow: 'timeoutNow',
  Snapshot: 'snapshot',
  SnapshotResponse: 'snapshotResponse',
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

interface Envelope {
  from: NodeId;
  to: NodeId;
  /** The sender's term; for a preVote, the term the sender would campaign at (its term + 1). */
  term: number;
}

/** A vote request. `isLeadershipTransfer` marks a campaign started by timeoutNow: it bypasses the leader lease. */
export interface VoteRequest extends Envelope {
  type: 'preVote' | 'vote';
  lastLogIndex: number;
  lastLogTerm: number;
  isLeadershipTransfer: boolean;
}

export interface VoteResponse extends Envelope {
  type: 'preVoteResponse' | 'voteResponse';
  isGranted: boolean;
}

export interface AppendRequest extends Envelope {
  type: 'append';
  /** Index and term of the entry just before `entries`: the follower accepts only if its log holds it. */
  prevIndex: number;
  prevTerm: number;
  entries: Entry[];
  commit: number;
}

/**
 * Accepted: `index` is the last index known to match the leader's log.
 * Rejected: `index` is the rejected prevIndex, and (`hintIndex`, `hintTerm`) let the leader skip a whole
 * conflicting term at once instead of probing one index per round trip (thesis §5.3, etcd's findConflictByTerm).
 */
export type AppendResponse = Envelope & { type: 'appendResponse'; index: number } & (
    | { isRejected: false }
    | {
        isRejected: true;
        hintIndex: number;
        hintTerm: number;
        /**
         * The follower does not know the group's membership yet (a peer joining with an empty log): it cannot
         * interpret appended entries and needs a catch-up, which carries the membership.
         */
        isMembershipUnknown?: boolean;
      }
  );

export interface Heartbeat extends Envelope {
  type: 'heartbeat';
  commit: number;
}

export interface HeartbeatResponse extends Envelope {
  type: 'heartbeatResponse';
}

/** Tells the leadership-transfer target to campaign now, without pre-vote and without waiting for a timeout. */
export interface TimeoutNow extends Envelope {
  type: 'timeoutNow';
}

/**
 * Delivered to a follower after the leader's node streamed it the partition's data up to `snapshot.index`
 * (see Ready.needsCatchUp). The follower's node stages that data, then steps this message.
 */
export interface SnapshotRequest extends Envelope {
  type: 'snapshot';
  snapshot: SnapshotMetadata;
}

/** The follower's log now matches the leader's up to `index`. */
export interface SnapshotResponse extends Envelope {
  type: 'snapshotResponse';
  index: number;
}

export type Message =
  | VoteRequest
  | VoteResponse
  | AppendRequest
  | AppendResponse
  | Heartbeat
  | HeartbeatResponse
  | TimeoutNow
  | SnapshotRequest
  | SnapshotResponse;

/** A follower needs entries the leader's storage no longer has (retention deleted them). */
export interface CatchUpRequest {
  peer: NodeId;
  /** The first index the follower lacks. */
  fromIndex: number;
  /** Stream the partition's data up to `message.snapshot.index` to `peer`, then deliver `message`. */
  message: SnapshotRequest;
}

/**
 * Everything the core produced since the last Ready. Handle it in this order:
 * 1. if `snapshot` is non-null, install the staged catch-up data: the log now ends at snapshot.index;
 * 2. append `entries` to stable storage, first truncating the stored suffix from entries[0].index;
 * 3. persist `hardState` if non-null;
 * 4. only then send `messages` (a vote or an append acknowledgement promises durable state, thesis §3.8)
 *    and start the streams in `needsCatchUp`;
 * 5. apply `committed` in order;
 * 6. call advance(ready) before the next ready().
 */
export interface Ready {
  hardState: HardState | null;
  snapshot: SnapshotMetadata | null;
  entries: Entry[];
  committed: Entry[];
  messages: Message[];
  needsCatchUp: CatchUpRequest[];
}

export type Role = 'follower' | 'candidate' | 'precandidate' | 'leader';

export interface PeerProgress {
  match: number;
  next: number;
  state: 'probe' | 'replicate' | 'catchUp';
}

export interface Status {
  id: NodeId;
  term: number;
  role: Role;
  leader: NodeId | null;
  commit: number;
  applied: number;
  lastIndex: number;
  members: NodeId[];
  /** Index of the entry that made `members` (the log start for the initial membership). */
  membersIndex: number;
  leadTransferee: NodeId | null;
  progress?: Record<NodeId, PeerProgress>;
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

export function encodeConfigChange(change: ConfigChange): Uint8Array {
  return textEncoder.encode(JSON.stringify({ type: change.type, node: change.node }));
}

export function decodeConfigChange(data: Uint8Array): ConfigChange {
  const parsed = JSON.parse(textDecoder.decode(data)) as ConfigChange;
  if ((parsed.type !== 'add' && parsed.type !== 'remove') || typeof parsed.node !== 'string') {
    throw new TypeError(`not a config change: ${textDecoder.decode(data)}`);
  }
  return { type: parsed.type, node: parsed.node };
}

/** The membership after `change`, kept sorted so that equal memberships compare equal. */
export function applyConfigChange(members: readonly NodeId[], change: ConfigChange): NodeId[] {
  const next = new Set(members);
  switch (change.type) {
    case 'add':
      next.add(change.node);
      break;
    case 'remove':
      next.delete(change.node);
      break;
    default: {
      const exhaustive: never = change.type;
      throw new TypeError(`unknown config change ${String(exhaustive)}`);
    }
  }
  return [...next].sort();
}
