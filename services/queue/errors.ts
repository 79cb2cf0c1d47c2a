import { ApiError } from '../kit/errors';

/** Damage in a segment file that is not a torn tail: the log refuses to serve it. */
export class CorruptionError extends Error {
  override readonly name = 'CorruptionError';
  readonly code = 'log_corrupt';

  constructor(
    readonly segment: string,
    readonly offset: number,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`corrupt log segment ${segment} at byte ${offset}: ${reason}`, options);
  }
}

/** A read below what retention (or a catch-up reset) kept. */
export class CompactedError extends Error {
  override readonly name = 'CompactedError';

  constructor(
    readonly requested: number,
    readonly first: number,
  ) {
    super(`index ${requested} is below the first retained index ${first}`);
  }
}

export const offsetOutOfRange = (offset: number, earliestOffset: number) =>
  new ApiError(400, 'offset_out_of_range', `offset ${offset} is below the earliest retained offset ${earliestOffset}`, {
    earliest_offset: earliestOffset,
  });

export const invalidRequest = (message: string, details?: Record<string, unknown>) =>
  new ApiError(400, 'invalid_request', message, details);

export const unknownTopic = (topic: string) => new ApiError(404, 'unknown_topic', `no topic named "${topic}"`);

export const unknownPartition = (topic: string, partition: number) =>
  new ApiError(404, 'unknown_partition', `topic "${topic}" has no partition ${partition}`);

export const valueTooLarge = (limitBytes: number) =>
  new ApiError(413, 'value_too_large', `a record value is larger than the limit of ${limitBytes} bytes`, {
    limit_bytes: limitBytes,
  });

export const noQuorum = (message: string, retryAfterSeconds = 1) =>
  new ApiError(503, 'no_quorum', message, { retry_after_seconds: retryAfterSeconds });

export const notLeader = (message: string) => new ApiError(503, 'not_leader', message);

export const shuttingDown = () => new ApiError(503, 'shutting_down', 'the peer is shutting down');
