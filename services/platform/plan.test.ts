import { planPlatform, ServiceName, type PlatformOptions } from './plan';

const options: PlatformOptions = {
  dataDir: './data',
  isCluster: false,
  ingestionPort: 8080,
  queuePort: 8081,
  storagePort: 8082,
  queryPort: 8083,
  alertingPort: 8084,
  available: new Set(Object.values(ServiceName)),
};

describe('planPlatform', () => {
  it('runs one of each service in dependency order on the default ports', () => {
    const plan = planPlatform(options);
    expect(plan.map((spec) => [spec.label, spec.port])).toEqual([
      ['queue', 8081],
      ['storage', 8082],
      ['query', 8083],
      ['alerting', 8084],
      ['ingestion', 8080],
    ]);
    const storage = plan.find((spec) => spec.service === 'storage')!;
    expect(storage.args).toEqual(
      expect.arrayContaining(['--queue-url', 'http://127.0.0.1:8081', '--shard-count', '1']),
    );
    expect(plan.find((spec) => spec.service === 'queue')!.args).not.toContain('--peers');
  });

  it('runs 3 queue peers, 2 shards and 2 ingestion replicas sharing Redis in cluster mode', () => {
    const plan = planPlatform({ ...options, isCluster: true, redisUrl: 'redis://127.0.0.1:6390' });
    const queues = plan.filter((spec) => spec.service === 'queue');
    expect(queues.map((spec) => spec.port)).toEqual([8081, 8181, 8281]);
    for (const queue of queues) {
      expect(queue.args).toContain('q0=http://127.0.0.1:8081,q1=http://127.0.0.1:8181,q2=http://127.0.0.1:8281');
    }
    const shards = plan.filter((spec) => spec.service === 'storage');
    expect(shards.map((spec) => spec.args[spec.args.indexOf('--shard-index') + 1])).toEqual(['0', '1']);
    expect(plan.find((spec) => spec.service === 'query')!.args).toContain(
      'http://127.0.0.1:8082,http://127.0.0.1:8182',
    );
    const ingestion = plan.filter((spec) => spec.service === 'ingestion');
    expect(ingestion).toHaveLength(2);
    expect(ingestion.every((spec) => spec.env.REDIS_URL === 'redis://127.0.0.1:6390')).toBe(true);
  });

  it('skips services that are not in this build', () => {
    const plan = planPlatform({ ...options, available: new Set([ServiceName.Ingestion]) });
    expect(plan.map((spec) => spec.label)).toEqual(['ingestion']);
  });
});
