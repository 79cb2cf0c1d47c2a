/**
 * How far the leader believes one follower's log is, and how it sends to it (etcd's tracker.Progress):
 * - probe: one append per heartbeat interval until the follower's match is found;
 * - replicate: appends are pipelined, `next` advances optimistically, at most `maxInflight` are unacknowledged;
 * - catchUp: the follower needs entries the leader no longer stores; nothing is sent until the stream ends.
 */
export class Progress {
  match = 0;
  next: number;
  state: 'probe' | 'replicate' | 'catchUp' = 'probe';
  /** In probe, an append was sent and its answer (or a heartbeat answer) has not come back. */
  isProbeSent = false;
  /** Last index of each unacknowledged append, oldest first. */
  private inflight: number[] = [];
  /** In catchUp, the index the follower is brought to, and how many ticks the stream has been running. */
  catchUpIndex = 0;
  catchUpElapsed = 0;
  /** Heard from since the last check-quorum round. */
  isRecentlyActive = true;

  constructor(
    next: number,
    private readonly maxInflight: number,
  ) {
    this.next = next;
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.isProbeSent;
      case 'replicate':
        return this.inflight.length >= this.maxInflight;
      case 'catchUp':
        return true;
      default: {
        const exhaustive: never = this.state;
        throw new TypeError(`unknown progress state ${String(exhaustive)}`);
      }
    }
  }

  becomeProbe(): void {
    this.resetState('probe');
    this.next = this.match + 1;
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  becomeCatchUp(index: number): void {
    this.resetState('catchUp');
    this.catchUpIndex = index;
  }

  /** Records an acknowledgement; false when it is stale (already known). */
  maybeUpdate(index: number): boolean {
    const isNew = index > this.match;
    if (isNew) {
      this.match = index;
      this.isProbeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return isNew;
  }

  /** Records that an append ending at `lastIndex` was sent. */
  sentEntries(lastIndex: number, entryCount: number): void {
    switch (this.state) {
      case 'replicate':
        if (entryCount > 0) {
          this.next = lastIndex + 1;
          this.inflight.push(lastIndex);
        }
        break;
      case 'probe':
        this.isProbeSent = true;
        break;
      case 'catchUp':
        throw new RangeError('nothing is sent to a follower being caught up');
      default: {
        const exhaustive: never = this.state;
        throw new TypeError(`unknown progress state ${String(exhaustive)}`);
      }
    }
  }

  acknowledgeInflight(index: number): void {
    let freed = 0;
    while (freed < this.inflight.length && this.inflight[freed] <= index) freed++;
    if (freed > 0) this.inflight = this.inflight.slice(freed);
  }

  /** Forgets the oldest unacknowledged append, whose acknowledgement was probably lost. */
  releaseOldestInflight(): void {
    this.inflight = this.inflight.slice(1);
  }

  /**
   * Handles a rejection of the append whose prevIndex was `rejected`; `matchHint` is the highest index that may
   * still match. False when the rejection is stale (answers an append already superseded).
   */
  maybeDecreaseTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.isProbeSent = false;
    return true;
  }

  private resetState(state: Progress['state']): void {
    this.state = state;
    this.isProbeSent = false;
    this.inflight = [];
    this.catchUpIndex = 0;
    this.catchUpElapsed = 0;
  }
}
