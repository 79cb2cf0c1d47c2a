/**
 * The one error type that crosses an HTTP boundary. Cores throw their own typed errors; each service maps them to an
 * ApiError (or throws one directly) and the error middleware in http.ts is the only place that writes the body.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra documented fields merged into the error body, e.g. `position` or `index`. */
    readonly details: Readonly<Record<string, unknown>> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  toBody(): { error: Record<string, unknown> } {
    return { error: { code: this.code, message: this.message, ...this.details } };
  }
}

export const badRequest = (code: string, message: string, details?: Record<string, unknown>) =>
  new ApiError(400, code, message, details);

export const notFound = (code: string, message: string, details?: Record<string, unknown>) =>
  new ApiError(404, code, message, details);

export const unavailable = (code: string, message: string, details?: Record<string, unknown>) =>
  new ApiError(503, code, message, details);

/** Errors raised while parsing start-up configuration; the CLI prints every problem and exits 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}
