import type { NodeId } from './types';

/** A proposal reached a peer that is not the leader; `leader` is the one it knows of, if any. */
export class NotLeaderError extends Error {
  override readonly name = 'NotLeaderError';
  readonly code = 'not_leader';

  constructor(readonly leader: NodeId | null) {
    super(leader === null ? 'no leader is known' : `not the leader; the leader is ${leader}`);
  }
}

/** Proposals pause while leadership moves to another peer (at most one election timeout). */
export class LeadershipTransferError extends Error {
  override readonly name = 'LeadershipTransferError';
  readonly code = 'leadership_transfer';

  constructor(readonly transferee: NodeId) {
    super(`leadership is moving to ${transferee}; retry shortly`);
  }
}

/** Only one membership change may be uncommitted at a time (thesis §4.1). */
export class ConfigChangePendingError extends Error {
  override readonly name = 'ConfigChangePendingError';
  readonly code = 'config_change_pending';

  constructor(readonly pendingIndex: number) {
    super(`a membership change at index ${pendingIndex} is not committed yet`);
  }
}

/** A membership change or transfer that names an impossible target (adding a member, removing a stranger). */
export class InvalidConfigChangeError extends Error {
  override readonly name = 'InvalidConfigChangeError';
  readonly code = 'invalid_config_change';
}
