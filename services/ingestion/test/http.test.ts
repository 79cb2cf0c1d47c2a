import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sha256 } from '../../kit/auth';
import { freePort, spawnProcess, cliPath, startService, type ManagedProcess } from '../../kit/testing/processes';
import { QueueDouble } from '../testing/queue-double';
import { remoteWriteBody } from '../testing/remote-write';
import { oneMetric, postMetrics, scrape, tempDir } from './helpers';

/** Cross-process: the compiled service (run `npx tsc -p tsconfig.json` first) against an in-test queue double. */
describe('ingestion over HTTP', () => {
  const queue = new QueueDouble();
  const dataDir = tempDir('http');
  const processes: ManagedProcess[] = [];
  let base: string;
  let keysBase: string;

  beforeAll(async () => {
    await queue.start();
    const port = await freePort();
    processes.push(
      await startService('ingestion', port, [
        '--queue-url',
        queue.url,
        '--data-dir',
        path.join(dataDir, 'client-id'),
        '--body-limit-bytes',
        '4096',
        '--max-metrics-per-request',
        '20',
        '--rate-limit',
        '0.5',
        '--rate-limit-burst',
        '3',
        '--rate-limit-overrides',
        'loader=1000:1000',
      ]),
    );
    base = `http://127.0.0.1:${port}`;

    const keysFile = path.join(dataDir, 'keys.yaml');
    writeFileSync(
      keysFile,
      [
        'keys:',
        '  - key: team-a-secret-key',
        '    client: collector-a',
        '    tenant: team-a',
        `  - key_sha256: ${sha256('team-b-secret-key').toString('hex')}`,
        '    client: collector-b',
        '    tenant: team-b',
      ].join('\n'),
    );
    const keysPort = await freePort();
    processes.push(
      await startService('ingestion', keysPort, [
        '--queue-url',
        queue.url,
        '--data-dir',
        path.join(dataDir, 'api-keys'),
        '--auth-mode',
        'api-keys',
        '--api-keys-file',
        keysFile,
        '--multi-tenancy',
      ]),
    );
    keysBase = `http://127.0.0.1:${keysPort}`;
  });

  afterAll(async () => {
    for (const process of processes) await process.stop();
    await queue.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const lastRecord = () => queue.records[queue.records.length - 1];

  it('accepts the design document request with 202 once the queue has the MetricBatch', async () => {
    const reply = await postMetrics(base, 'client_123', {
      metrics: [
        { name: 'cpu_usage', value: 75.5, type: 'gauge', tags: { host: 'server01' }, timestamp: 1696789234567 },
      ],
    });
    expect(reply.status).toBe(202);
    expect(reply.body).toEqual({ accepted: 1 });
    expect(reply.headers.get('ratelimit-limit')).toBe('3');
    expect(reply.headers.get('ratelimit-remaining')).toBe('2');
    expect(lastRecord()).toMatchObject({
      topic: 'metrics.inbound',
      key: 'client_123',
      value: {
        tenant: 'default',
        client: 'client_123',
        metrics: [
          { name: 'cpu_usage', value: 75.5, type: 'gauge', tags: { host: 'server01' }, timestamp: 1696789234567 },
        ],
      },
    });
    const before = Date.now();
    expect((await postMetrics(base, 'client_124', oneMetric(1), '/v1/metrics')).status).toBe(202);
    expect((await postMetrics(base, 'client_125', oneMetric(1), '/metrics?source=test')).status).toBe(202);
    const stamped = (lastRecord().value as { metrics: { timestamp: number }[] }).metrics[0].timestamp;
    expect(stamped).toBeGreaterThanOrEqual(before - 1000);
    expect(stamped).toBeLessThanOrEqual(Date.now());
  });

  it('answers 401 without or with a malformed client id', async () => {
    expect(await postMetrics(base, undefined, oneMetric(1))).toMatchObject({
      status: 401,
      body: { error: { code: 'missing_credentials', message: expect.any(String) } },
    });
    expect(await postMetrics(base, 'has spaces/and slashes', oneMetric(1))).toMatchObject({
      status: 401,
      body: { error: { code: 'invalid_client_id' } },
    });
  });

  it('answers 400 naming the offending indexes, and forwards nothing of the request', async () => {
    const before = queue.records.length;
    const reply = await postMetrics(base, 'loader', {
      metrics: [
        { name: 'ok', value: 1, type: 'gauge' },
        { name: '1bad', value: 1, type: 'gauge' },
        { name: 'ok', value: 'high', type: 'gauge' },
        { name: 'ok', value: 1, type: 'summary' },
      ],
    });
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual({
      error: {
        code: 'invalid_metrics',
        message: expect.stringMatching(/^metric 1: /),
        index: 1,
        errors: [
          { index: 1, field: 'name', message: expect.any(String) },
          { index: 2, field: 'value', message: expect.any(String) },
          { index: 3, field: 'type', message: expect.any(String) },
        ],
      },
    });
    expect(queue.records.length).toBe(before);
    const tooMany = { metrics: Array.from({ length: 21 }, () => ({ name: 'a', value: 1, type: 'gauge' })) };
    expect(await postMetrics(base, 'loader', tooMany)).toMatchObject({
      status: 400,
      body: { error: { code: 'too_many_metrics', count: 21, limit: 20 } },
    });
    expect(await postMetrics(base, 'loader', '{"metrics": [')).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_json' } },
    });
    expect(await postMetrics(base, 'loader', { data: [] })).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_body' } },
    });
  });

  it('answers 413 to a body over the limit', async () => {
    const reply = await postMetrics(base, 'loader', oneMetric(1, { padding: 'x'.repeat(5000) }));
    expect(reply).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large', limit_bytes: 4096 } } });
  });

  it('answers 429 with Retry-After and RateLimit headers once the bucket is empty', async () => {
    const replies = [];
    for (let request = 0; request < 5; request++)
      replies.push(await postMetrics(base, 'client_busy', oneMetric(request)));
    expect(replies.map((reply) => reply.status)).toEqual([202, 202, 202, 429, 429]);
    const limited = replies[3];
    expect(limited.body).toEqual({
      error: { code: 'rate_limited', message: expect.any(String), retry_after_seconds: 2 },
    });
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(limited.headers.get('ratelimit-limit')).toBe('3');
    expect(limited.headers.get('ratelimit-remaining')).toBe('0');
    expect(Number(limited.headers.get('ratelimit-reset'))).toBeGreaterThanOrEqual(1);
    // Another client has its own bucket.
    expect((await postMetrics(base, 'client_idle', oneMetric(1))).status).toBe(202);
    expect(await scrape(base, 'ingestion_requests_rejected_total', 'code="rate_limited"')).toBeGreaterThanOrEqual(2);
  });

  it('accepts Prometheus remote-write, skipping NaN staleness markers', async () => {
    const body = remoteWriteBody([
      {
        labels: [
          { name: '__name__', value: 'http_requests_total' },
          { name: 'job', value: 'api' },
        ],
        samples: [
          { value: 10, timestamp: 1_700_000_000_000 },
          { value: NaN, timestamp: 1_700_000_015_000 },
        ],
      },
    ]);
    const response = await fetch(base + '/api/v1/write', {
      method: 'POST',
      headers: {
        authorization: 'Bearer prometheus_1',
        'content-type': 'application/x-protobuf',
        'content-encoding': 'snappy',
      },
      body,
    });
    expect(response.status).toBe(204);
    expect(lastRecord()).toMatchObject({
      key: 'prometheus_1',
      value: {
        tenant: 'default',
        client: 'prometheus_1',
        metrics: [
          { name: 'http_requests_total', value: 10, type: 'gauge', tags: { job: 'api' }, timestamp: 1_700_000_000_000 },
        ],
      },
    });
    const garbage = await fetch(base + '/api/v1/write', {
      method: 'POST',
      headers: { authorization: 'prometheus_1', 'content-type': 'application/x-protobuf' },
      body: Buffer.from('not snappy at all'),
    });
    expect(garbage.status).toBe(400);
    expect(((await garbage.json()) as { error: { code: string } }).error.code).toBe('invalid_remote_write');
  });

  it('api-keys mode: Bearer keys map to a client and, with multi-tenancy, a tenant', async () => {
    expect((await postMetrics(keysBase, 'Bearer team-a-secret-key', oneMetric(1))).status).toBe(202);
    expect(lastRecord()).toMatchObject({ key: 'collector-a', value: { tenant: 'team-a', client: 'collector-a' } });
    expect((await postMetrics(keysBase, 'Bearer team-b-secret-key', oneMetric(2))).status).toBe(202);
    expect(lastRecord()).toMatchObject({ key: 'collector-b', value: { tenant: 'team-b', client: 'collector-b' } });
    const unknown = await postMetrics(keysBase, 'Bearer not-a-known-key', oneMetric(1));
    expect(unknown).toMatchObject({ status: 401, body: { error: { code: 'invalid_api_key' } } });
    expect(unknown.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await postMetrics(keysBase, 'client_123', oneMetric(1))).toMatchObject({
      status: 401,
      body: { error: { code: 'missing_credentials' } },
    });
  });

  it('refuses a bad configuration at start-up with every problem listed (exit 2)', async () => {
    const child = await spawnProcess('ingestion-bad', process.execPath, [
      cliPath,
      'ingestion',
      '--auth-mode',
      'api-keys',
      '--multi-tenancy',
      '--rate-limit-overrides',
      'nonsense',
    ]);
    const code = await new Promise((resolve) => child.child.once('exit', resolve));
    expect(code).toBe(2);
    const output = child.output.join('');
    expect(output).toMatch(/--api-keys-file/);
    expect(output).toMatch(/override "nonsense"/);
  });
});
