import fs from 'node:fs';
import path from 'node:path';
import express, { type Express, type Request, type RequestHandler } from 'express';
import { ApiError } from './errors';
import { readBody } from './http';

/**
 * Serves the web console (`console/`, built to `dist/console/`) under `/ui` and forwards `/ui/api/<service>/<path>`
 * to the other services, so the browser talks to one origin (the query service, which answers `/query` itself).
 */
export interface ConsoleUpstreams {
  alerting?: string;
  queue?: string;
  ingestion?: string;
  /**
   * Storage shards in index order; `/ui/api/storage/<index>/<path>`. A function is asked on every request, for a
   * shard list that changes (the query service's shards file).
   */
  storage?: readonly string[] | (() => readonly string[]);
}

export interface ConsoleOptions {
  /** The built console (`dist/console`). */
  assetsDir: string;
  upstreams: ConsoleUpstreams;
  /** Deadline of one forwarded request. */
  upstreamTimeoutMs?: number;
}

/** The operator-facing services are only read through the console; the alerting API is used whole. */
const READ_ONLY_PATHS = new Set(['/healthz', '/readyz', '/metrics', '/cluster', '/topics']);

/** Hop-by-hop headers (RFC 9110 §7.6.1) and the tenant header, which only services may set for each other. */
const DROPPED_REQUEST_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'x-metricstream-tenant',
]);
/** fetch has already decoded the body, so its length and encoding no longer describe what we send. */
const DROPPED_RESPONSE_HEADERS = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-encoding',
  'content-length',
]);

const MAX_FORWARDED_BODY_BYTES = 16 * 1024 * 1024;

export function mountConsole(app: Express, options: ConsoleOptions): void {
  const { upstreams } = options;
  const timeoutMs = options.upstreamTimeoutMs ?? 30_000;
  const storageUrls = () => (typeof upstreams.storage === 'function' ? upstreams.storage() : (upstreams.storage ?? []));
  app.get('/ui/api/config', (_req, res) => {
    res.json({
      services: {
        alerting: upstreams.alerting !== undefined,
        queue: upstreams.queue !== undefined,
        ingestion: upstreams.ingestion !== undefined,
        storage: storageUrls().length,
      },
    });
  });
  const mount = (prefix: string, name: string, baseUrl: string | undefined, isReadOnly: boolean) => {
    app.use(
      prefix,
      baseUrl === undefined
        ? (_req, _res, next) => next(notConfigured(name))
        : forwardTo(baseUrl, { service: name, timeoutMs, isReadOnly }),
    );
  };
  mount('/ui/api/alerting', 'alerting', upstreams.alerting, false);
  mount('/ui/api/queue', 'queue', upstreams.queue, true);
  mount('/ui/api/ingestion', 'ingestion', upstreams.ingestion, true);
  app.use('/ui/api/storage/:index', (req, res, next) => {
    const index = Number(req.params.index);
    const url = Number.isSafeInteger(index) ? storageUrls()[index] : undefined;
    if (url === undefined) return next(notConfigured(`storage/${req.params.index}`));
    forwardTo(url, { service: `storage ${index}`, timeoutMs, isReadOnly: true })(req, res, next);
  });
  app.use('/ui/api', (req, _res, next) => next(notConfigured(req.path.split('/')[1] ?? '')));
  serveAssets(app, options.assetsDir);
}

const notConfigured = (service: string) =>
  new ApiError(404, 'upstream_not_configured', `the console has no upstream service "${service}"`, { service });

