import { CompactedError } from '../errors';
import { applyConfigChange, decodeConfigChange, EntryKind } from './types';
import type { Entry, HardState, NodeId, SnapshotMetadata } from './types';

export interface InitialState {
  hardState: HardState;
  /** The membership in effect after the entry at `membersIndex` (default: firstIndex() - 1). */
  members: NodeId[];
  /** The core replays Config entries in (membersIndex, lastIndex] on top of `members`. */
  membersIndex?: number;
}

/**
 * The read-only view of stable storage the core uses; the node writes through Ready.
 * Index firstIndex() - 1 is the compaction point: its term is still known, its entry is not. A log that never
 * compacted has firstIndex() 1 and term(0) 0; an empty one has lastIndex() 0.
 * Returned arrays and entries belong to the caller's read only: the core never mutates them.
 */
export interface RaftStorage {
  initialState(): InitialState;
  firstIndex(): number;
  lastIndex(): number;
  /** Throws CompactedError below firstIndex() - 1. */
  term(index: number): number;
  /** Entries [lo, hi), stopping before maxBytes of data (always at least one). Throws CompactedError below firstIndex(). */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
}

/** RaftStorage in memory: the simulator's stable storage and the reference for the node's segment log. */
export class MemoryStorage implements RaftStorage {
  private hardState: HardState = { term: 0, vote: null, commit: 0 };
  /** The compaction point: entries[0] would be index base.index + 1. */
  private base = { index: 0, term: 0 };
  private baseMembers: NodeId[];
  private log: Entry[] = [];

  constructor(members: readonly NodeId[]) {
    this.baseMembers = [...members].sort();
  }

  initialState(): InitialState {
    return { hardState: { ...this.hardState }, members: [...this.baseMembers], membersIndex: this.base.index };
  }

  firstIndex(): number {
    return this.base.index + 1;
  }

  lastIndex(): number {
    return this.base.index + this.log.length;
  }

  term(index: number): number {
    if (index < this.base.index) throw new CompactedError(index, this.firstIndex());
    if (index === this.base.index) return this.base.term;
    const entry = this.log[index - this.base.index - 1];
    if (entry === undefined) throw new RangeError(`index ${index} is beyond the last index ${this.lastIndex()}`);
    return entry.term;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo < this.firstIndex()) throw new CompactedError(lo, this.firstIndex());
    if (hi > this.lastIndex() + 1) throw new RangeError(`entries up to ${hi} requested beyond ${this.lastIndex()}`);
    const result: Entry[] = [];
    let bytes = 0;
    for (let index = lo; index < hi; index++) {
      const entry = this.log[index - this.base.index - 1];
      bytes += entry.data.byteLength;
      if (result.length > 0 && bytes > maxBytes) break;
      result.push(entry);
    }
    return result;
  }

  setHardState(hardState: HardState): void {
    this.hardState = { ...hardState };
  }

  /** Appends entries, first dropping the stored suffix from entries[0].index (a leader overwrote it). */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0].index;
    if (first <= this.base.index) throw new CompactedError(first, this.firstIndex());
    if (first > this.lastIndex() + 1) throw new RangeError(`gap: appending ${first} after ${this.lastIndex()}`);
    this.log.length = first - this.base.index - 1;
    for (const entry of entries) this.log.push(entry);
  }

  /** Drops entries up to and including `index` (retention), folding their membership changes into the base. */
  compact(index: number): void {
    if (index <= this.base.index) return;
    if (index > this.lastIndex()) throw new RangeError(`cannot compact to ${index} beyond ${this.lastIndex()}`);
    const dropped = this.log.slice(0, index - this.base.index);
    for (const entry of dropped) {
      if (entry.kind === EntryKind.Config) {
        this.baseMembers = applyConfigChange(this.baseMembers, decodeConfigChange(entry.data));
      }
    }
    this.base = { index, term: this.term(index) };
    this.log = this.log.slice(dropped.length);
  }

  /** Replaces the whole log by a catch-up point (Ready.snapshot): the log now ends at snapshot.index. */
  applySnapshot(snapshot: SnapshotMetadata): void {
    this.base = { index: snapshot.index, term: snapshot.term };
    this.baseMembers = [...snapshot.members].sort();
    this.log = [];
  }
}
