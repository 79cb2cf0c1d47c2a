import { ApiError } from '../kit/errors';

/**
 * Every error code the alerting service answers with (API.md lists each). Cores throw `RuleError`/`ChannelError`
 * (no HTTP knowledge); the routes map them to `ApiError` through `toApiError` here, the one place a code gets a status.
 */
export const ErrorCode = {
  InvalidRule: 'invalid_rule',
  ParseError: 'parse_error',
  RuleExists: 'rule_exists',
  RuleNotFound: 'rule_not_found',
  RuleNameMismatch: 'rule_name_mismatch',
  InvalidChannel: 'invalid_channel',
  ChannelExists: 'channel_exists',
  ChannelNotFound: 'channel_not_found',
  ChannelFromFile: 'channel_from_file',
  InvalidFilter: 'invalid_filter',
  QueryEngineUnavailable: 'query_engine_unavailable',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const STATUS: Record<ErrorCode, number> = {
  invalid_rule: 400,
  parse_error: 400,
  rule_exists: 409,
  rule_not_found: 404,
  rule_name_mismatch: 400,
  invalid_channel: 400,
  channel_exists: 409,
  channel_not_found: 404,
  channel_from_file: 409,
  invalid_filter: 400,
  query_engine_unavailable: 503,
};

/** A rule that cannot be accepted. `position` is a 0-based offset into `query` when the condition is at fault. */
export class RuleError extends Error {
  override readonly name = 'RuleError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

export const alertingError = (code: ErrorCode, message: string, details: Record<string, unknown> = {}) =>
  new ApiError(STATUS[code], code, message, details);

export const toApiError = (error: RuleError) => alertingError(error.code, error.message, { ...error.details });
