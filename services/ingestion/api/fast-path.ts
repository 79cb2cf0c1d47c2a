import type http from 'node:http';
import { parseJson, readBody, toApiError } from '../../kit/http';
import type { Logger } from '../../kit/logger';
import type { HttpMetrics } from '../../kit/metrics';
import { IngestionError } from '../errors';
import type { Ingestor } from './ingest';

/**
 * `POST /metrics` and `POST /v1/metrics` served on node:http directly, in front of the express app.
 *
 * Why: the hot path measured at ~0.4 of a bare node:http server through express (router, middleware chain,
 * res.json), against an aim of 0.5 (docs/PERFORMANCE.md). This handler keeps the kit's contract
 * byte for byte: the same body reader and 413/400 errors (`readBody`, `parseJson`), the same error conversion and
 * `{"error": {...}}` body (`toApiError`, `ApiError.toBody`), X-Request-Id, and the kit's per-route HTTP metrics.
 * Every other request falls through to express.
 */
export interface FastPathOptions {
  ingestor: Ingestor;
  bodyLimitBytes: number;
  httpMetrics: HttpMetrics;
  logger: Logger;
}

export type FastPath = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

const JSON_TYPE = 'application/json; charset=utf-8';

export function createMetricsFastPath(options: FastPathOptions): FastPath {
  const { ingestor, bodyLimitBytes, httpMetrics, logger } = options;
  const requestIdPrefix = `${process.pid.toString(36)}-${Date.now().toString(36)}-f`;
  let requestCounter = 0;
  const durations = new Map<string, ReturnType<HttpMetrics['duration']['labels']>>();
  const counters = new Map<string, ReturnType<HttpMetrics['requests']['labels']>>();

  const record = (route: string, status: number, started: bigint) => {
    const key = `${route} ${status}`;
    let counter = counters.get(key);
    if (!counter) counters.set(key, (counter = httpMetrics.requests.labels('POST', route, String(status))));
    counter.inc();
    let duration = durations.get(route);
    if (!duration) durations.set(route, (duration = httpMetrics.duration.labels('POST', route)));
    duration.observe(Number(process.hrtime.bigint() - started) / 1e9);
  };

  const send = (res: http.ServerResponse, status: number, text: string) => {
    res.writeHead(status, { 'Content-Type': JSON_TYPE, 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  };

  const fail = (req: http.IncomingMessage, res: http.ServerResponse, requestId: string, error: unknown): number => {
    const apiError = toApiError(error);
    ingestor.countRejection(apiError);
    if (apiError.status >= 500) logger.error('request failed', { requestId, path: req.url, error });
    if (res.headersSent) {
      res.destroy();
      return apiError.status;
    }
    if (apiError instanceof IngestionError)
      for (const [name, value] of Object.entries(apiError.headers)) res.setHeader(name, value);
    send(res, apiError.status, JSON.stringify(apiError.toBody()));
    return apiError.status;
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<number> => {
    const body = await readBody(req, bodyLimitBytes);
    const parsed = body.length === 0 ? undefined : parseJson(body);
    const principal = await ingestor.admit(req.headers.authorization, res);
    const count = await ingestor.acceptJson(principal, parsed);
    send(res, 202, `{"accepted":${count}}`);
    return 202;
  };

  return (req, res) => {
    if (req.method !== 'POST' || req.url === undefined) return false;
    const queryAt = req.url.indexOf('?');
    const route = queryAt < 0 ? req.url : req.url.slice(0, queryAt);
    if (route !== '/metrics' && route !== '/v1/metrics') return false;
    const started = process.hrtime.bigint();
    const incoming = req.headers['x-request-id'];
    const requestId =
      typeof incoming === 'string' && incoming.length <= 128 ? incoming : requestIdPrefix + ++requestCounter;
    res.setHeader('X-Request-Id', requestId);
    handle(req, res)
      .catch((error: unknown) => fail(req, res, requestId, error))
      .then((status) => record(route, status, started));
    return true;
  };
}
