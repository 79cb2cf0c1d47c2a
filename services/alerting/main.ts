import { readFileSync } from 'node:fs';
import os from 'node:os';
import yaml from 'js-yaml';
import Redis from 'ioredis';
import { systemClock } from '../kit/clock';
import { ConfigError } from '../kit/errors';
import { closeServer, createApp, finishApp, listen } from '../kit/http';
import { createRegistry } from '../kit/metrics';
import { commonOptions, defineService } from '../kit/service';
import { addRoutes } from './api/routes';
import { createAlertingMetrics } from './metrics';
import { validateChannel, type Channel } from './notify/channel';
import { Outbox } from './notify/outbox';
import { ChannelRegistry } from './notify/registry';
import { createSender } from './notify/senders';
import { Evaluator } from './scheduler/evaluator';
import { httpQueryEngine } from './scheduler/query-engine';
import { FileStore } from './store/file';
import { electLeader, type Leadership } from './store/leader';
import { RedisStore } from './store/redis';
import type { AlertingStore } from './store/store';

export const alertingConfig = {
  ...commonOptions,
  port: { kind: 'port', env: 'PORT', default: 8084, description: 'API port' },
  queryUrl: {
    kind: 'string',
    env: 'QUERY_URL',
    default: 'http://127.0.0.1:8083',
    description: 'query engine base URL (POST /v1/query/batch, POST /v1/validate)',
  },
  dataDir: {
    kind: 'string',
    env: 'DATA_DIR',
    default: './data/alerting',
    description: 'directory of the file store (rules, channels, alert states, outbox) when REDIS_URL is not set',
  },
  redisUrl: {
    kind: 'string',
    env: 'REDIS_URL',
    description: 'Redis URL: store state there and elect one leader among replicas (unset: file store, single replica)',
  },
  redisPrefix: {
    kind: 'string',
    env: 'REDIS_PREFIX',
    default: 'metricstream:alerting',
    description: 'prefix of every Redis key this service uses',
  },
  replicaId: {
    kind: 'string',
    env: 'REPLICA_ID',
    description: 'this replica in the leader lock (default: hostname-pid)',
  },
  leaderLease: {
    kind: 'duration',
    env: 'LEADER_LEASE',
    default: 15_000,
    description: 'leader lock lease; renewed every third of it, taken over by a follower once it lapses',
  },
  channelsFile: {
    kind: 'string',
    env: 'CHANNELS_FILE',
    description: 'JSON or YAML file of channels ({"channels": [...]}), e.g. a mounted Secret; read-only via the API',
  },
  evaluationInterval: {
    kind: 'duration',
    env: 'EVALUATION_INTERVAL',
    default: 15_000,
    description: 'how often each rule is evaluated unless the rule sets interval',
  },
  scheduleResolution: {
    kind: 'duration',
    env: 'SCHEDULE_RESOLUTION',
    default: 100,
    description: 'how often the scheduler wakes to run due rules (granularity of spreading rules over the interval)',
  },
  batchSize: {
    kind: 'int',
    env: 'BATCH_SIZE',
    default: 500,
    min: 1,
    max: 10_000,
    description: 'distinct queries per POST /v1/query/batch request at most',
  },
  queryTimeout: {
    kind: 'duration',
    env: 'QUERY_TIMEOUT',
    default: 10_000,
    description: 'deadline of each request to the query engine',
  },
  renotifyInterval: {
    kind: 'duration',
    env: 'RENOTIFY_INTERVAL',
    default: 14_400_000,
    description:
      'repeat the notification of an alert still firing this often (0: never) unless the rule sets renotify_interval',
  },
  resolvedRetention: {
    kind: 'duration',
    env: 'RESOLVED_RETENTION',
    default: 900_000,
    description: 'how long a resolved alert stays in GET /alerts before it becomes inactive',
  },
  retryBase: {
    kind: 'duration',
    env: 'RETRY_BASE',
    default: 1000,
    description: 'first retry delay of a failed delivery; doubles per attempt, with jitter',
  },
  retryMax: { kind: 'duration', env: 'RETRY_MAX', default: 300_000, description: 'longest retry delay' },
  maxAttempts: {
    kind: 'int',
    env: 'MAX_ATTEMPTS',
    default: 20,
    min: 1,
    description: 'delivery attempts before a notification is dropped as failed',
  },
  maxNotificationAge: {
    kind: 'duration',
    env: 'MAX_NOTIFICATION_AGE',
    default: 3_600_000,
    description: 'a notification still undelivered this long after it was queued is dropped as failed',
  },
  notifyTimeout: {
    kind: 'duration',
    env: 'NOTIFY_TIMEOUT',
    default: 10_000,
    description: 'deadline of each delivery attempt',
  },
  notificationHistory: {
    kind: 'int',
    env: 'NOTIFICATION_HISTORY',
    default: 1000,
    min: 10,
    description: 'delivery records kept for GET /notifications',
  },
  externalUrl: {
    kind: 'string',
    env: 'EXTERNAL_URL',
    description: 'URL of this service as receivers should link to it (default: http://<host>:<port>)',
  },
} as const;

