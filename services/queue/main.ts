import type http from 'node:http';
import { ConfigError } from '../kit/errors';
import { closeServer, createApp, finishApp, listen } from '../kit/http';
import { createRegistry } from '../kit/metrics';
import { commonOptions, defineService } from '../kit/service';
import { addQueueRoutes, retryAfterOn503 } from './api/routes';
import { GroupCommitter } from './log/group-commit';
import { createQueueMetrics } from './node/metrics';
import { LocalReplication } from './node/local-replication';
import { QueueNode, partitionDirectory } from './node/queue-node';
import { parseTopicList, TopicSpecError } from './topics/topics';

const MIB = 1024 * 1024;

const configSpec = {
  ...commonOptions,
  port: { kind: 'port', env: 'PORT', default: 8081, description: 'API and peer port' },
  nodeId: { kind: 'string', env: 'QUEUE_NODE_ID', default: 'q0', description: 'this peer\'s id (stable across restarts)' },
  peers: {
    kind: 'list',
    env: 'QUEUE_PEERS',
    default: [] as string[],
    description: 'every peer as id=url, this one included (q0=http://127.0.0.1:8081,...); empty: a single peer',
  },
  dataDir: { kind: 'string', env: 'QUEUE_DATA_DIR', default: './data/queue', description: 'where the partition logs live' },
  topics: {
    kind: 'list',
    env: 'QUEUE_TOPICS',
    default: [] as string[],
    description: 'more topics as name:partitions (metrics.inbound:12 always exists)',
  },
  fsync: {
    kind: 'string',
    env: 'QUEUE_FSYNC',
    default: 'group',
    choices: ['group', 'always', 'interval'],
    description: 'when appends reach the disk: group commit, every append, or on a timer',
  },
  fsyncInterval: {
    kind: 'duration',
    env: 'QUEUE_FSYNC_INTERVAL',
    default: 50,
    description: 'timer of --fsync interval',
  },
  segmentBytes: {
    kind: 'int',
    env: 'QUEUE_SEGMENT_BYTES',
    default: 64 * MIB,
    min: 4096,
    description: 'size at which a segment file is sealed and a new one started',
  },
  retentionBytes: {
    kind: 'int',
    env: 'QUEUE_RETENTION_BYTES',
    default: 1024 * MIB,
    min: 0,
    description: 'per partition: whole old segments are deleted above this size (0: no size limit)',
  },
  retention: {
    kind: 'duration',
    env: 'QUEUE_RETENTION',
    default: 7 * 24 * 3_600_000,
    description: 'whole segments whose last write is older than this are deleted (0: keep forever)',
  },
  tickMs: { kind: 'int', env: 'QUEUE_TICK_MS', default: 50, min: 1, description: 'Raft logical clock period' },
  electionTicks: {
    kind: 'int',
    env: 'QUEUE_ELECTION_TICKS',
    default: 10,
    min: 2,
    description: 'election timeout in ticks (randomized between this and twice this)',
  },
  heartbeatTicks: { kind: 'int', env: 'QUEUE_HEARTBEAT_TICKS', default: 2, min: 1, description: 'leader heartbeat period in ticks' },
  requestTimeout: {
    kind: 'duration',
    env: 'QUEUE_REQUEST_TIMEOUT',
    default: 5_000,
    description: 'deadline of a produce or commit; past it the answer is 503 no_quorum',
  },
  maxValueBytes: {
    kind: 'int',
    env: 'QUEUE_MAX_VALUE_BYTES',
    default: MIB,
    min: 1,
    description: 'largest record value (its JSON text); larger answers 413 value_too_large',
  },
} as const;

const LIMITS = { maxBatchRecords: 10_000, maxConsumeCount: 10_000, maxWaitMs: 30_000, maxRequestBytes: 16 * MIB, maxConsumeBytes: 8 * MIB };

/** `id=url` items; the node's own id must be among them when any are given. */
function parsePeers(items: readonly string[], selfId: string): Map<string, string> {
  const peers = new Map<string, string>();
  const problems: string[] = [];
  for (const item of items) {
    const [id, url] = item.split(/=(.*)/s, 2);
    if (!id || !url || !/^https?:\/\//.test(url)) problems.push(`--peers: "${item}" is not id=http://host:port`);
    else peers.set(id, url.replace(/\/+$/, ''));
  }
  if (peers.size > 0 && !peers.has(selfId)) problems.push(`--peers does not list this peer's --node-id ${selfId}`);
  if (problems.length > 0) throw new ConfigError(problems);
  return peers;
}

export const queueService = defineService({
  name: 'queue',
  summary: 'durable replicated log: POST /produce, GET /consume (Raft per partition)',
  configSpec,
  async start(config, logger) {
    let topics;
    try {
      topics = parseTopicList(config.topics);
    } catch (error) {
      if (error instanceof TopicSpecError) throw new ConfigError([`--topics: ${error.message}`]);
      throw error;
    }
    const peers = parsePeers(config.peers, config.nodeId);
    const selfUrl = peers.get(config.nodeId) ?? `http://${config.host}:${config.port}`;
    const { registry, http: httpMetrics } = createRegistry('queue');
    const metrics = createQueueMetrics(registry);
    const committer = new GroupCommitter(config.fsync as 'group', config.fsyncInterval, (seconds) =>
      metrics.fsyncLatency.observe(seconds),
    );
    const node = new QueueNode({
      dataDir: config.dataDir,
      topics,
      segmentBytes: config.segmentBytes,
      initialMembers: peers.size > 0 ? [...peers.keys()] : [config.nodeId],
      requestTimeoutMs: config.requestTimeout,
      maxConsumeBytes: LIMITS.maxConsumeBytes,
      logger,
      metrics,
    });
    const replication = new LocalReplication(config.nodeId, selfUrl, committer, (partition) =>
      partitionDirectory(config.dataDir, partition.topic, partition.partition),
    );
    node.replication = replication;
    const retentionTimer = setInterval(() => {
      for (const partition of node.partitions.values()) {
        if (partition.topic === '__consumer_offsets') continue;
        partition.log.applyRetention(
          {
            maxBytes: config.retentionBytes > 0 ? config.retentionBytes : undefined,
            maxAgeMs: config.retention > 0 ? config.retention : undefined,
          },
          partition.commitIndex,
        );
      }
    }, 30_000);
    retentionTimer.unref();

    const app = createApp({ logger, registry, httpMetrics, jsonLimitBytes: LIMITS.maxRequestBytes });
    addQueueRoutes(app, node, { ...LIMITS, maxValueBytes: config.maxValueBytes });
    app.use(retryAfterOn503);
    finishApp(app, logger);
    const server: http.Server = await listen(app, config.port, config.host);
    logger.info('queue listening', { port: config.port, nodeId: config.nodeId, peers: [...peers.keys()] });
    return {
      async close() {
        clearInterval(retentionTimer);
        await closeServer(server);
        await committer.flush();
        committer.close();
        await replication.close([...node.partitions.values()]);
        await node.close();
      },
    };
  },
});
