import type http from 'node:http';
import path from 'node:path';
import { ConfigError } from '../kit/errors';
import { closeServer, createApp, finishApp, listen } from '../kit/http';
import { createRegistry } from '../kit/metrics';
import { commonOptions, defineService } from '../kit/service';
import { addClusterRoutes, addQueueRoutes, retryAfterOn503 } from './api/routes';
import { GroupCommitter } from './log/group-commit';
import { PeerWal, WAL_DIRECTORY } from './log/peer-wal';
import { createQueueMetrics } from './node/metrics';
import { ClusterAdmin, readLearnedPeers } from './node/admin';
import { MembershipWatcher, type BootstrapMode } from './node/membership';
import { CatchUpStager } from './node/catch-up';
import { OffsetsCompactor } from './node/consumer-offsets';
import type { Partition } from './node/partition';
import { QueueNode, partitionDirectory } from './node/queue-node';
import { RaftReplication } from './node/raft-replication';
import { RaftStreamServer } from './node/stream-server';
import { readHardState } from './log/hard-state';
import { applyConfigChange, decodeConfigChange } from './raft/types';
import { seededRandom } from '../kit/clock';
import { OFFSETS_TOPIC, parseTopicList, TopicSpecError } from './topics/topics';

const MIB = 1024 * 1024;

// Every partition's fdatasync runs in libuv's thread pool; with its default of 4 threads, 13 partitions' syncs would
// queue behind each other. Read once by libuv when the pool starts, which is after this module loads.
process.env.UV_THREADPOOL_SIZE ??= '16';

