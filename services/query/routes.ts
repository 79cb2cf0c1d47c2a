import type { Express, Request, Response } from 'express';
import { ApiKeyStore, bearerToken } from '../kit/auth';
import { ApiError } from '../kit/errors';
import { route, toApiError } from '../kit/http';
import type { QueryEngine } from './engine';
import { ErrorCode, toHttpError } from './errors';

export interface RouteOptions {
  engine: QueryEngine;
  shards: () => readonly string[];
  /** Present when multi-tenancy is on: callers are resolved to tenants by their API key. */
  keys?: ApiKeyStore;
  onCache: (result: 'hit' | 'miss') => void;
}

const MAX_BATCH = 100;

/** The query engine's HTTP API (services/query/API.md). */
export function addQueryRoutes(app: Express, options: RouteOptions): void {
  const { engine } = options;

  const tenantOf = (req: Request): string | undefined => {
    if (!options.keys) return undefined;
    const key = bearerToken(req.headers.authorization);
    const principal = key === undefined ? undefined : options.keys.resolve(key);
    if (!principal)
      throw new ApiError(401, ErrorCode.Unauthorized, 'multi-tenancy is on: send Authorization: Bearer <api key>');
    return principal.tenant;
  };

  /** Aborted when the client disconnects before the answer is written, which cancels the shard calls. */
  const disconnectSignal = (res: Response): AbortSignal => {
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort(new Error('client disconnected'));
    });
    return controller.signal;
  };

  const answer = async (req: Request, res: Response, query: unknown, partial: unknown) => {
    if (typeof query !== 'string' || query.trim() === '')
      throw new ApiError(400, ErrorCode.InvalidRequest, 'expected {"query": "SELECT ..."} (or GET /query?q=...)');
    const tenant = tenantOf(req);
    const signal = disconnectSignal(res);
    try {
      const outcome = await engine.run({
        query,
        tenant,
        allowPartial: partial === true || partial === 'true',
        signal,
        isCacheable: !/\bno-(cache|store)\b/i.test(req.get('cache-control') ?? ''),
      });
      options.onCache(outcome.isCached ? 'hit' : 'miss');
      res
        .status(200)
        .type('application/json')
        .setHeader('X-Cache', outcome.isCached ? 'hit' : 'miss');
      res.send(outcome.body);
    } catch (error) {
      // The client went away: nobody is left to answer, and it is not the service's failure.
      if (signal.aborted) return;
      throw toHttpError(error);
    }
  };

  app.post(
    ['/query', '/v1/query'],
    route((req, res) => answer(req, res, req.body?.query, req.body?.partial)),
  );
  app.get(
    ['/query', '/v1/query'],
    route((req, res) => answer(req, res, req.query.q, req.query.partial)),
  );

  app.post(
    '/v1/query/batch',
    route(async (req, res) => {
      const queries: unknown = req.body?.queries;
      if (!Array.isArray(queries) || queries.length > MAX_BATCH || queries.some((query) => typeof query !== 'string'))
        throw new ApiError(
          400,
          ErrorCode.InvalidRequest,
          `expected {"queries": ["...", ...]} with at most ${MAX_BATCH} queries`,
        );
      const tenant = tenantOf(req);
      const signal = disconnectSignal(res);
      const allowPartial = req.body?.partial === true;
      const results = await Promise.all(
        (queries as string[]).map(async (query) => {
          try {
            const outcome = await engine.run({ query, tenant, allowPartial, signal, isCacheable: false });
            options.onCache(outcome.isCached ? 'hit' : 'miss');
            return outcome.body;
          } catch (error) {
            if (signal.aborted) return '';
            const apiError = toApiError(toHttpError(error));
            if (apiError.status >= 500 && apiError.code === 'internal') throw error;
            return JSON.stringify(apiError.toBody());
          }
        }),
      );
      if (signal.aborted) return;
      res
        .status(200)
        .type('application/json')
        .send(`{"results":[${results.join(',')}]}`);
    }),
  );

  app.post(
    '/v1/validate',
    route((req, res) => {
      const query: unknown = req.body?.query;
      if (typeof query !== 'string')
        throw new ApiError(400, ErrorCode.InvalidRequest, 'expected {"query": "SELECT ..."}');
      try {
        engine.validate(query);
      } catch (error) {
        throw toHttpError(error);
      }
      res.json({ ok: true });
    }),
  );

  app.get('/v1/shards', (_req, res) => {
    res.json({ shards: options.shards() });
  });
}
