import { prom, type Registry } from '../../kit/metrics';

/** The queue's own Prometheus metrics, registered once per process on the kit registry. */
export function createQueueMetrics(registry: Registry) {
  return {
    producedRecords: new prom.Counter({
      name: 'queue_produced_records_total',
      help: 'Records acknowledged to producers (committed), by topic',
      labelNames: ['topic'],
      registers: [registry],
    }),
    consumedRecords: new prom.Counter({
      name: 'queue_consumed_records_total',
      help: 'Records returned to consumers, by topic',
      labelNames: ['topic'],
      registers: [registry],
    }),
    commitLatency: new prom.Histogram({
      name: 'queue_commit_latency_seconds',
      help: 'From proposal to commit of one record batch on its leader',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers: [registry],
    }),
    fsyncLatency: new prom.Histogram({
      name: 'queue_fsync_latency_seconds',
      help: 'Duration of one group-commit round of fdatasync calls',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1],
      registers: [registry],
    }),
    elections: new prom.Counter({
      name: 'queue_raft_elections_total',
      help: 'Elections this peer started (became candidate)',
      registers: [registry],
    }),
    leaderChanges: new prom.Counter({
      name: 'queue_raft_leader_changes_total',
      help: 'Times a partition saw a new leader',
      registers: [registry],
    }),
    peerMessages: new prom.Counter({
      name: 'queue_peer_messages_total',
      help: 'Raft messages sent to other peers',
      registers: [registry],
    }),
    peerFrames: new prom.Counter({
      name: 'queue_peer_frames_total',
      help: 'Frames (batches of Raft messages of every group) written to the streams to other peers',
      registers: [registry],
    }),
    peerStreamsOpened: new prom.Counter({
      name: 'queue_peer_streams_opened_total',
      help: 'Raft streams opened to other peers (one per peer while it stays reachable)',
      registers: [registry],
    }),
  };
}

export type QueueMetrics = ReturnType<typeof createQueueMetrics>;