function serveAssets(app: Express, assetsDir: string): void {
  const indexPath = path.join(assetsDir, 'index.html');
  // Vite names everything under assets/ by content hash, so a name never changes meaning.
  app.use(
    '/ui/assets',
    express.static(path.join(assetsDir, 'assets'), {
      immutable: true,
      maxAge: '365d',
      index: false,
    }),
    (req, _res, next) => next(new ApiError(404, 'not_found', `no console asset ${req.path}`)),
  );
  const sendIndex: RequestHandler = (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    fs.readFile(indexPath, (error, html) => {
      if (error) {
        next(new ApiError(503, 'console_not_built', `the console is not built (no ${indexPath}): run npm run build`));
        return;
      }
      res.setHeader('Cache-Control', 'no-cache');
      res.type('html').send(html);
    });
  };
  app.use(
    '/ui',
    express.static(assetsDir, {
      index: false,
      maxAge: 0,
      setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache'),
    }),
    // Client routes (/ui/explore, /ui/alerts, ...) are the app's; the browser asks for them on reload.
    sendIndex,
  );
}

interface ForwardOptions {
  service: string;
  timeoutMs: number;
  isReadOnly: boolean;
}

/** Forwards the request (method, headers, body, query string) to `baseUrl` + the path below the mount point. */
export function forwardTo(baseUrl: string, options: ForwardOptions): RequestHandler {
  const base = baseUrl.replace(/\/+$/, '');
  return (req, res, next) => {
    const target = req.url.startsWith('/') ? req.url : `/${req.url}`;
    if (options.isReadOnly && (!['GET', 'HEAD'].includes(req.method) || !READ_ONLY_PATHS.has(req.path))) {
      next(
        new ApiError(403, 'upstream_path_forbidden', `the console does not forward ${req.method} ${req.path}`, {
          service: options.service,
        }),
      );
      return;
    }
    const abort = new AbortController();
    let hasTimedOut = false;
    const timer = setTimeout(() => {
      hasTimedOut = true;
      abort.abort();
    }, options.timeoutMs);
    res.on('close', () => abort.abort());
    forwardBody(req)
      .then(async (body) => {
        const answer = await fetch(base + target, {
          method: req.method,
          headers: forwardedHeaders(req),
          // A copy typed as a plain ArrayBuffer view, which both the DOM and undici typings accept as a body.
          body: body && new Uint8Array(body),
          signal: abort.signal,
          redirect: 'manual',
        });
        const payload = Buffer.from(await answer.arrayBuffer());
        res.status(answer.status);
        answer.headers.forEach((value, name) => {
          if (!DROPPED_RESPONSE_HEADERS.has(name) && name !== 'x-request-id') res.setHeader(name, value);
        });
        res.end(payload);
      })
      .catch((error: unknown) => {
        if (res.headersSent || req.destroyed) return;
        if (error instanceof ApiError) return next(error);
        next(
          hasTimedOut
            ? new ApiError(
                504,
                'upstream_timeout',
                `${options.service} did not answer within ${options.timeoutMs} ms`,
                {
                  service: options.service,
                },
              )
            : new ApiError(502, 'upstream_unavailable', `${options.service} is unreachable: ${causeOf(error)}`, {
                service: options.service,
              }),
        );
      })
      .finally(() => clearTimeout(timer));
  };
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
}

function forwardedHeaders(req: Request): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || DROPPED_REQUEST_HEADERS.has(name)) continue;
    headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  if (req.body !== undefined && req.rawBody === undefined) headers.set('content-type', 'application/json');
  const forwardedFor = req.headers['x-forwarded-for'];
  const client = req.socket.remoteAddress ?? '';
  headers.set('x-forwarded-for', forwardedFor ? `${String(forwardedFor)}, ${client}` : client);
  return headers;
}

/** The kit's body parser may already have read the body (as JSON or raw bytes); otherwise read it here. */
async function forwardBody(req: Request): Promise<Buffer | undefined> {
  if (req.method === 'GET' || req.method === 'HEAD') return undefined;
  if (req.rawBody !== undefined) return req.rawBody;
  if (req.body !== undefined) return Buffer.from(JSON.stringify(req.body));
  if (req.readableEnded) return undefined;
  const body = await readBody(req, MAX_FORWARDED_BODY_BYTES);
  return body.length > 0 ? body : undefined;
}
