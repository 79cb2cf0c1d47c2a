import { readFileSync } from 'node:fs';
import { ApiKeyStore, KeysFileError } from '../kit/auth';
import { systemClock } from '../kit/clock';
import { ConfigError } from '../kit/errors';
import { closeServer, createApp, finishApp, listen } from '../kit/http';
import { createRegistry } from '../kit/metrics';
import { commonOptions, defineService } from '../kit/service';
import { createMetricsFastPath } from './api/fast-path';
import { Ingestor } from './api/ingest';
import { addIngestionRoutes } from './api/routes';
import { AuthMode, type AuthSettings } from './auth/authenticate';
import { QueueClient } from './queue/client';
import { createForwarderMetrics, Forwarder } from './queue/forwarder';
import { PolicyTable, type BucketPolicy } from './ratelimit/bucket';
import { LocalLimiter, RedisLimiter, type RateLimiter } from './ratelimit/limiter';
import { parseOverrideDocument, parseOverrideList } from './ratelimit/overrides';
import { Spool } from './spool/spool';

const MiB = 1024 * 1024;

export const ingestionConfigSpec = {
  ...commonOptions,
  port: { kind: 'port', env: 'PORT', default: 8080, description: 'API port' },
  dataDir: {
    kind: 'string',
    env: 'DATA_DIR',
    default: './data/ingestion',
    description: 'directory of the local spool (batches kept while the queue is unreachable)',
  },
  queueUrl: { kind: 'string', env: 'QUEUE_URL', default: 'http://127.0.0.1:8081', description: 'queue base URL' },
  queueTopic: { kind: 'string', env: 'QUEUE_TOPIC', default: 'metrics.inbound', description: 'topic produced to' },
  queueTimeout: {
    kind: 'duration',
    env: 'QUEUE_TIMEOUT',
    default: 5000,
    description: 'a produce call without an answer by then counts as a queue outage (the batch is spooled)',
  },
  authMode: {
    kind: 'string',
    env: 'AUTH_MODE',
    default: AuthMode.ClientId,
    choices: [AuthMode.ClientId, AuthMode.ApiKeys],
    description: 'client-id: Authorization is the client id; api-keys: Authorization: Bearer <key>',
  },
  apiKeysFile: {
    kind: 'string',
    env: 'API_KEYS_FILE',
    description: 'JSON/YAML {keys: [{key_sha256 or key, client, tenant}]} (required with --auth-mode api-keys)',
  },
  multiTenancy: {
    kind: 'bool',
    env: 'MULTI_TENANCY',
    default: false,
    description: "store each API key's metrics under its tenant (needs --auth-mode api-keys)",
  },
  rateLimit: { kind: 'number', env: 'RATE_LIMIT', default: 10, min: 0.001, description: 'requests/s per client' },
  rateLimitBurst: {
    kind: 'number',
    env: 'RATE_LIMIT_BURST',
    default: 10,
    min: 1,
    description: 'token-bucket capacity per client',
  },
  rateLimitOverrides: {
    kind: 'list',
    env: 'RATE_LIMIT_OVERRIDES',
    default: [] as string[],
    description: 'per-client limits: client=rate[:burst],...',
  },
  rateLimitOverridesFile: {
    kind: 'string',
    env: 'RATE_LIMIT_OVERRIDES_FILE',
    description: 'JSON/YAML {overrides: {client: {rate, burst}}}',
  },
  redisUrl: {
    kind: 'string',
    env: 'REDIS_URL',
    description: 'share rate-limit buckets across replicas in Redis (in memory when unset)',
  },
  redisTimeout: {
    kind: 'duration',
    env: 'REDIS_TIMEOUT',
    default: 100,
    description: 'a Redis decision slower than this falls back to the local limiter',
  },
  spoolMaxBytes: {
    kind: 'int',
    env: 'SPOOL_MAX_BYTES',
    default: 1024 * MiB,
    min: 64 * 1024,
    description: 'spool size bound; beyond it requests answer 503 spool_full',
  },
  spoolSegmentBytes: {
    kind: 'int',
    env: 'SPOOL_SEGMENT_BYTES',
    default: 16 * MiB,
    min: 4096,
    description: 'spool segment file size',
  },
  batchMaxRecords: {
    kind: 'int',
    env: 'BATCH_MAX_RECORDS',
    default: 500,
    min: 1,
    max: 10_000,
    description: 'records (accepted requests) per produce call',
  },
  batchMaxBytes: {
    kind: 'int',
    env: 'BATCH_MAX_BYTES',
    default: MiB,
    min: 1024,
    max: 4 * MiB,
    description: 'approximate bytes per produce call',
  },
  batchLinger: {
    kind: 'duration',
    env: 'BATCH_LINGER',
    default: 0,
    description: 'wait for more records before a produce call (0: only the current event-loop turn)',
  },
  batchMaxInFlight: {
    kind: 'int',
    env: 'BATCH_MAX_IN_FLIGHT',
    default: 4,
    min: 1,
    max: 64,
    description: 'produce calls in flight at once',
  },
  maxMetricsPerRequest: {
    kind: 'int',
    env: 'MAX_METRICS_PER_REQUEST',
    default: 1000,
    min: 1,
    description: 'metrics in one POST /metrics',
  },
  maxRemoteWriteSamples: {
    kind: 'int',
    env: 'MAX_REMOTE_WRITE_SAMPLES',
    default: 10_000,
    min: 1,
    description: 'samples in one remote-write request',
  },
  maxTagsPerMetric: { kind: 'int', env: 'MAX_TAGS_PER_METRIC', default: 32, min: 0, description: 'tags per metric' },
  maxNameLength: {
    kind: 'int',
    env: 'MAX_NAME_LENGTH',
    default: 256,
    min: 1,
    description: 'characters in a metric name or tag key',
  },
  maxTagValueLength: {
    kind: 'int',
    env: 'MAX_TAG_VALUE_LENGTH',
    default: 1024,
    min: 1,
    description: 'characters in a tag value',
  },
  bodyLimitBytes: {
    kind: 'int',
    env: 'BODY_LIMIT_BYTES',
    default: MiB,
    min: 1024,
    description: 'largest request body (413 payload_too_large beyond)',
  },
} as const;

