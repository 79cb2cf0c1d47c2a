import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { cliPath, freePort, spawnProcess, waitFor, type ManagedProcess } from '../../kit/testing/processes';

/**
 * The whole pipeline as `metricstream start` runs it: metrics posted to ingestion become queryable through the query
 * engine, and an alert rule fires to a local webhook receiver and resolves when the metric drops. Runs on the local
 * topology and on the small cluster (3 queue peers, 2 storage shards, 2 ingestion replicas sharing Redis).
 */
jest.setTimeout(150_000);

interface Receiver {
  url: string;
  statuses: string[];
  close(): Promise<void>;
}

async function startWebhookReceiver(): Promise<Receiver> {
  const statuses: string[] = [];
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      statuses.push((JSON.parse(Buffer.concat(parts).toString()) as { status: string }).status);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hook`,
    statuses,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Base ports far apart so cluster replicas (base + 100, + 200) stay clear of each other. */
async function platformPorts() {
  const base = 20_000 + ((await freePort()) % 20) * 1000;
  return { ingestion: base, queue: base + 1, storage: base + 2, query: base + 3, alerting: base + 4, redis: base + 5 };
}

type PlatformPorts = Awaited<ReturnType<typeof platformPorts>>;

/** `metricstream start` on `ports` with data under `dataDir`, ready once every URL of `readyUrls` answers /readyz. */
function startPlatform(dataDir: string, ports: PlatformPorts, extraFlags: string[], readyUrls: string[]) {
  const flags = ['--data-dir', dataDir, '--redis-port', String(ports.redis), ...extraFlags];
  for (const service of ['ingestion', 'queue', 'storage', 'query', 'alerting'] as const)
    flags.push(`--${service}-port`, String(ports[service]));
  return spawnProcess('platform', process.execPath, [cliPath, 'start', ...flags], {
    env: { LOG_LEVEL: 'warn' },
    waitUntilReady: () =>
      waitFor(
        async () => {
          for (const url of readyUrls) if (!(await fetch(`${url}/readyz`)).ok) return undefined;
          return true;
        },
        90_000,
        'the platform to be ready',
      ),
  });
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

async function queryRows(queryUrl: string, query: string): Promise<Record<string, unknown>[]> {
  const response = await post(`${queryUrl}/query`, { query }, { 'Cache-Control': 'no-cache' });
  const body = (await response.json()) as { series?: Record<string, unknown>[]; error?: unknown };
  if (response.status !== 200) throw new Error(`query failed: ${JSON.stringify(body)}`);
  return body.series ?? [];
}

describe.each([
  ['local', [] as string[]],
  ['cluster', ['--cluster']],
])('the pipeline on the %s topology', (_topology, extraFlags) => {
  let platform: ManagedProcess;
  let receiver: Receiver;
  let dataDir: string;
  let urls: Record<'ingestion' | 'query' | 'alerting', string>;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'metricstream-e2e-'));
    receiver = await startWebhookReceiver();
    const ports = await platformPorts();
    urls = {
      ingestion: `http://127.0.0.1:${ports.ingestion}`,
      query: `http://127.0.0.1:${ports.query}`,
      alerting: `http://127.0.0.1:${ports.alerting}`,
    };
    platform = await startPlatform(dataDir, ports, extraFlags, Object.values(urls));
  });

  afterAll(async () => {
    await platform?.stop();
    await receiver?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('makes every accepted metric queryable exactly once', async () => {
    const count = 60;
    for (let sequence = 0; sequence < count; sequence++) {
      const response = await post(
        `${urls.ingestion}/metrics`,
        { metrics: [{ name: 'e2e_requests', value: 1, type: 'counter', tags: { host: `server${sequence % 3}` } }] },
        { Authorization: `client_${sequence}` },
      );
      expect(response.status).toBe(202);
    }
    const rows = await waitFor(
      async () => {
        const series = await queryRows(urls.query, 'SELECT count(e2e_requests) WHERE time > now() - 1h GROUP BY host');
        const total = series.reduce((sum, row) => sum + Number(row.count), 0);
        return total === count ? series : undefined;
      },
      60_000,
      `all ${count} metrics to be queryable`,
    );
    expect(rows.map((row) => [row.host, row.count]).sort()).toEqual([
      ['server0', 20],
      ['server1', 20],
      ['server2', 20],
    ]);
  });

  it('fires an alert to the webhook receiver and resolves it when the metric drops', async () => {
    expect(
      (await post(`${urls.alerting}/channels`, { name: 'hook', type: 'webhook', settings: { url: receiver.url } }))
        .status,
    ).toBe(201);
    const rule = {
      name: 'e2e_high_cpu',
      query: 'avg(e2e_cpu) > 80',
      duration: '0s',
      window: '3s',
      interval: '500ms',
      channels: ['hook'],
    };
    expect((await post(`${urls.alerting}/rules`, rule)).status).toBe(201);
    let level = 95;
    const send = () =>
      post(
        `${urls.ingestion}/metrics`,
        { metrics: [{ name: 'e2e_cpu', value: level, type: 'gauge', tags: { host: 'server01' } }] },
        { Authorization: 'client_cpu' },
      );
    const sender = setInterval(() => void send().catch(() => undefined), 200);
    try {
      await waitFor(() => receiver.statuses.includes('firing') || undefined, 60_000, 'the firing notification');
      const firing = (await (await fetch(`${urls.alerting}/alerts?rule=e2e_high_cpu`)).json()) as {
        alerts: { state: string; value: number }[];
      };
      expect(firing.alerts[0]).toMatchObject({ state: 'firing' });
      expect(firing.alerts[0].value).toBeGreaterThan(80);
      level = 10;
      await waitFor(() => receiver.statuses.includes('resolved') || undefined, 60_000, 'the resolved notification');
      expect(receiver.statuses.filter((status) => status === 'firing')).toHaveLength(1);
    } finally {
      clearInterval(sender);
    }
  });
});

