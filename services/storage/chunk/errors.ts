/**
 * Decoding met bytes that no encoder writes: truncated, bit-flipped or from another format. It is the only error a
 * decoder throws, so callers can quarantine the chunk (or block) and carry on.
 */
export class ChunkCorruptionError extends Error {
  override readonly name = 'ChunkCorruptionError';
  readonly code = 'chunk_corrupted';

  constructor(
    /** Byte offset in the decoded input (or in the inflated payload, as the reason says) where decoding stopped. */
    readonly offset: number,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`corrupt chunk at byte ${offset}: ${reason}`, options);
  }
}