function readAuth(
  mode: string,
  keysFile: string | undefined,
  isMultiTenant: boolean,
  problems: string[],
): AuthSettings | undefined {
  if (mode === AuthMode.ClientId) {
    if (isMultiTenant) problems.push('--multi-tenancy needs --auth-mode api-keys (tenants come from API keys)');
    return { mode: AuthMode.ClientId };
  }
  if (!keysFile) {
    problems.push('--auth-mode api-keys needs --api-keys-file');
    return undefined;
  }
  try {
    return { mode: AuthMode.ApiKeys, keys: ApiKeyStore.load(keysFile), isMultiTenant };
  } catch (error) {
    if (!(error instanceof KeysFileError)) throw error;
    problems.push(...error.message.split('\n'));
    return undefined;
  }
}

function readOverrides(
  list: readonly string[],
  file: string | undefined,
  problems: string[],
): Map<string, BucketPolicy> {
  const fromList = parseOverrideList(list);
  problems.push(...fromList.problems);
  if (!file) return fromList.overrides;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    problems.push(`cannot read rate limit overrides file ${file}: ${(error as Error).message}`);
    return fromList.overrides;
  }
  const fromFile = parseOverrideDocument(text, file);
  problems.push(...fromFile.problems);
  // The command line wins over the file for a client listed in both.
  return new Map([...fromFile.overrides, ...fromList.overrides]);
}

export const ingestionService = defineService({
  name: 'ingestion',
  summary: 'POST /metrics: authenticate, validate, rate-limit, forward to the queue (spooled to disk while it is down)',
  configSpec: ingestionConfigSpec,
  async start(config, logger) {
    const problems: string[] = [];
    const auth = readAuth(config.authMode, config.apiKeysFile, config.multiTenancy, problems);
    const overrides = readOverrides(config.rateLimitOverrides, config.rateLimitOverridesFile, problems);
    if (problems.length > 0 || !auth) throw new ConfigError(problems);

    const { registry, http: httpMetrics } = createRegistry('ingestion');
    const clock = systemClock;
    const policies = new PolicyTable({ rate: config.rateLimit, burst: config.rateLimitBurst }, overrides);
    const local = new LocalLimiter(policies, clock);
    const limiter: RateLimiter = config.redisUrl
      ? new RedisLimiter(
          { url: config.redisUrl, commandTimeoutMs: config.redisTimeout, keyPrefix: 'metricstream:ratelimit:' },
          policies,
          local,
          registry,
          logger,
        )
      : local;

    const spool = await Spool.open(
      { dir: config.dataDir, maxBytes: config.spoolMaxBytes, segmentBytes: config.spoolSegmentBytes },
      logger,
    );
    const queue = new QueueClient({
      url: config.queueUrl,
      topic: config.queueTopic,
      timeoutMs: config.queueTimeout,
      maxSockets: config.batchMaxInFlight + 2,
    });
    const forwarder = new Forwarder(
      queue,
      spool,
      {
        maxRecords: config.batchMaxRecords,
        maxBytes: config.batchMaxBytes,
        lingerMs: config.batchLinger,
        maxInFlight: config.batchMaxInFlight,
        maxReplayRecords: 10_000,
        maxReplayBytes: 8 * MiB,
        retryMinMs: 100,
        retryMaxMs: 2000,
      },
      createForwarderMetrics(registry),
      logger,
    );
    if (forwarder.isSpooling) logger.info('replaying the spool left by the previous run', { bytes: spool.bytes });

    const app = createApp({
      logger,
      registry,
      httpMetrics,
      jsonLimitBytes: config.bodyLimitBytes,
      isReady: () => ({
        ready: true,
        reason: forwarder.isSpooling ? 'queue unreachable; spooling to disk' : undefined,
      }),
    });
    const ingestor = new Ingestor({
      auth,
      limiter,
      forwarder,
      limits: {
        maxMetrics: config.maxMetricsPerRequest,
        maxTags: config.maxTagsPerMetric,
        maxNameLength: config.maxNameLength,
        maxTagValueLength: config.maxTagValueLength,
      },
      maxRemoteWriteSamples: config.maxRemoteWriteSamples,
      maxRemoteWriteBytes: 32 * config.bodyLimitBytes,
      spoolFullRetrySeconds: 5,
      clock,
      registry,
    });
    addIngestionRoutes(app, ingestor);
    finishApp(app, logger);
    const fastPath = createMetricsFastPath({ ingestor, bodyLimitBytes: config.bodyLimitBytes, httpMetrics, logger });
    const server = await listen(
      (req, res) => {
        if (!fastPath(req, res)) app(req, res);
      },
      config.port,
      config.host,
    );
    logger.info('ingestion listening', {
      host: config.host,
      port: config.port,
      queueUrl: config.queueUrl,
      authMode: config.authMode,
      multiTenancy: config.multiTenancy,
      rateLimiter: config.redisUrl ? 'redis' : 'memory',
    });

    return {
      async close() {
        await closeServer(server);
        await forwarder.close();
        await spool.close();
        queue.close();
        await limiter.close();
      },
    };
  },
});
