/** A matcher the index cannot evaluate: an invalid regular expression or an unknown operator. */
export class InvalidMatcherError extends Error {
  override readonly name = 'InvalidMatcherError';
  readonly code = 'invalid_matcher';

  constructor(
    readonly matcher: { key: string; op: string; value: string },
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`invalid matcher ${matcher.key}${matcher.op}"${matcher.value}": ${reason}`, options);
  }
}

/** Index bytes that TagIndex.encode does not write: truncated, bit-flipped or another format. */
export class IndexCorruptionError extends Error {
  override readonly name = 'IndexCorruptionError';
  readonly code = 'index_corrupted';

  constructor(
    readonly offset: number,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`corrupt tag index at byte ${offset}: ${reason}`, options);
  }
}
