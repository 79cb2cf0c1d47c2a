import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { ApiKeyStore } from '../kit/auth';
import { systemClock } from '../kit/clock';
import { mountConsole } from '../kit/console';
import { ConfigError } from '../kit/errors';
import { closeServer, createApp, finishApp, listen } from '../kit/http';
import { createRegistry, prom } from '../kit/metrics';
import { commonOptions, defineService } from '../kit/service';
import { MemoryCache, RedisCache, type ResultsCache } from './cache/results-cache';
import { QueryEngine } from './engine';
import { Executor } from './executor/executor';
import { MergePool } from './executor/worker-pool';
import { addQueryRoutes } from './routes';
import { ShardSet } from './shards/shard-set';

const configSpec = {
  ...commonOptions,
  port: { kind: 'port', env: 'PORT', default: 8083, description: 'HTTP API port' },
  storageUrls: {
    kind: 'list',
    env: 'STORAGE_URLS',
    default: ['http://127.0.0.1:8082'] as string[],
    description: 'storage shard base URLs, comma-separated (ignored when --shards-file is set)',
  },
  shardsFile: {
    kind: 'string',
    env: 'SHARDS_FILE',
    description: 'JSON {"shards": ["http://...", ...]}, re-read when it changes (e.g. a ConfigMap the operator keeps)',
  },
  shardsPollInterval: {
    kind: 'duration',
    env: 'SHARDS_POLL_INTERVAL',
    default: 2000,
    description: 'how often the shards file is checked for changes',
  },
  shardTimeout: {
    kind: 'duration',
    env: 'SHARD_TIMEOUT',
    default: 10_000,
    description: 'a shard call without an answer by then fails the query with 504 shard_timeout',
  },
  queryTimeout: {
    kind: 'duration',
    env: 'QUERY_TIMEOUT',
    default: 30_000,
    description: 'a query not finished by then fails with 504 query_timeout',
  },
  defaultRange: {
    kind: 'duration',
    env: 'DEFAULT_RANGE',
    default: 3_600_000,
    description: 'range of a query with no lower time bound (ending at its upper bound or now)',
  },
  maxSeries: {
    kind: 'int',
    env: 'MAX_SERIES',
    default: 10_000,
    min: 1,
    description: 'most series (groups) in one answer',
  },
  maxPoints: {
    kind: 'int',
    env: 'MAX_POINTS',
    default: 5_000_000,
    min: 1,
    description: 'most raw points one query may read, and most windows one GROUP BY time may make',
  },
  maxResponseBytes: {
    kind: 'int',
    env: 'MAX_RESPONSE_BYTES',
    default: 32 * 1024 * 1024,
    min: 1,
    description: 'largest answer body',
  },
  exactPointsLimit: {
    kind: 'int',
    env: 'EXACT_POINTS_LIMIT',
    default: 100_000,
    min: 0,
    description:
      'percentiles are exact (raw points) up to this many points in range, DDSketch (1% relative error) above',
  },
  mergeWorkers: {
    kind: 'int',
    env: 'MERGE_WORKERS',
    default: Math.max(1, os.availableParallelism() - 1),
    min: 0,
    description: 'worker threads merging big answers (0: merge on the main thread)',
  },
  workerThresholdBytes: {
    kind: 'int',
    env: 'WORKER_THRESHOLD_BYTES',
    default: 1024 * 1024,
    min: 0,
    description: 'answers whose shard bodies total at least this many bytes are merged in a worker thread',
  },
  cacheTtl: {
    kind: 'duration',
    env: 'CACHE_TTL',
    default: 60_000,
    description: 'results cache time to live (0 disables the cache)',
  },
  cacheMaxBytes: {
    kind: 'int',
    env: 'CACHE_MAX_BYTES',
    default: 256 * 1024 * 1024,
    min: 0,
    description: 'in-memory results cache size',
  },
  redisUrl: { kind: 'string', env: 'REDIS_URL', description: 'keep the results cache in Redis (shared by replicas)' },
  multiTenancy: {
    kind: 'bool',
    env: 'MULTI_TENANCY',
    default: false,
    description: "scope queries to the caller's tenant (Authorization: Bearer <key>, needs --api-keys-file)",
  },
  apiKeysFile: {
    kind: 'string',
    env: 'API_KEYS_FILE',
    description: 'JSON/YAML {keys: [{key_sha256 | key, client, tenant}]} shared with ingestion',
  },
  alertingUrl: { kind: 'string', env: 'ALERTING_URL', description: 'alerting service the web console (/ui) talks to' },
  queueUrl: { kind: 'string', env: 'QUEUE_URL', description: 'queue service the web console shows on its status page' },
  ingestionUrl: {
    kind: 'string',
    env: 'INGESTION_URL',
    description: 'ingestion service the web console shows on its status page',
  },
} as const;

export const queryService = defineService({
  name: 'query',
  summary: 'query language over the storage shards: POST /query',
  configSpec,
  async start(config, logger) {
    if (config.multiTenancy && !config.apiKeysFile) throw new ConfigError(['--multi-tenancy needs --api-keys-file']);
    const keys = config.multiTenancy ? ApiKeyStore.load(config.apiKeysFile!) : undefined;
    const shards = config.shardsFile
      ? await ShardSet.fromFile(config.shardsFile, config.shardsPollInterval, logger)
      : ShardSet.fixed(config.storageUrls, logger);
    const { registry, http } = createRegistry('query');
    const cacheRequests = new prom.Counter({
      name: 'query_cache_requests_total',
      help: 'SELECT answers served from the results cache (hit) or computed (miss)',
      labelNames: ['result'],
      registers: [registry],
    });
    const pool =
      config.mergeWorkers > 0
        ? new MergePool(path.join(__dirname, 'executor/merge-worker.js'), config.mergeWorkers)
        : undefined;
    const executor = new Executor({
      shards: () => shards.list(),
      shardTimeoutMs: config.shardTimeout,
      limits: { maxSeries: config.maxSeries, maxPoints: config.maxPoints },
      workerThresholdBytes: config.workerThresholdBytes,
      runner: pool,
    });
    let cache: ResultsCache | undefined;
    if (config.cacheTtl > 0)
      cache = config.redisUrl
        ? new RedisCache(new Redis(config.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false }), logger)
        : new MemoryCache(config.cacheMaxBytes, () => systemClock.now());
    const engine = new QueryEngine({
      clock: systemClock,
      executor,
      shardCount: () => shards.list().length,
      planner: {
        defaultRangeMs: config.defaultRange,
        maxPoints: config.maxPoints,
        exactPointsLimit: config.exactPointsLimit,
      },
      queryTimeoutMs: config.queryTimeout,
      maxResponseBytes: config.maxResponseBytes,
      cache,
      cacheTtlMs: config.cacheTtl,
    });
    const app = createApp({ logger, registry, httpMetrics: http });
    addQueryRoutes(app, {
      engine,
      shards: () => shards.list(),
      keys,
      onCache: (result) => cacheRequests.inc({ result }),
    });
    mountConsole(app, {
      assetsDir: path.resolve(__dirname, '../../console'),
      upstreams: {
        alerting: config.alertingUrl,
        queue: config.queueUrl,
        ingestion: config.ingestionUrl,
        storage: () => shards.list(),
      },
    });
    finishApp(app, logger);
    const server = await listen(app, config.port, config.host);
    logger.info('query engine listening', { port: config.port, shards: shards.list() });
    return {
      async close() {
        await closeServer(server);
        shards.close();
        await pool?.close();
        await cache?.close();
      },
    };
  },
});
