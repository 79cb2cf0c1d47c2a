import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import { ApiError } from './errors';
import type { Logger } from './logger';
import type { HttpMetrics, Registry } from './metrics';

export type Readiness = () => { ready: boolean; reason?: string } | Promise<{ ready: boolean; reason?: string }>;

export interface AppOptions {
  logger: Logger;
  registry: Registry;
  httpMetrics: HttpMetrics;
  /** Largest JSON body accepted; larger answers 413 `payload_too_large`. */
  jsonLimitBytes?: number;
  isReady?: Readiness;
}

declare module 'express-serve-static-core' {
  interface Request {
    requestId: string;
    rawBody?: Buffer;
  }
}

let requestCounter = 0;
const requestIdPrefix = `${process.pid.toString(36)}-${Date.now().toString(36)}-`;

const requestId: RequestHandler = (req, res, next) => {
  const incoming = req.headers['x-request-id'];
  req.requestId =
    typeof incoming === 'string' && incoming.length <= 128 ? incoming : requestIdPrefix + ++requestCounter;
  res.setHeader('X-Request-Id', req.requestId);
  next();
};

function recordMetrics(metrics: HttpMetrics): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = req.route?.path ? req.baseUrl + String(req.route.path) : 'unmatched';
      metrics.requests.inc({ method: req.method, route, status: String(res.statusCode) });
      metrics.duration.observe({ method: req.method, route }, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  };
}

/** Reads the whole body into one Buffer, rejecting with 413 once it passes `limitBytes`. */
export function readBody(req: http.IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) {
    req.resume();
    return Promise.reject(tooLarge(limitBytes));
  }
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (part: Buffer) => {
      size += part.length;
      if (size > limitBytes) {
        req.removeAllListeners('data');
        req.resume();
        reject(tooLarge(limitBytes));
        return;
      }
      parts.push(part);
    });
    req.on('end', () => resolve(parts.length === 1 ? parts[0] : Buffer.concat(parts, size)));
    req.on('error', reject);
  });
}

const tooLarge = (limitBytes: number) =>
  new ApiError(413, 'payload_too_large', `request body is larger than the limit of ${limitBytes} bytes`, {
    limit_bytes: limitBytes,
  });

export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new ApiError(400, 'invalid_json', `request body is not valid JSON: ${(error as Error).message}`);
  }
}

const isJson = (contentType: string | undefined) =>
  !contentType || /^application\/([\w.+-]*\+)?json\b/i.test(contentType);

/** A lean JSON body parser (fewer layers than express.json()); other content types are left as `req.rawBody`. */
export function jsonBody(limitBytes: number): RequestHandler {
  return (req, _res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'DELETE') return next();
    readBody(req, limitBytes)
      .then((body) => {
        if (body.length === 0) req.body = undefined;
        else if (isJson(req.headers['content-type'])) req.body = parseJson(body);
        else req.rawBody = body;
      })
      .then(() => next(), next);
  };
}

/** Creates an express app with request ids, metrics, JSON bodies and the probe endpoints. Call `finishApp` last. */
export function createApp(options: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('logger', options.logger);
  app.use(requestId, recordMetrics(options.httpMetrics), jsonBody(options.jsonLimitBytes ?? 1024 * 1024));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const readiness = options.isReady ? await options.isReady() : { ready: true };
    res.status(readiness.ready ? 200 : 503).json({ status: readiness.ready ? 'ready' : 'not_ready', ...readiness });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(options.registry.contentType).send(await options.registry.metrics());
  });
  return app;
}

/** Adds the JSON 404 and the single error handler; every error leaves the service as `{"error":{code,message}}`. */
export function finishApp(app: Express, logger: Logger): Express {
  app.use((req, _res, next) => next(new ApiError(404, 'not_found', `no route for ${req.method} ${req.path}`)));
  const handleError: ErrorRequestHandler = (error, req, res, _next) => {
    const apiError = toApiError(error);
    if (apiError.status >= 500) logger.error('request failed', { requestId: req.requestId, path: req.path, error });
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(apiError.status).json(apiError.toBody());
  };
  app.use(handleError);
  return app;
}

export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const status =
    (error as { status?: number; statusCode?: number })?.status ?? (error as { statusCode?: number })?.statusCode;
  if (status === 400 && (error as { type?: string }).type === 'entity.parse.failed')
    return new ApiError(400, 'invalid_json', 'request body is not valid JSON');
  if (status === 413) return new ApiError(413, 'payload_too_large', 'request body is too large');
  if (typeof status === 'number' && status >= 400 && status < 500)
    return new ApiError(status, 'bad_request', (error as Error).message ?? 'bad request');
  return new ApiError(500, 'internal', 'internal error', {}, { cause: error });
}

/** Wraps an async route so a rejected promise reaches the error handler. (Express 5 does this too; kept explicit.) */
export const route =
  (handler: (req: express.Request, res: express.Response) => Promise<unknown> | unknown): RequestHandler =>
  (req, res, next) => {
    Promise.resolve()
      .then(() => handler(req, res))
      .catch(next);
  };

export async function listen(app: http.RequestListener, port: number, host: string): Promise<http.Server> {
  const server = http.createServer(app);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

export const boundPort = (server: http.Server) => (server.address() as AddressInfo).port;

/** Stops accepting, lets in-flight requests finish (up to `graceMs`), then drops whatever is left. */
export async function closeServer(server: http.Server, graceMs = 10_000): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Keep-alive connections become idle one by one as their last response finishes; close each as soon as it does.
  const sweeper = setInterval(() => server.closeIdleConnections(), 25);
  const deadline = setTimeout(() => server.closeAllConnections(), graceMs);
  server.closeIdleConnections();
  await closed;
  clearInterval(sweeper);
  clearTimeout(deadline);
}
