import { ApiError } from '../kit/errors';

/** Every error the storage service answers with; API.md lists each code. Only the kit's error middleware writes them. */
export const invalidPoint = (index: number, message: string, line?: number) =>
  new ApiError(400, 'invalid_point', `point ${index}: ${message}`, line === undefined ? { index } : { index, line });

export const invalidRequest = (message: string, details: Record<string, unknown> = {}) =>
  new ApiError(400, 'invalid_request', message, details);

export const invalidMatcher = (message: string, matcher: unknown) =>
  new ApiError(400, 'invalid_matcher', message, { matcher });

export const tooManyPoints = (limit: number) =>
  new ApiError(400, 'too_many_points', `the query matches more than ${limit} points; narrow the range or filters`, {
    limit,
  });

export const unsupportedMediaType = (contentType: string) =>
  new ApiError(415, 'unsupported_media_type', `cannot read a body of type ${contentType}; send JSON or text/plain`);

export const storageUnavailable = (message: string) => new ApiError(503, 'storage_unavailable', message);
