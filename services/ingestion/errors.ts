import { ApiError } from '../kit/errors';
import type { Problem } from './validation/metric';

/**
 * Every error the ingestion service answers with; codes are listed in API.md. Only the kit's error middleware writes
 * them. Headers that must travel with an error (Retry-After, WWW-Authenticate) are carried in `headers`.
 */
export class IngestionError extends ApiError {
  constructor(
    status: number,
    code: string,
    message: string,
    details: Record<string, unknown> = {},
    readonly headers: Readonly<Record<string, string>> = {},
    options?: ErrorOptions,
  ) {
    super(status, code, message, details, options);
  }
}

export const missingCredentials = (scheme: 'client-id' | 'api-keys') =>
  new IngestionError(
    401,
    'missing_credentials',
    scheme === 'client-id'
      ? 'the Authorization header must carry your client id'
      : 'Authorization: Bearer <key> is required',
    {},
    scheme === 'api-keys' ? { 'WWW-Authenticate': 'Bearer' } : {},
  );

export const invalidClientId = (pattern: string) =>
  new IngestionError(401, 'invalid_client_id', `the client id must match ${pattern}`);

export const invalidApiKey = () =>
  new IngestionError(
    401,
    'invalid_api_key',
    'unknown API key',
    {},
    { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
  );

export const invalidBody = (message: string) => new IngestionError(400, 'invalid_body', message);

export const tooManyMetrics = (count: number, limit: number) =>
  new IngestionError(400, 'too_many_metrics', `${count} metrics in one request; the limit is ${limit}`, {
    count,
    limit,
  });

export const invalidMetrics = (problems: Problem[]) =>
  new IngestionError(400, 'invalid_metrics', `metric ${problems[0].index}: ${problems[0].message}`, {
    index: problems[0].index,
    errors: problems,
  });

export const invalidRemoteWrite = (message: string) => new IngestionError(400, 'invalid_remote_write', message);

export const unsupportedMediaType = (expected: string) =>
  new IngestionError(415, 'unsupported_media_type', `Content-Type must be ${expected}`);

export const rateLimited = (client: string, retryAfterSeconds: number) =>
  new IngestionError(
    429,
    'rate_limited',
    `client ${client} is over its request rate; retry in ${retryAfterSeconds} s`,
    { retry_after_seconds: retryAfterSeconds },
    { 'Retry-After': String(retryAfterSeconds) },
  );

export const spoolFull = (retryAfterSeconds: number) =>
  new IngestionError(
    503,
    'spool_full',
    'the queue is unreachable and the local spool is full; retry later',
    { retry_after_seconds: retryAfterSeconds },
    { 'Retry-After': String(retryAfterSeconds) },
  );

export const queueRejected = (status: number, detail: string) =>
  new IngestionError(502, 'queue_rejected', `the queue refused the batch (${status}): ${detail}`);