describe('faults during sustained ingest on the cluster topology', () => {
  let platform: ManagedProcess;
  let dataDir: string;
  let ports: PlatformPorts;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'metricstream-faults-'));
    ports = await platformPorts();
    const readyPorts = [ports.ingestion, ports.ingestion + 100, ports.query, ports.storage + 100];
    platform = await startPlatform(
      dataDir,
      ports,
      ['--cluster'],
      readyPorts.map((port) => `http://127.0.0.1:${port}`),
    );
  });

  afterAll(async () => {
    await platform?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** kill -9 the platform's child serving `port`; the supervisor restarts it. */
  const killChild = (service: string, port: number) => {
    const pid = execFileSync('pgrep', ['-f', `metricstream.js ${service} --port ${port}( |$)`], {
      encoding: 'utf8',
    }).trim();
    process.kill(Number(pid.split('\n')[0]), 'SIGKILL');
  };

  it('keeps every metric that got a 202 exactly once through kill -9 of a queue peer, a shard and an ingestion replica', async () => {
    const accepted: number[] = [];
    const stalls: Record<string, number> = {};
    let sequence = 0;
    let isRunning = true;
    let lastAcceptedAt = Date.now();
    let longestGap = 0;
    const ingest = async (replicaPort: number) => {
      while (isRunning) {
        const mine = sequence++;
        try {
          const response = await post(
            `http://127.0.0.1:${replicaPort}/metrics`,
            { metrics: [{ name: 'fault_seq', value: mine, type: 'gauge', tags: { seq: String(mine) } }] },
            { Authorization: `client_${mine % 500}` },
          );
          if (response.status === 202) {
            accepted.push(mine);
            longestGap = Math.max(longestGap, Date.now() - lastAcceptedAt);
            lastAcceptedAt = Date.now();
          }
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    };
    const writers = [ingest(ports.ingestion), ingest(ports.ingestion), ingest(ports.ingestion + 100)];
    const fault = async (label: string, service: string, port: number) => {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      longestGap = 0;
      killChild(service, port);
      await new Promise((resolve) => setTimeout(resolve, 4000));
      stalls[label] = longestGap;
    };
    await fault('queue peer q1', 'queue', ports.queue + 100);
    await fault('storage shard 1', 'storage', ports.storage + 100);
    await fault('ingestion replica 1', 'ingestion', ports.ingestion + 100);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    isRunning = false;
    await Promise.all(writers);
    process.stdout.write(
      `fault stalls (longest gap between 202s, ms): ${JSON.stringify(stalls)}; accepted ${accepted.length}\n`,
    );

    const queryUrl = `http://127.0.0.1:${ports.query}`;
    const counts = await waitFor(
      async () => {
        const rows = await queryRows(queryUrl, 'SELECT count(fault_seq) WHERE time > now() - 1h GROUP BY seq');
        const bySequence = new Map(rows.map((row) => [Number(row.seq), Number(row.count)]));
        return accepted.every((mine) => bySequence.has(mine)) ? bySequence : undefined;
      },
      90_000,
      'every accepted metric to be queryable',
    );
    const duplicated = [...counts].filter(([, count]) => count !== 1);
    expect(duplicated).toEqual([]);
    expect(accepted.length).toBeGreaterThan(100);
  });
});
