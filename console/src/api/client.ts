/**
 * Every call the console makes. The query service serves the console, so its own API is at the origin's root
 * (`/query`, `/v1/validate`); the other services are reached through the console proxy at `/ui/api/<service>/`.
 */
export interface ApiErrorBody {
  code: string;
  message: string;
  position?: number;
  problems?: string[];
  translated_query?: string;
  [extra: string]: unknown;
}

export class ApiFailure extends Error {
  override readonly name = 'ApiFailure';

  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    super(body.message);
  }
}

export interface Credentials {
  read(): string;
}

export class ApiClient {
  constructor(
    private readonly credentials: Credentials,
    private readonly onUnauthorized: (failure: ApiFailure) => void,
  ) {}

  async json<T>(method: string, url: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const response = await this.send(method, url, body, signal);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  async text(url: string, signal?: AbortSignal): Promise<string> {
    return (await this.send('GET', url, undefined, signal)).text();
  }

  private async send(method: string, url: string, body: unknown, signal?: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    const credential = this.credentials.read();
    if (credential !== '') headers.Authorization = authorizationHeader(credential);
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      throw new ApiFailure(0, { code: 'network_error', message: `cannot reach the server: ${String(error)}` });
    }
    if (response.ok) return response;
    const failure = new ApiFailure(response.status, await errorBody(response));
    if (response.status === 401) this.onUnauthorized(failure);
    throw failure;
  }
}

/** Ingestion reads `Bearer <client id>` like a bare client id, and the query service wants `Bearer <key>`. */
export function authorizationHeader(credential: string): string {
  const trimmed = credential.trim();
  return /^Bearer\s/i.test(trimmed) ? trimmed : `Bearer ${trimmed}`;
}

async function errorBody(response: Response): Promise<ApiErrorBody> {
  const text = await response.text();
  try {
    const parsed = JSON.parse(text) as { error?: ApiErrorBody };
    if (parsed.error && typeof parsed.error.message === 'string') return parsed.error;
  } catch {
    // not JSON: described below
  }
  return { code: `http_${response.status}`, message: text.slice(0, 300) || response.statusText };
}

export const QUERY_URL = '/query';
export const VALIDATE_URL = '/v1/validate';
export const SHARDS_URL = '/v1/shards';
export const CONSOLE_CONFIG_URL = '/ui/api/config';
export const upstreamUrl = (service: string, path: string) => `/ui/api/${service}${path}`;
