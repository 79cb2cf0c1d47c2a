import { ApiError } from '../kit/errors';

/**
 * Every error the query engine raises. Cores (parser, planner, merge) throw these typed errors, which carry a stable
 * snake_case code and no HTTP knowledge; `toHttpError` is the single place that maps a code to a status.
 */
export const ErrorCode = {
  ParseError: 'parse_error',
  UnknownFunction: 'unknown_function',
  InvalidDuration: 'invalid_duration',
  EmptyTimeRange: 'empty_time_range',
  UnsupportedCondition: 'unsupported_condition',
  TooManySeries: 'too_many_series',
  TooManyPoints: 'too_many_points',
  ResponseTooLarge: 'response_too_large',
  ShardFailed: 'shard_failed',
  ShardTimeout: 'shard_timeout',
  QueryTimeout: 'query_timeout',
  NoShards: 'no_shards',
  InvalidRequest: 'invalid_request',
  Unauthorized: 'unauthorized',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export type ParseErrorCode =
  typeof ErrorCode.ParseError | typeof ErrorCode.UnknownFunction | typeof ErrorCode.InvalidDuration;

/** A problem in the query text: where (0-based character offset) and what was expected there. */
export class ParseError extends Error {
  override readonly name = 'ParseError';

  constructor(
    readonly code: ParseErrorCode,
    message: string,
    readonly position: number,
    /** Further problems found after recovering from this one (TypeScript-style: one run reports them all). */
    readonly others: readonly ParseError[] = [],
  ) {
    super(message);
  }

  withOthers(others: readonly ParseError[]): ParseError {
    return new ParseError(this.code, this.message, this.position, others);
  }
}

/** A query that parses but cannot be planned or answered as asked (bad time range, limits). */
export class QueryError extends Error {
  override readonly name = 'QueryError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

const STATUS: Record<ErrorCode, number> = {
  parse_error: 400,
  unknown_function: 400,
  invalid_duration: 400,
  empty_time_range: 400,
  unsupported_condition: 400,
  invalid_request: 400,
  unauthorized: 401,
  too_many_series: 422,
  too_many_points: 422,
  response_too_large: 422,
  shard_failed: 502,
  no_shards: 503,
  shard_timeout: 504,
  query_timeout: 504,
};

export function toHttpError(error: unknown): unknown {
  if (error instanceof ParseError) {
    const others = error.others.map(({ code, message, position }) => ({ code, message, position }));
    return new ApiError(STATUS[error.code], error.code, error.message, {
      position: error.position,
      ...(others.length > 0 ? { errors: others } : {}),
    });
  }
  if (error instanceof QueryError)
    return new ApiError(STATUS[error.code], error.code, error.message, error.details, { cause: error });
  return error;
}
