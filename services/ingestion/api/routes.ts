import type { ErrorRequestHandler, Express } from 'express';
import { ApiError } from '../../kit/errors';
import { route } from '../../kit/http';
import { IngestionError, invalidRemoteWrite, unsupportedMediaType } from '../errors';
import type { Ingestor } from './ingest';

/**
 * The express routes: `POST /api/v1/write` (Prometheus remote-write 1.0), and the error-header hook every route
 * (including the kit's 413/400 body errors) passes through. `POST /metrics` is served by fast-path.ts.
 */
export function addIngestionRoutes(app: Express, ingestor: Ingestor): void {
  app.post(
    '/api/v1/write',
    route(async (req, res) => {
      if (!req.rawBody) {
        if (req.body !== undefined) throw unsupportedMediaType('application/x-protobuf');
        throw invalidRemoteWrite('empty body');
      }
      const encoding = req.headers['content-encoding'];
      if (encoding !== undefined && encoding.toLowerCase() !== 'snappy')
        throw invalidRemoteWrite(`Content-Encoding must be snappy, got ${encoding}`);
      const principal = await ingestor.admit(req.headers.authorization, res);
      await ingestor.acceptRemoteWrite(principal, req.rawBody);
      res.status(204).end();
    }),
  );

  /** Puts an error's headers (Retry-After, WWW-Authenticate) on the response; the kit's handler writes the body. */
  const errorHeaders: ErrorRequestHandler = (error, _req, res, next) => {
    if (error instanceof ApiError) ingestor.countRejection(error);
    if (error instanceof IngestionError && !res.headersSent)
      for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
    next(error);
  };
  app.use(errorHeaders);
}