const configSpec = {
  ...commonOptions,
  port: { kind: 'port', env: 'PORT', default: 8081, description: 'API and peer port' },
  nodeId: {
    kind: 'string',
    env: 'QUEUE_NODE_ID',
    default: 'q0',
    description: "this peer's id (stable across restarts)",
  },
  peers: {
    kind: 'list',
    env: 'QUEUE_PEERS',
    default: [] as string[],
    description: 'every peer as id=url, this one included (q0=http://127.0.0.1:8081,...); empty: a single peer',
  },
  bootstrap: {
    kind: 'string',
    env: 'QUEUE_BOOTSTRAP',
    default: 'auto',
    choices: ['auto', 'new', 'join'],
    description:
      'a partition log created from nothing: auto: asks --peers whether a cluster exists (join it) or is being created (start it with --peers); join: always waits to be added; new: starts it with --peers',
  },
  dataDir: {
    kind: 'string',
    env: 'QUEUE_DATA_DIR',
    default: './data/queue',
    description: 'where the partition logs live',
  },
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
  walCheckpointBytes: {
    kind: 'int',
    env: 'QUEUE_WAL_CHECKPOINT_BYTES',
    default: 64 * MIB,
    min: 4096,
    description: 'WAL growth after which every segment log is synced and the older WAL files deleted',
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
  retentionCheckInterval: {
    kind: 'duration',
    env: 'QUEUE_RETENTION_CHECK_INTERVAL',
    default: 30_000,
    description: 'how often retention looks for whole segments to delete',
  },
  tickMs: { kind: 'int', env: 'QUEUE_TICK_MS', default: 100, min: 1, description: 'Raft logical clock period' },
  electionTicks: {
    kind: 'int',
    env: 'QUEUE_ELECTION_TICKS',
    default: 10,
    min: 2,
    description: 'election timeout in ticks (randomized between this and twice this)',
  },
  heartbeatTicks: {
    kind: 'int',
    env: 'QUEUE_HEARTBEAT_TICKS',
    default: 1,
    min: 1,
    description: 'leader heartbeat period in ticks',
  },
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

const LIMITS = {
  maxBatchRecords: 10_000,
  maxConsumeCount: 10_000,
  maxWaitMs: 30_000,
  maxRequestBytes: 16 * MIB,
  maxConsumeBytes: 8 * MIB,
};

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
    const bootstrapMode = config.bootstrap as BootstrapMode;
    // A single peer, or `--bootstrap new`, creates its groups with the configured membership at once; otherwise a
    // brand-new log knows no membership until the MembershipWatcher (or a leader's catch-up) gives it one.
    const isAlone = peers.size === 0 || (peers.size === 1 && peers.has(config.nodeId));
    const initialMembers = isAlone ? [config.nodeId] : bootstrapMode === 'new' ? [...peers.keys()] : [];
    const selfUrl = peers.get(config.nodeId) ?? `http://${config.host}:${config.port}`;
    const { registry, http: httpMetrics } = createRegistry('queue');
    const metrics = createQueueMetrics(registry);
    const committer = new GroupCommitter(config.fsync as 'group', config.fsyncInterval, (seconds) =>
      metrics.fsyncLatency.observe(seconds),
    );
    const { wal, replay } = PeerWal.open(path.join(config.dataDir, WAL_DIRECTORY));
    const node = new QueueNode({
      dataDir: config.dataDir,
      topics,
      segmentBytes: config.segmentBytes,
      initialMembers,
      applyConfig: (members, data) => applyConfigChange(members, decodeConfigChange(data)),
      requestTimeoutMs: config.requestTimeout,
      maxConsumeBytes: LIMITS.maxConsumeBytes,
      replayWal: (key, log) => replay.replayInto(key, log),
      logger,
      metrics,
    });
    const directoryOf = (partition: Partition) =>
      partitionDirectory(config.dataDir, partition.topic, partition.partition);
    const stager = new CatchUpStager(
      selfUrl,
      directoryOf,
      config.segmentBytes,
      logger,
      config.requestTimeout,
      (members, data) => applyConfigChange(members, decodeConfigChange(data)),
    );
    const replication = new RaftReplication({
      selfId: config.nodeId,
      selfUrl,
      peers: new Map([...readLearnedPeers(config.dataDir), ...peers]),
      partitions: [...node.partitions.values()],
      directoryOf,
      readHardState: (partition) => {
        const hardState = readHardState(directoryOf(partition));
        // Entries past the durable log's end may have been lost with a torn tail; Raft re-learns the commit point.
        return { ...hardState, commit: Math.min(hardState.commit, partition.log.lastIndex()) };
      },
      committer,
      wal,
      walCheckpointBytes: config.walCheckpointBytes,
      stager,
      tickMs: config.tickMs,
      electionTicks: config.electionTicks,
      heartbeatTicks: config.heartbeatTicks,
      balanceAfterMs: 3_000,
      random: seededRandom((Date.now() ^ (process.pid << 8)) >>> 0),
      logger,
      metrics,
      now: Date.now,
    });
    node.replication = replication;
    const admin = new ClusterAdmin(node, replication, config.dataDir, config.requestTimeout);
    const watcher = new MembershipWatcher({
      node,
      replication,
      configuredPeers: peers,
      mode: bootstrapMode,
      pollMs: Math.max(100, config.tickMs * 5),
      logger,
    });
    const offsetsPartition = () => node.partition(OFFSETS_TOPIC, 0);
    const compactor = new OffsetsCompactor({
      partition: offsetsPartition,
      offsets: node.offsets,
      isLeader: () => replication.leaderOf(offsetsPartition()) === config.nodeId,
      append: (records) => node.appendOnLeader(offsetsPartition(), records, Date.now() + config.requestTimeout),
      segmentBytes: config.segmentBytes,
      logger,
    });
    const retentionTimer = setInterval(() => {
      // Consumer offsets are state, not a stream: never trimmed by age or size, only compacted behind checkpoints.
      void compactor.compact();
      for (const partition of node.partitions.values()) {
        if (partition.topic === OFFSETS_TOPIC) continue;
        partition.log.applyRetention(
          {
            maxBytes: config.retentionBytes > 0 ? config.retentionBytes : undefined,
            maxAgeMs: config.retention > 0 ? config.retention : undefined,
          },
          partition.commitIndex,
        );
      }
    }, config.retentionCheckInterval);
    retentionTimer.unref();

    const app = createApp({
      logger,
      registry,
      httpMetrics,
      jsonLimitBytes: LIMITS.maxRequestBytes,
      isReady: () => {
        const leaderless = [...node.partitions.values()].filter(
          (partition) => replication.leaderOf(partition) === undefined,
        );
        return leaderless.length === 0
          ? { ready: true }
          : { ready: false, reason: `${leaderless.length} partitions have no leader` };
      },
    });
    addQueueRoutes(app, node, { ...LIMITS, maxValueBytes: config.maxValueBytes });
    addClusterRoutes(app, node, replication, stager, admin);
    app.use(retryAfterOn503);
    finishApp(app, logger);
    const server: http.Server = await listen(app, config.port, config.host);
    const streams = new RaftStreamServer((batch) => replication.receive(batch), logger);
    streams.attach(server);
    logger.info('queue listening', { port: config.port, nodeId: config.nodeId, peers: [...peers.keys()] });
    return {
      async close() {
        clearInterval(retentionTimer);
        watcher.close();
        streams.close();
        await closeServer(server);
        await replication.close();
        await committer.flush();
        committer.close();
        await wal.close();
        await node.close();
      },
    };
  },
});
