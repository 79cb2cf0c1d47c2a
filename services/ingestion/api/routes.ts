import type { ErrorRequestHandler, Express, Request, Response } from 'express';
import { uncompress } from 'snappyjs';
import type { Principal } from '../../kit/auth';
import type { Clock } from '../../kit/clock';
import { ApiError } from '../../kit/errors';
import { parseJson, route } from '../../kit/http';
import { prom, type Registry } from '../../kit/metrics';
import { authenticate, type AuthSettings } from '../auth/authenticate';
import {
  IngestionError,
  invalidBody,
  invalidMetrics,
  invalidRemoteWrite,
  queueRejected,
  rateLimited,
  spoolFull,
  tooManyMetrics,
  unsupportedMediaType,
} from '../errors';
import { QueueRejectedError } from '../queue/client';
import type { Forwarder } from '../queue/forwarder';
import type { Decision } from '../ratelimit/bucket';
import type { RateLimiter } from '../ratelimit/limiter';
import { seriesToMetrics } from '../remotewrite/convert';
import { decodeWriteRequest } from '../remotewrite/decode';
import { SpoolFullError } from '../spool/spool';
import { validateMetricList, validateMetricsBody, type Metric, type Validation, type ValidationLimits } from '../validation/metric';

export interface IngestionRoutesOptions {
  auth: AuthSettings;
  limiter: RateLimiter;
  forwarder: Forwarder;
  limits: ValidationLimits;
  /** Most samples in one remote-write request. */
  maxRemoteWriteSamples: number;
  /** Largest decompressed remote-write body. */
  maxRemoteWriteBytes: number;
  /** Seconds a client is told to wait when the spool is full. */
  spoolFullRetrySeconds: number;
  clock: Clock;
  registry: Registry;
}

/** `POST /metrics` (+ `/v1/metrics`) and `POST /api/v1/write`; see API.md. */
export function addIngestionRoutes(app: Express, options: IngestionRoutesOptions): void {
  const accepted = new prom.Counter({
    name: 'ingestion_metrics_accepted_total',
    help: 'Metrics (samples) accepted and made durable',
    labelNames: ['endpoint'],
    registers: [options.registry],
  });
  const rejected = new prom.Counter({
    name: 'ingestion_requests_rejected_total',
    help: 'Requests refused, by error code',
    labelNames: ['code'],
    registers: [options.registry],
  });
  const skippedSamples = new prom.Counter({
    name: 'ingestion_remote_write_nan_samples_skipped_total',
    help: 'Remote-write samples with a NaN value (staleness markers) that were skipped',
    registers: [options.registry],
  });
  const acceptedJson = accepted.labels('metrics');
  const acceptedRemoteWrite = accepted.labels('remote_write');

  /** Authenticates and takes a token; sets the RateLimit-* headers either way. */
  const admit = async (req: Request, res: Response): Promise<Principal> => {
    const principal = authenticate(options.auth, req.headers.authorization);
    const pending = options.limiter.take(principal.client);
    const decision: Decision = pending instanceof Promise ? await pending : pending;
    res.setHeader('RateLimit-Limit', decision.limit);
    res.setHeader('RateLimit-Remaining', decision.remaining);
    res.setHeader('RateLimit-Reset', Math.ceil(decision.resetMs / 1000));
    if (!decision.isAllowed) throw rateLimited(principal.client, Math.max(1, Math.ceil(decision.retryAfterMs / 1000)));
    return principal;
  };

  const forward = async (principal: Principal, metrics: Metric[]): Promise<void> => {
    const record = JSON.stringify({
      key: principal.client,
      value: { tenant: principal.tenant, client: principal.client, metrics },
    });
    try {
      await options.forwarder.submit(record);
    } catch (error) {
      if (error instanceof SpoolFullError) throw spoolFull(options.spoolFullRetrySeconds);
      if (error instanceof QueueRejectedError) throw queueRejected(error.status, error.detail);
      throw error;
    }
  };

  const ingestJson = route(async (req, res) => {
    const principal = await admit(req, res);
    // Clients that forget the JSON Content-Type still send JSON; the kit left those bytes in rawBody.
    const body = req.body === undefined && req.rawBody ? parseJson(req.rawBody) : req.body;
    const metrics = accept(validateMetricsBody(body, options.limits, options.clock.now()));
    await forward(principal, metrics);
    acceptedJson.inc(metrics.length);
    res.status(202).json({ accepted: metrics.length });
  });
  app.post('/metrics', ingestJson);
  app.post('/v1/metrics', ingestJson);

  app.post(
    '/api/v1/write',
    route(async (req, res) => {
      const principal = await admit(req, res);
      if (!req.rawBody) {
        if (req.body !== undefined) throw unsupportedMediaType('application/x-protobuf');
        throw invalidRemoteWrite('empty body');
      }
      const encoding = req.headers['content-encoding'];
      if (encoding !== undefined && encoding.toLowerCase() !== 'snappy')
        throw invalidRemoteWrite(`Content-Encoding must be snappy, got ${encoding}`);
      let series;
      try {
        series = decodeWriteRequest(uncompress(req.rawBody, options.maxRemoteWriteBytes));
      } catch (error) {
        throw invalidRemoteWrite(`cannot decode a snappy-compressed WriteRequest: ${(error as Error).message}`);
      }
      const { metrics: raw, skippedNaN } = seriesToMetrics(series);
      skippedSamples.inc(skippedNaN);
      if (raw.length > 0) {
        const limits = { ...options.limits, maxMetrics: options.maxRemoteWriteSamples };
        const metrics = accept(validateMetricList(raw, limits, options.clock.now()));
        await forward(principal, metrics);
        acceptedRemoteWrite.inc(metrics.length);
      }
      res.status(204).end();
    }),
  );

  /** Puts an error's headers (Retry-After, WWW-Authenticate) on the response; the kit's handler writes the body. */
  const errorHeaders: ErrorRequestHandler = (error, _req, res, next) => {
    if (error instanceof ApiError) rejected.inc({ code: error.code });
    if (error instanceof IngestionError) {
      if (!res.headersSent) for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
    }
    next(error);
  };
  app.use(errorHeaders);
}

function accept(validation: Validation): Metric[] {
  switch (validation.kind) {
    case 'valid':
      return validation.metrics;
    case 'invalid_body':
      throw invalidBody(validation.message);
    case 'too_many_metrics':
      throw tooManyMetrics(validation.count, validation.limit);
    case 'invalid_metrics':
      throw invalidMetrics(validation.problems);
    default: {
      const exhaustive: never = validation;
      return exhaustive;
    }
  }
}
