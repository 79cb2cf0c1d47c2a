import { CompactedError } from '../errors';
import type { RaftStorage } from './storage';
import type { Entry, SnapshotMetadata } from './types';

/**
 * The core's view of the log: stable storage plus entries (and a catch-up point) not yet persisted.
 * Unstable entries start at `offset` and shadow whatever storage holds from there on.
 * Entries before `offsetInProgress` were handed out in a Ready the node is still persisting.
 */
export class RaftLog {
  private unstable: Entry[] = [];
  private offset: number;
  private offsetInProgress: number;
  private pendingSnapshot: SnapshotMetadata | null = null;
  private isSnapshotInProgress = false;
  committed: number;
  applied: number;
  /** Committed entries up to here were handed out in a Ready and await advance(). */
  appliedInProgress: number;

  constructor(
    private readonly storage: RaftStorage,
    committed: number,
    applied: number,
  ) {
    this.offset = storage.lastIndex() + 1;
    this.offsetInProgress = this.offset;
    this.committed = committed;
    this.applied = applied;
    this.appliedInProgress = applied;
  }

  firstIndex(): number {
    return this.pendingSnapshot === null ? this.storage.firstIndex() : this.pendingSnapshot.index + 1;
  }

  lastIndex(): number {
    if (this.unstable.length > 0) return this.offset + this.unstable.length - 1;
    if (this.pendingSnapshot !== null) return this.pendingSnapshot.index;
    return this.storage.lastIndex();
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) ?? 0;
  }

  /** The term of the entry at `index`, or undefined when it is past the end or compacted away. */
  term(index: number): number | undefined {
    if (index >= this.offset) return this.unstable[index - this.offset]?.term;
    if (this.pendingSnapshot !== null) {
      return index === this.pendingSnapshot.index ? this.pendingSnapshot.term : undefined;
    }
    if (index > this.storage.lastIndex()) return undefined;
    try {
      return this.storage.term(index);
    } catch (error) {
      if (error instanceof CompactedError) return undefined;
      throw error;
    }
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Raft's up-to-date check (§5.4.1): a later last term wins, then a longer log. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ownLastTerm = this.lastTerm();
    return lastTerm > ownLastTerm || (lastTerm === ownLastTerm && lastIndex >= this.lastIndex());
  }

  /** Entries [lo, hi) up to maxBytes (at least one); throws CompactedError when lo is no longer stored. */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo >= hi) return [];
    if (lo < this.firstIndex()) throw new CompactedError(lo, this.firstIndex());
    const result: Entry[] = [];
    if (lo < this.offset) {
      result.push(...this.storage.entries(lo, Math.min(hi, this.offset), maxBytes));
      if (result.length < Math.min(hi, this.offset) - lo) return result;
    }
    let bytes = result.reduce((sum, entry) => sum + entry.data.byteLength, 0);
    for (let index = Math.max(lo, this.offset); index < hi; index++) {
      const entry = this.unstable[index - this.offset];
      bytes += entry.data.byteLength;
      if (result.length > 0 && bytes > maxBytes) break;
      result.push(entry);
    }
    return result;
  }

  /** Appends entries that follow the log or overwrite its suffix; the caller found where they diverge. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0].index;
    if (first <= this.committed) throw new RangeError(`refusing to overwrite committed index ${first}`);
    if (first === this.offset + this.unstable.length) {
      this.unstable.push(...entries);
    } else if (first <= this.offset) {
      this.offset = first;
      this.unstable = [...entries];
    } else {
      this.unstable = this.unstable.slice(0, first - this.offset).concat(entries);
    }
    this.offsetInProgress = Math.min(this.offsetInProgress, first);
  }

  /**
   * The first index where `entries` disagree with the log or extend it, or 0 when all are already there.
   * Entries the log already holds are skipped so a duplicated append never truncates anything (§5.3).
   */
  findConflict(entries: readonly Entry[]): number {
    for (const entry of entries) {
      if (!this.matchTerm(entry.index, entry.term)) return entry.index;
    }
    return 0;
  }

  /**
   * The largest index <= `index` whose term is <= `term`: every entry above it has a later term, so they
   * cannot match a log whose entry at `index` has `term` and can be skipped in one step.
   */
  findConflictByTerm(index: number, term: number): number {
    let candidate = Math.min(index, this.lastIndex());
    for (;;) {
      const candidateTerm = this.term(candidate);
      if (candidateTerm === undefined || candidateTerm <= term) return candidate;
      candidate--;
    }
  }

  commitTo(index: number): void {
    if (index > this.committed) this.committed = Math.min(index, this.lastIndex());
  }

  /** Resets the log to a catch-up point; the node installs the streamed data before persisting anything else. */
  restore(snapshot: SnapshotMetadata): void {
    this.pendingSnapshot = { ...snapshot, members: [...snapshot.members] };
    this.isSnapshotInProgress = false;
    this.unstable = [];
    this.offset = snapshot.index + 1;
    this.offsetInProgress = this.offset;
    this.committed = snapshot.index;
    this.applied = snapshot.index;
    this.appliedInProgress = snapshot.index;
  }

  hasSnapshotToPersist(): boolean {
    return this.pendingSnapshot !== null && !this.isSnapshotInProgress;
  }

  hasEntriesToPersist(): boolean {
    return this.offsetInProgress < this.offset + this.unstable.length;
  }

  hasEntriesToApply(): boolean {
    return this.committed > this.appliedInProgress;
  }

  takeSnapshotToPersist(): SnapshotMetadata | null {
    if (!this.hasSnapshotToPersist() || this.pendingSnapshot === null) return null;
    this.isSnapshotInProgress = true;
    return { ...this.pendingSnapshot, members: [...this.pendingSnapshot.members] };
  }

  takeEntriesToPersist(): Entry[] {
    const entries = this.unstable.slice(this.offsetInProgress - this.offset);
    this.offsetInProgress = this.offset + this.unstable.length;
    return entries;
  }

  takeEntriesToApply(maxBytes: number): Entry[] {
    if (!this.hasEntriesToApply()) return [];
    const entries = this.slice(this.appliedInProgress + 1, this.committed + 1, maxBytes);
    if (entries.length > 0) this.appliedInProgress = entries[entries.length - 1].index;
    return entries;
  }

  /** Storage now holds the snapshot and every entry up to (index, term): stop keeping them in memory. */
  stableTo(snapshot: SnapshotMetadata | null, index: number, term: number): void {
    if (snapshot !== null && this.pendingSnapshot !== null && this.pendingSnapshot.index === snapshot.index) {
      this.pendingSnapshot = null;
      this.isSnapshotInProgress = false;
    }
    if (index < this.offset || this.term(index) !== term) return;
    this.unstable = this.unstable.slice(index + 1 - this.offset);
    this.offset = index + 1;
    this.offsetInProgress = Math.max(this.offsetInProgress, this.offset);
  }

  appliedTo(index: number): void {
    if (index > this.applied) this.applied = index;
  }
}
