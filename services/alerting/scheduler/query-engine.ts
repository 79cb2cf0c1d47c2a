/**
 * The query engine as the alerting service uses it (docs/CONTRACTS.md, "Query"): `POST /v1/query/batch` to evaluate,
 * `POST /v1/validate` to check a rule's query before accepting it.
 */
export type Row = Record<string, unknown>;

export interface EngineError {
  code: string;
  message: string;
  position?: number;
  [extra: string]: unknown;
}

export type QueryResult = { series: Row[] } | { error: EngineError };

export type Validation = { isValid: true } | { isValid: false; error: EngineError };

export interface QueryEngine {
  batch(queries: readonly string[]): Promise<QueryResult[]>;
  validate(query: string): Promise<Validation>;
}

/** The engine could not be reached or answered something outside its contract. */
export class QueryEngineUnavailable extends Error {
  override readonly name = 'QueryEngineUnavailable';
}

export function httpQueryEngine(baseUrl: string, timeoutMs: number): QueryEngine {
  const base = baseUrl.replace(/\/+$/, '');

  async function post(path: string, body: unknown): Promise<{ status: number; body: unknown }> {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      throw new QueryEngineUnavailable(`query engine at ${base} unreachable: ${cause?.code ?? (error as Error).name}`);
    }
    const text = await response.text();
    try {
      return { status: response.status, body: JSON.parse(text) };
    } catch {
      throw new QueryEngineUnavailable(`query engine answered ${response.status} with a body that is not JSON`);
    }
  }

  const errorOf = (body: unknown): EngineError | undefined => {
    const error = (body as { error?: EngineError } | undefined)?.error;
    return error && typeof error.code === 'string' ? error : undefined;
  };

  return {
    async batch(queries) {
      const answer = await post('/v1/query/batch', { queries });
      const results = (answer.body as { results?: QueryResult[] }).results;
      if (answer.status !== 200 || !Array.isArray(results) || results.length !== queries.length) {
        const error = errorOf(answer.body);
        throw new QueryEngineUnavailable(
          `query engine batch answered ${answer.status}${error ? ` ${error.code}: ${error.message}` : ''}`,
        );
      }
      return results;
    },
    async validate(query) {
      const answer = await post('/v1/validate', { query });
      if (answer.status === 200) return { isValid: true };
      const error = errorOf(answer.body);
      if (answer.status === 400 && error) return { isValid: false, error };
      throw new QueryEngineUnavailable(`query engine validate answered ${answer.status}`);
    },
  };
}
