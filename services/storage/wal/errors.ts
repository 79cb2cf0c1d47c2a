/** A WAL file holds bytes no writer of ours left there; tells where, like tsdb's wlog.CorruptionErr. */
export class WalCorruptionError extends Error {
  override readonly name = 'WalCorruptionError';
  readonly code = 'wal_corrupted';

  constructor(
    readonly file: string,
    readonly segment: number,
    readonly offset: number,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`WAL ${file} (segment ${segment}) is corrupt at byte ${offset}: ${reason}`, options);
  }
}

/** An append after the WAL failed to write or was closed. */
export class WalClosedError extends Error {
  override readonly name = 'WalClosedError';
  readonly code = 'wal_unavailable';
}
