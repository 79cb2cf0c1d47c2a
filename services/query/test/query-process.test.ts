import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, startService, waitFor, type ManagedProcess } from '../../kit/testing/processes';
import { startStorageDouble, type StorageDouble, type StoredPoint } from '../testing/storage-double';

/**
 * The compiled query engine as its own process (run `npx tsc -p tsconfig.json` first), against two storage doubles
 * in this process: shards-file reload, merging in worker threads, clean shutdown.
 */
describe('query engine process', () => {
  const now = Date.now();
  const points = (count: number, host: string): StoredPoint[] =>
    Array.from({ length: count }, (_, index) => ({
      measurement: 'cpu_usage',
      tags: { host },
      fields: { value: index % 100 },
      timestamp: now - 30 * 60_000 + index * 1000,
    }));
  let shards: StorageDouble[];
  let query: ManagedProcess;
  let base: string;
  let directory: string;
  let shardsFile: string;

  beforeAll(async () => {
    shards = [await startStorageDouble(points(600, 'a')), await startStorageDouble(points(900, 'b'))];
    directory = mkdtempSync(path.join(os.tmpdir(), 'query-'));
    shardsFile = path.join(directory, 'shards.json');
    writeFileSync(shardsFile, JSON.stringify({ shards: [shards[0].url] }));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    query = await startService('query', port, [
      '--shards-file',
      shardsFile,
      '--shards-poll-interval',
      '100ms',
      '--merge-workers',
      '1',
      '--worker-threshold-bytes',
      '0',
      '--cache-ttl',
      '0',
    ]);
  });

  afterAll(async () => {
    await query?.kill9();
    await Promise.all(shards.map((shard) => shard.close()));
    rmSync(directory, { recursive: true, force: true });
  });

  const ask = async (text: string) => {
    const response = await fetch(`${base}/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: text }),
    });
    return (await response.json()) as { series: Record<string, number | string>[] };
  };

  it('merges in a worker thread and follows the shards file when it changes', async () => {
    expect((await ask('SELECT count(cpu_usage), max(cpu_usage) WHERE time > now() - 1h')).series).toEqual([
      expect.objectContaining({ count: 600, max: 99 }),
    ]);
    writeFileSync(shardsFile, JSON.stringify({ shards: shards.map((shard) => shard.url) }));
    await waitFor(async () =>
      (await ask('SELECT count(cpu_usage) WHERE time > now() - 1h')).series[0]?.count === 1500 ? true : undefined,
    );
    const grouped = await ask('SELECT count(cpu_usage), p50(cpu_usage) WHERE time > now() - 1h GROUP BY host');
    expect(grouped.series.map(({ host, count, p50 }) => ({ host, count, p50 }))).toEqual([
      { host: 'a', count: 600, p50: 49 },
      { host: 'b', count: 900, p50: 49 },
    ]);
  });

  it('keeps the previous shards when the file turns bad', async () => {
    writeFileSync(shardsFile, '{"shards": 12}');
    await new Promise((resolve) => setTimeout(resolve, 400));
    const answer = await (await fetch(`${base}/v1/shards`)).json();
    expect(answer).toEqual({ shards: shards.map((shard) => shard.url) });
  });

  it('stops cleanly on SIGTERM', async () => {
    expect(await query.stop()).toBe(0);
  });
});
