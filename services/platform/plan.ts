/**
 * What `metricstream start` runs: a pure description of every process, its flags and the order to start them.
 * The supervisor turns it into child processes.
 */
export const ServiceName = {
  Queue: 'queue',
  Storage: 'storage',
  Query: 'query',
  Alerting: 'alerting',
  Ingestion: 'ingestion',
} as const;
export type ServiceName = (typeof ServiceName)[keyof typeof ServiceName];

export interface ProcessSpec {
  /** Label used as the log prefix, e.g. `queue-1`. */
  label: string;
  service: ServiceName;
  port: number;
  args: string[];
  env: Record<string, string>;
}

export interface PlatformOptions {
  dataDir: string;
  isCluster: boolean;
  ingestionPort: number;
  queuePort: number;
  storagePort: number;
  queryPort: number;
  alertingPort: number;
  redisUrl?: string;
  /** Services whose code is present in this build; others are skipped. */
  available: ReadonlySet<ServiceName>;
}

const url = (port: number) => `http://127.0.0.1:${port}`;
/** Extra replicas in cluster mode listen at base port + 100 × replica number. */
const replicaPort = (base: number, replica: number) => base + 100 * replica;

function queuePeers(options: PlatformOptions): ProcessSpec[] {
  const count = options.isCluster ? 3 : 1;
  const peers = Array.from({ length: count }, (_, replica) => ({
    id: `q${replica}`,
    port: replicaPort(options.queuePort, replica),
  }));
  const peerList = count > 1 ? peers.map((peer) => `${peer.id}=${url(peer.port)}`).join(',') : '';
  return peers.map((peer) => ({
    label: count > 1 ? `queue-${peer.id}` : 'queue',
    service: ServiceName.Queue,
    port: peer.port,
    args: [
      '--node-id',
      peer.id,
      '--data-dir',
      `${options.dataDir}/queue/${peer.id}`,
      ...(peerList ? ['--peers', peerList] : []),
    ],
    env: {},
  }));
}

function storageShards(options: PlatformOptions): ProcessSpec[] {
  const count = options.isCluster ? 2 : 1;
  return Array.from({ length: count }, (_, shard) => ({
    label: count > 1 ? `storage-${shard}` : 'storage',
    service: ServiceName.Storage,
    port: replicaPort(options.storagePort, shard),
    args: [
      '--data-dir',
      `${options.dataDir}/storage/shard-${shard}`,
      '--queue-url',
      url(options.queuePort),
      '--shard-index',
      String(shard),
      '--shard-count',
      String(count),
    ],
    env: {},
  }));
}

export function planPlatform(options: PlatformOptions): ProcessSpec[] {
  const shards = storageShards(options);
  const ingestionReplicas = options.isCluster ? 2 : 1;
  const redisEnv: Record<string, string> = options.redisUrl ? { REDIS_URL: options.redisUrl } : {};
  const all: ProcessSpec[] = [
    ...queuePeers(options),
    ...shards,
    {
      label: 'query',
      service: ServiceName.Query,
      port: options.queryPort,
      args: [
        '--storage-urls',
        shards.map((shard) => url(shard.port)).join(','),
        '--alerting-url',
        url(options.alertingPort),
        '--queue-url',
        url(options.queuePort),
        '--ingestion-url',
        url(options.ingestionPort),
      ],
      env: {},
    },
    {
      label: 'alerting',
      service: ServiceName.Alerting,
      port: options.alertingPort,
      args: ['--query-url', url(options.queryPort), '--data-dir', `${options.dataDir}/alerting`],
      env: {},
    },
    ...Array.from({ length: ingestionReplicas }, (_, replica) => ({
      label: ingestionReplicas > 1 ? `ingestion-${replica}` : 'ingestion',
      service: ServiceName.Ingestion,
      port: replicaPort(options.ingestionPort, replica),
      args: ['--queue-url', url(options.queuePort), '--data-dir', `${options.dataDir}/ingestion/${replica}`],
      env: redisEnv,
    })),
  ];
  return all.filter((spec) => options.available.has(spec.service));
}