/** Reads `{"channels": [...]}` (or a bare list) from JSON or YAML; every problem is a start-up error. */
function readChannelsFile(file: string): Map<string, Channel> {
  let parsed: unknown;
  try {
    parsed = yaml.load(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError([`--channels-file ${file}: ${(error as Error).message}`]);
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { channels?: unknown } | null)?.channels;
  if (!Array.isArray(list)) throw new ConfigError([`--channels-file ${file}: expected {"channels": [...]}`]);
  const channels = new Map<string, Channel>();
  const problems: string[] = [];
  list.forEach((body, index) => {
    try {
      const channel = validateChannel(body, true);
      if (channels.has(channel.name)) problems.push(`--channels-file: channel "${channel.name}" appears twice`);
      channels.set(channel.name, channel);
    } catch (error) {
      problems.push(`--channels-file: channel ${index}: ${(error as Error).message}`);
    }
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return channels;
}

export const alertingService = defineService({
  name: 'alerting',
  summary: 'rules evaluated through the query engine; Slack, email, webhook and PagerDuty notifications',
  configSpec: alertingConfig,
  async start(config, logger) {
    const fileChannels = config.channelsFile ? readChannelsFile(config.channelsFile) : new Map<string, Channel>();
    const redis = config.redisUrl
      ? new Redis(config.redisUrl, { maxRetriesPerRequest: 3, enableAutoPipelining: true })
      : undefined;
    const store: AlertingStore = redis
      ? new RedisStore(redis, config.redisPrefix)
      : await FileStore.open(config.dataDir);
    const { registry, http } = createRegistry('alerting');
    const metrics = createAlertingMetrics(registry, () => evaluator.countAlerts());
    const engine = httpQueryEngine(config.queryUrl, config.queryTimeout);
    const externalUrl = config.externalUrl ?? `http://${config.host}:${config.port}`;
    const sender = createSender({ externalUrl, timeoutMs: config.notifyTimeout });
    const channels = new ChannelRegistry(store, fileChannels);
    const outbox = new Outbox({
      store,
      clock: systemClock,
      random: Math.random,
      send: sender.send,
      channelOf: (name) => channels.get(name),
      logger,
      metrics,
      retryBaseMs: config.retryBase,
      retryMaxMs: config.retryMax,
      maxAttempts: config.maxAttempts,
      maxAgeMs: config.maxNotificationAge,
      historySize: config.notificationHistory,
      pollMs: 50,
      onOutcome: (message, record) => evaluator.recordOutcome(message, record),
    });
    const loadConfiguration = async () => {
      channels.load(await store.loadCollection('channels'));
      evaluator.loadRules(await store.loadCollection('rules'));
    };
    const evaluator: Evaluator = new Evaluator({
      engine,
      store,
      outbox,
      clock: systemClock,
      logger,
      metrics,
      defaultIntervalMs: config.evaluationInterval,
      renotifyIntervalMs: config.renotifyInterval,
      resolvedRetentionMs: config.resolvedRetention,
      batchSize: config.batchSize,
      tickMs: config.scheduleResolution,
      watchConfiguration: redis !== undefined,
      onConfigurationChange: loadConfiguration,
    });
    const loadAll = async () => {
      const data = await store.load();
      channels.load(data.channels);
      evaluator.load(data.rules, data.alerts);
      outbox.load(data.outbox, data.deliveries);
    };
    await loadAll();

    // Leadership changes are applied one after another: a takeover first reloads what the previous leader persisted.
    let transitions = Promise.resolve();
    const lead = (isLeader: boolean) => {
      metrics.isLeader.set(isLeader ? 1 : 0);
      transitions = transitions
        .then(async () => {
          if (isLeader) {
            await loadAll();
            logger.info('leading: evaluating rules and sending notifications');
            evaluator.start();
            outbox.start();
          } else {
            logger.info('following: another replica evaluates');
            await Promise.all([evaluator.stop(), outbox.stop()]);
          }
        })
        .catch((error) => {
          logger.error('leadership change failed', { error: (error as Error).message });
        });
    };
    let leadership: Leadership | undefined;
    if (redis) {
      leadership = electLeader({
        redis,
        key: `${config.redisPrefix}:leader`,
        id: config.replicaId ?? `${os.hostname()}-${process.pid}`,
        leaseMs: config.leaderLease,
        onChange: lead,
        onError: (error) => logger.warn('leader lock', { error: (error as Error).message }),
      });
    } else {
      metrics.isLeader.set(1);
      evaluator.start();
      outbox.start();
    }
    const isLeader = () => leadership?.isLeader() ?? true;

    const app = createApp({
      logger,
      registry,
      httpMetrics: http,
      isReady: () => ({ ready: true, reason: isLeader() ? 'leader' : 'follower' }),
    });
    addRoutes(app, { evaluator, channels, outbox, engine, store, isLeader });
    finishApp(app, logger);
    const server = await listen(app, config.port, config.host);
    logger.info('alerting listening', {
      port: config.port,
      store: redis ? 'redis' : config.dataDir,
      rules: evaluator.listRules().length,
    });

    return {
      async close() {
        await closeServer(server);
        await leadership?.close();
        await transitions;
        await Promise.all([evaluator.stop(), outbox.stop()]);
        sender.close();
        await store.close();
      },
    };
  },
});
