import type { ServerResponse } from 'node:http';
import { uncompress } from 'snappyjs';
import type { Principal } from '../../kit/auth';
import type { Clock } from '../../kit/clock';
import type { ApiError } from '../../kit/errors';
import { prom, type Registry } from '../../kit/metrics';
import { authenticate, type AuthSettings } from '../auth/authenticate';
import {
  invalidBody,
  invalidMetrics,
  invalidRemoteWrite,
  queueRejected,
  rateLimited,
  spoolFull,
  tooManyMetrics,
} from '../errors';
import { QueueRejectedError } from '../queue/client';
import type { Forwarder } from '../queue/forwarder';
import { serializeRecord } from '../queue/record';
import type { Decision } from '../ratelimit/bucket';
import type { RateLimiter } from '../ratelimit/limiter';
import { seriesToMetrics } from '../remotewrite/convert';
import { decodeWriteRequest } from '../remotewrite/decode';
import { SpoolFullError } from '../spool/spool';
import {
  validateMetricList,
  validateMetricsBody,
  type Metric,
  type Validation,
  type ValidationLimits,
} from '../validation/metric';

export interface IngestorOptions {
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

/**
 * What both ingestion endpoints do, independent of the HTTP layer that calls it: authenticate, take a rate-limit
 * token, validate, and hand one MetricBatch record to the forwarder.
 */
export class Ingestor {
  private readonly acceptedJson: prom.Counter.Internal;
  private readonly acceptedRemoteWrite: prom.Counter.Internal;
  private readonly rejected: prom.Counter<'code'>;
  private readonly skippedSamples: prom.Counter;
  private readonly remoteWriteLimits: ValidationLimits;

  constructor(private readonly options: IngestorOptions) {
    const accepted = new prom.Counter({
      name: 'ingestion_metrics_accepted_total',
      help: 'Metrics (samples) accepted and made durable, by endpoint',
      labelNames: ['endpoint'],
      registers: [options.registry],
    });
    this.acceptedJson = accepted.labels('metrics');
    this.acceptedRemoteWrite = accepted.labels('remote_write');
    this.rejected = new prom.Counter({
      name: 'ingestion_requests_rejected_total',
      help: 'Requests refused, by error code',
      labelNames: ['code'],
      registers: [options.registry],
    });
    this.skippedSamples = new prom.Counter({
      name: 'ingestion_remote_write_nan_samples_skipped_total',
      help: 'Remote-write samples with a NaN value (staleness markers) that were skipped',
      registers: [options.registry],
    });
    this.remoteWriteLimits = { ...options.limits, maxMetrics: options.maxRemoteWriteSamples };
  }

  /** Authenticates and takes a token; the RateLimit-* headers are set whether or not the request is admitted. */
  async admit(authorization: string | undefined, res: ServerResponse): Promise<Principal> {
    const principal = authenticate(this.options.auth, authorization);
    const pending = this.options.limiter.take(principal.client);
    const decision: Decision = pending instanceof Promise ? await pending : pending;
    res.setHeader('RateLimit-Limit', decision.limit);
    res.setHeader('RateLimit-Remaining', decision.remaining);
    res.setHeader('RateLimit-Reset', Math.ceil(decision.resetMs / 1000));
    if (!decision.isAllowed) throw rateLimited(principal.client, Math.max(1, Math.ceil(decision.retryAfterMs / 1000)));
    return principal;
  }

  /** A parsed `{"metrics": [...]}` body; resolves with the number of metrics once they are durable. */
  async acceptJson(principal: Principal, body: unknown): Promise<number> {
    const metrics = accept(validateMetricsBody(body, this.options.limits, this.options.clock.now()));
    await this.forward(principal, metrics);
    this.acceptedJson.inc(metrics.length);
    return metrics.length;
  }

  /** A snappy-compressed remote-write 1.0 WriteRequest; resolves once its samples are durable. */
  async acceptRemoteWrite(principal: Principal, compressed: Uint8Array): Promise<number> {
    let series;
    try {
      series = decodeWriteRequest(uncompress(compressed, this.options.maxRemoteWriteBytes));
    } catch (error) {
      throw invalidRemoteWrite(`cannot decode a snappy-compressed WriteRequest: ${(error as Error).message}`);
    }
    const { metrics: raw, skippedNaN } = seriesToMetrics(series);
    this.skippedSamples.inc(skippedNaN);
    if (raw.length === 0) return 0;
    const metrics = accept(validateMetricList(raw, this.remoteWriteLimits, this.options.clock.now()));
    await this.forward(principal, metrics);
    this.acceptedRemoteWrite.inc(metrics.length);
    return metrics.length;
  }

  countRejection(error: ApiError): void {
    this.rejected.inc({ code: error.code });
  }

  private async forward(principal: Principal, metrics: Metric[]): Promise<void> {
    const record = serializeRecord(principal.client, principal.tenant, metrics);
    try {
      await this.options.forwarder.submit(record);
    } catch (error) {
      if (error instanceof SpoolFullError) throw spoolFull(this.options.spoolFullRetrySeconds);
      if (error instanceof QueueRejectedError) throw queueRejected(error.status, error.detail);
      throw error;
    }
  }
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
