import { prom, type Registry } from '../../kit/metrics';

/** The engine's Prometheus metrics (API.md, "Metrics"). */
export interface EngineMetrics {
  samplesAppended: prom.Counter;
  samplesRejected: prom.Counter<'reason'>;
  headSeries: prom.Gauge;
  walFsyncSeconds: prom.Histogram;
  compactions: prom.Counter<'kind'>;
  bytesOnDisk: prom.Gauge;
  blocks: prom.Gauge;
  blockCacheBytes: prom.Gauge;
  blockCacheEvictions: prom.Counter;
}

export function createEngineMetrics(registry: Registry): EngineMetrics {
  const registers = [registry];
  return {
    samplesAppended: new prom.Counter({
      name: 'storage_samples_appended_total',
      help: 'Samples accepted into the head',
      registers,
    }),
    samplesRejected: new prom.Counter({
      name: 'storage_samples_rejected_total',
      help: 'Samples rejected: too_old (already persisted) or out_of_order (older than the out-of-order window)',
      labelNames: ['reason'],
      registers,
    }),
    headSeries: new prom.Gauge({ name: 'storage_head_series', help: 'Series held in the head', registers }),
    walFsyncSeconds: new prom.Histogram({
      name: 'storage_wal_fsync_duration_seconds',
      help: 'Latency of each WAL fdatasync (one per group commit)',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
      registers,
    }),
    compactions: new prom.Counter({
      name: 'storage_compactions_total',
      help: 'Head cuts, block merges and retention deletions',
      labelNames: ['kind'],
      registers,
    }),
    bytesOnDisk: new prom.Gauge({ name: 'storage_bytes_on_disk', help: 'Bytes of blocks and WAL', registers }),
    blocks: new prom.Gauge({ name: 'storage_blocks', help: 'Persisted blocks', registers }),
    blockCacheBytes: new prom.Gauge({
      name: 'storage_block_cache_bytes',
      help: 'Memory held by loaded blocks (files as read), bounded by --block-cache-bytes',
      registers,
    }),
    blockCacheEvictions: new prom.Counter({
      name: 'storage_block_cache_evictions_total',
      help: 'Loaded blocks unloaded to stay under --block-cache-bytes',
      registers,
    }),
  };
}
