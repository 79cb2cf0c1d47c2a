import path from 'node:path';
import { systemClock } from '../kit/clock';
import { ConfigError } from '../kit/errors';
import { closeServer, createApp, finishApp, listen } from '../kit/http';
import { createRegistry, prom } from '../kit/metrics';
import { commonOptions, defineService } from '../kit/service';
import { addRoutes } from './api/routes';
import { defaultBlockLayout } from './block/builder';
import { QueueConsumer, ownedPartitions } from './consumer/consumer';
import { HttpQueueClient } from './consumer/queue-client';
import { Engine } from './engine/engine';
import { tagIndexCodec } from './engine/index-codec';
import { createEngineMetrics } from './engine/metrics';

const configSpec = {
  ...commonOptions,
  port: { kind: 'port', env: 'PORT', default: 8082, description: 'HTTP port of the API' },
  dataDir: {
    kind: 'string',
    env: 'DATA_DIR',
    default: './data/storage',
    description: 'directory of the WAL and blocks',
  },
  queueUrl: {
    kind: 'string',
    env: 'QUEUE_URL',
    default: '',
    description: 'queue to consume metrics.inbound from; empty: do not consume (writes only through POST /write)',
  },
  shardIndex: {
    kind: 'int',
    env: 'SHARD_INDEX',
    default: 0,
    min: 0,
    description: 'this shard: consumes partitions p with p mod shard-count = shard-index',
  },
  shardCount: {
    kind: 'int',
    env: 'SHARD_COUNT',
    default: 1,
    min: 1,
    description: 'number of storage shards; must divide the 12 partitions',
  },
  topic: { kind: 'string', env: 'QUEUE_TOPIC', default: 'metrics.inbound', description: 'topic consumed' },
  consumeBatch: {
    kind: 'int',
    env: 'CONSUME_BATCH',
    default: 500,
    min: 1,
    max: 10_000,
    description: 'messages per /consume',
  },
  blockRange: {
    kind: 'duration',
    env: 'BLOCK_RANGE',
    default: 7_200_000,
    description: 'time range of a block cut from the head (first compaction level)',
  },
  retention: {
    kind: 'duration',
    env: 'RETENTION',
    default: 2_592_000_000,
    description: 'blocks wholly older than this are deleted; 0 keeps everything',
  },
  outOfOrderWindow: {
    kind: 'duration',
    env: 'OUT_OF_ORDER_WINDOW',
    default: 600_000,
    description: "samples up to this much older than their series' newest are accepted; at most half the block range",
  },
  maxPoints: {
    kind: 'int',
    env: 'MAX_POINTS',
    default: 1_000_000,
    min: 1,
    description: 'most points one POST /query answers',
  },
  fsync: {
    kind: 'bool',
    env: 'FSYNC',
    default: true,
    description: 'fdatasync the WAL before acknowledging writes (turn off only for tests)',
  },
  walSegmentBytes: {
    kind: 'int',
    env: 'WAL_SEGMENT_BYTES',
    default: 64 * 1024 * 1024,
    min: 4096,
    description: 'WAL segment size',
  },
  samplesPerChunk: {
    kind: 'int',
    env: 'SAMPLES_PER_CHUNK',
    default: 1024,
    min: 16,
    max: 65_535,
    description: 'samples per chunk in blocks',
  },
  maintenanceInterval: {
    kind: 'duration',
    env: 'MAINTENANCE_INTERVAL',
    default: 60_000,
    description: 'how often head cuts, compaction and retention run',
  },
  blockCacheBytes: {
    kind: 'int',
    env: 'BLOCK_CACHE_BYTES',
    default: 512 * 1024 * 1024,
    min: 0,
    description: 'memory bound of loaded blocks; the least recently queried are unloaded past it',
  },
  maxBodyBytes: {
    kind: 'int',
    env: 'MAX_BODY_BYTES',
    default: 64 * 1024 * 1024,
    min: 1024,
    description: 'largest POST /write body',
  },
} as const;

export const storageService = defineService({
  name: 'storage',
  summary: 'time-series engine: POST /write, POST /query, POST /v1/aggregate',
  configSpec,
  async start(config, logger) {
    const problems: string[] = [];
    if (config.outOfOrderWindow * 2 > config.blockRange)
      problems.push('--out-of-order-window must be at most half of --block-range');
    if (config.blockRange <= 0) problems.push('--block-range must be positive');
    let partitions: number[] = [];
    try {
      partitions = ownedPartitions(config.shardIndex, config.shardCount);
    } catch (error) {
      problems.push((error as Error).message);
    }
    if (problems.length > 0) throw new ConfigError(problems);

    const { registry, http } = createRegistry('storage');
    const metrics = createEngineMetrics(registry);
    const engine = await Engine.open({
      directory: path.resolve(config.dataDir),
      blockRangeMs: config.blockRange,
      compactionRangesMs: [config.blockRange * 3, config.blockRange * 12],
      retentionMs: config.retention,
      outOfOrderWindowMs: config.outOfOrderWindow,
      walSegmentBytes: config.walSegmentBytes,
      isSyncing: config.fsync,
      layout: { ...defaultBlockLayout, samplesPerChunk: config.samplesPerChunk },
      indexCodec: tagIndexCodec,
      createIndex: () => tagIndexCodec.create(),
      clock: systemClock,
      random: Math.random,
      logger,
      metrics,
      blockCacheBytes: config.blockCacheBytes,
    });

    const skipped = new prom.Counter({
      name: 'storage_consumer_skipped_metrics_total',
      help: 'Metrics from the queue that storage could not accept',
      registers: [registry],
    });
    const consumer =
      config.queueUrl === ''
        ? undefined
        : new QueueConsumer({
            engine,
            client: new HttpQueueClient(config.queueUrl),
            topic: config.topic,
            group: `storage-${config.shardIndex}`,
            partitions,
            batchSize: config.consumeBatch,
            waitMs: 1000,
            backoffInitialMs: 100,
            backoffMaxMs: 5000,
            logger,
            onSkipped: (count) => skipped.inc(count),
          });

    const app = createApp({
      logger,
      registry,
      httpMetrics: http,
      jsonLimitBytes: config.maxBodyBytes,
      isReady: () => consumer?.readiness() ?? { ready: true },
    });
    addRoutes(app, { engine, clock: systemClock, maxPoints: config.maxPoints });
    finishApp(app, logger);
    const server = await listen(app, config.port, config.host);
    consumer?.start();
    const maintenance = setInterval(() => {
      engine.maintain().catch((error: unknown) => logger.error('maintenance failed', { error }));
    }, config.maintenanceInterval);
    void engine.maintain().catch((error: unknown) => logger.error('maintenance failed', { error }));
    logger.info('storage listening', { port: config.port, partitions: consumer ? partitions : [] });

    return {
      async close() {
        clearInterval(maintenance);
        await consumer?.close();
        await closeServer(server);
        await engine.close();
      },
    };
  },
});
