import { CompactedError } from '../errors';
import { recordsIn, type LogEntry } from '../log/frame';
import type { ConsumedRecord, SegmentLog } from '../log/segment-log';

/**
 * The state machine of one partition: its log plus how far it is committed. Committed entries are "applied" by
 * advancing the commit point (the log is the state), resolving the proposals waiting on them and waking long-polls.
 */
export interface PendingProposal {
  index: number;
  term: number;
  resolve(baseOffset: number): void;
  reject(error: Error): void;
}

export class ProposalDroppedError extends Error {
  override readonly name = 'ProposalDroppedError';
}

export type AppliedListener = (entry: LogEntry, baseOffset: number) => void;

export class Partition {
  private appliedIndex: number;
  private appliedNextOffset: number;
  private readonly pending = new Map<number, PendingProposal>();
  private waiters = new Set<{ offset: number; wake: () => void }>();

  constructor(
    readonly topic: string,
    readonly partition: number,
    public log: SegmentLog,
    /** The commit index recorded in the hard state: entries up to it are known committed at start-up. */
    initialCommit: number,
    private readonly onApplied?: AppliedListener,
    /** The applied state was discarded (a catch-up replaced the log); it is rebuilt through onApplied. */
    private readonly onReset?: () => void,
  ) {
    this.appliedIndex = Math.max(log.firstIndex() - 1, Math.min(initialCommit, log.lastIndex()));
    this.appliedNextOffset = log.nextOffsetAfter(this.appliedIndex);
    this.replayApplied();
  }

  get key(): string {
    return `${this.topic}/${this.partition}`;
  }

  get commitIndex(): number {
    return this.appliedIndex;
  }

  /** Client offset after the last committed record: the end of what consumers may read. */
  get committedNextOffset(): number {
    return this.appliedNextOffset;
  }

  /** Registers a proposal appended at `index` in `term`; it resolves when that exact entry commits. */
  track(proposal: PendingProposal): void {
    // A new proposal at a tracked index means the log was cut back there: the older entry can never commit.
    const replaced = this.pending.get(proposal.index);
    if (replaced && replaced.term !== proposal.term)
      replaced.reject(new ProposalDroppedError(`${this.key}: entry ${proposal.index} was replaced by a new leader`));
    this.pending.set(proposal.index, proposal);
  }

  /** Rejects a tracked proposal (its deadline passed); the entry may still commit, unacknowledged. */
  forget(index: number, term: number, error: Error): void {
    const proposal = this.pending.get(index);
    if (!proposal || proposal.term !== term) return;
    this.pending.delete(index);
    proposal.reject(error);
  }

  /** Applies committed entries in index order; entries already applied are skipped. */
  apply(entries: readonly LogEntry[]): void {
    let hasNewRecords = false;
    for (const entry of entries) {
      if (entry.index <= this.appliedIndex) continue;
      if (entry.index !== this.appliedIndex + 1)
        throw new RangeError(`${this.key}: applying ${entry.index} after ${this.appliedIndex}`);
      const baseOffset = this.appliedNextOffset;
      const count = recordsIn(entry);
      this.appliedIndex = entry.index;
      this.appliedNextOffset += count;
      hasNewRecords ||= count > 0;
      this.onApplied?.(entry, baseOffset);
      const proposal = this.pending.get(entry.index);
      if (proposal) {
        this.pending.delete(entry.index);
        if (proposal.term === entry.term) proposal.resolve(baseOffset);
        else
          proposal.reject(new ProposalDroppedError(`${this.key}: entry ${entry.index} was replaced by a new leader`));
      }
    }
    if (hasNewRecords) this.wakeWaiters();
  }

  /** The log was reset under the partition (catch-up from the leader): restart the applied point there. */
  resetApplied(index: number): void {
    this.appliedIndex = index;
    this.appliedNextOffset = this.log.nextOffsetAfter(index);
    this.onReset?.();
    this.replayApplied();
    this.wakeWaiters();
  }

  /** Hands the retained entries up to the applied index to onApplied (state rebuilt from the log). */
  private replayApplied(): void {
    const first = this.log.firstIndex();
    if (this.onApplied && this.appliedIndex >= first)
      for (const entry of this.log.entries(first, this.appliedIndex + 1)) this.onApplied(entry, entry.baseOffset);
  }

  /** Committed records from `offset` (nothing uncommitted is ever returned). */
  read(offset: number, count: number, maxBytes: number): { records: ConsumedRecord[]; nextOffset: number } {
    if (offset < this.log.startOffset()) throw new CompactedError(offset, this.log.startOffset());
    if (offset >= this.appliedNextOffset) return { records: [], nextOffset: offset };
    const records = this.log.readRecords(offset, count, maxBytes, this.appliedIndex);
    return { records, nextOffset: records.length > 0 ? records.at(-1)!.offset + 1 : offset };
  }

  /** Resolves once a record at `offset` is committed, or after `timeoutMs`. */
  waitForRecords(offset: number, timeoutMs: number): Promise<void> {
    if (offset < this.appliedNextOffset || timeoutMs <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = {
        offset,
        wake: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve();
        },
      };
      const timer = setTimeout(waiter.wake, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Fails every pending proposal (shutdown, or the peer was removed from the group). */
  failPending(error: Error): void {
    for (const proposal of this.pending.values()) proposal.reject(error);
    this.pending.clear();
  }

  wakeAll(): void {
    for (const waiter of [...this.waiters]) waiter.wake();
  }

  private wakeWaiters(): void {
    for (const waiter of [...this.waiters]) if (waiter.offset < this.appliedNextOffset) waiter.wake();
  }
}
