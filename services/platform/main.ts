import fs from 'node:fs';
import path from 'node:path';
import { commonOptions, defineService } from '../kit/service';
import { planPlatform, ServiceName, type ProcessSpec } from './plan';
import { Supervisor, type ChildSpec } from './supervisor';

const configSpec = {
  logLevel: commonOptions.logLevel,
  dataDir: {
    kind: 'string',
    env: 'METRICSTREAM_DATA_DIR',
    default: './data',
    description: 'where every service keeps its data',
  },
  cluster: {
    kind: 'bool',
    env: 'METRICSTREAM_CLUSTER',
    default: false,
    description: 'run a small cluster: 3 queue peers, 2 storage shards, 2 ingestion replicas sharing Redis',
  },
  ingestionPort: { kind: 'port', env: 'INGESTION_PORT', default: 8080, description: 'ingestion API port' },
  queuePort: { kind: 'port', env: 'QUEUE_PORT', default: 8081, description: 'queue API port (first peer)' },
  storagePort: { kind: 'port', env: 'STORAGE_PORT', default: 8082, description: 'storage API port (first shard)' },
  queryPort: { kind: 'port', env: 'QUERY_PORT', default: 8083, description: 'query API port' },
  alertingPort: { kind: 'port', env: 'ALERTING_PORT', default: 8084, description: 'alerting API port' },
  redisPort: {
    kind: 'port',
    env: 'PLATFORM_REDIS_PORT',
    default: 6390,
    description: 'port of the redis-server started in cluster mode',
  },
  redisUrl: { kind: 'string', env: 'REDIS_URL', description: 'use this Redis instead of starting one (cluster mode)' },
} as const;

const cliPath = path.resolve(__dirname, '../cli/metricstream.js');

function availableServices(): Set<ServiceName> {
  const present = Object.values(ServiceName).filter((service) =>
    fs.existsSync(path.resolve(__dirname, `../${service}/main.js`)),
  );
  return new Set(present);
}

const toChild = (spec: ProcessSpec, logLevel: string): ChildSpec => ({
  label: spec.label,
  command: process.execPath,
  args: [cliPath, spec.service, '--port', String(spec.port), ...spec.args],
  env: { ...process.env, LOG_LEVEL: logLevel, ...spec.env },
  healthUrl: `http://127.0.0.1:${spec.port}/healthz`,
});

export const platformCommand = defineService({
  name: 'platform',
  summary: 'runs every MetricStream service on this machine with embedded defaults',
  configSpec,
  async start(config, logger) {
    const supervisor = new Supervisor(logger);
    const children: ChildSpec[] = [];
    let redisUrl = config.redisUrl;
    if (config.cluster && !redisUrl) {
      const redisDir = path.resolve(config.dataDir, 'redis');
      fs.mkdirSync(redisDir, { recursive: true });
      children.push({
        label: 'redis',
        command: 'redis-server',
        args: [
          '--port',
          String(config.redisPort),
          '--bind',
          '127.0.0.1',
          '--dir',
          redisDir,
          '--save',
          '',
          '--appendonly',
          'no',
        ],
        env: process.env,
      });
      redisUrl = `redis://127.0.0.1:${config.redisPort}`;
    }
    const plan = planPlatform({ ...config, isCluster: config.cluster, redisUrl, available: availableServices() });
    children.push(...plan.map((spec) => toChild(spec, config.logLevel)));
    logger.info('starting platform', { processes: children.map((child) => child.label), dataDir: config.dataDir });
    await supervisor.startAll(children);
    logger.info('platform is up', {
      endpoints: Object.fromEntries(plan.map((spec) => [spec.label, `http://127.0.0.1:${spec.port}`])),
    });
    return { close: () => supervisor.stopAll() };
  },
});
