import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, startService, waitFor, type ManagedProcess } from '../../kit/testing/processes';

/** End to end with the real queue process: MetricBatch records produced to metrics.inbound appear in /query. */
const T = 1_696_789_200_000;

describe('storage consuming the real queue', () => {
  const processes: ManagedProcess[] = [];
  afterEach(async () => {
    for (const process of processes.splice(0)) await process.kill9();
  });

  it('stores produced metrics once and commits the consumer offsets', async () => {
    const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'storage-e2e-'));
    const queuePort = await freePort();
    processes.push(await startService('queue', queuePort, ['--data-dir', path.join(directory, 'queue')]));
    const queueUrl = `http://127.0.0.1:${queuePort}`;
    const records = Array.from({ length: 60 }, (_, index) => ({
      key: `client_${index % 7}`,
      value: {
        tenant: 'default',
        client: `client_${index % 7}`,
        metrics: [
          {
            name: 'cpu_usage',
            value: index,
            type: 'gauge',
            tags: { host: `h${index % 7}` },
            timestamp: T + index * 1000,
          },
        ],
      },
    }));
    const produced = await waitFor(
      async () => {
        const response = await fetch(`${queueUrl}/v1/produce`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ topic: 'metrics.inbound', records }),
        });
        return response.ok ? ((await response.json()) as { results: unknown[] }) : undefined;
      },
      20_000,
      'the queue to accept records',
    );
    expect(produced.results).toHaveLength(60);

    const storagePort = await freePort();
    const storageArgs = ['--data-dir', path.join(directory, 'storage'), '--queue-url', queueUrl, '--retention', '0'];
    processes.push(await startService('storage', storagePort, storageArgs));
    const query = async () => {
      const response = await fetch(`http://127.0.0.1:${storagePort}/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ measurement: 'cpu_usage', start: T, end: T + 3_600_000 }),
      });
      return ((await response.json()) as { data_points: { value: number }[] }).data_points;
    };
    const points = await waitFor(
      async () => {
        const found = await query();
        return found.length >= 60 ? found : undefined;
      },
      20_000,
      'the produced metrics in /query',
    );
    expect(points.map((point) => point.value).sort((a, b) => a - b)).toEqual(records.map((_, index) => index));
    await waitFor(async () => (await fetch(`http://127.0.0.1:${storagePort}/readyz`)).ok || undefined);
    // Commits follow the WAL fsync, a moment after the points become visible.
    const committedTotal = async () => {
      const answer = (await fetch(`${queueUrl}/offsets?group=storage-0&topic=metrics.inbound`).then((response) =>
        response.json(),
      )) as { offsets: Record<string, number> };
      return Object.values(answer.offsets).reduce((total, offset) => total + offset, 0);
    };
    await waitFor(async () => ((await committedTotal()) === 60 ? true : undefined), 10_000, 'offsets committed');
  });
});
