import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { seededRandom } from '../../kit/clock';
import { freePort, startService, type ManagedProcess } from '../../kit/testing/processes';
import { QueryEngine } from '../engine';
import { Executor } from '../executor/executor';
import type { SelectStatement } from '../parser/ast';
import { parse } from '../parser/parser';
import { print } from '../parser/printer';
import { bruteForce } from '../testing/oracle';
import { expectRowsClose, generatePoints, randomStatement } from '../testing/random-queries';
import type { StoredPoint } from '../testing/storage-double';

/**
 * Real storage processes (compiled CLI): the same data on one shard and split over two shards must give the same
 * answers, and both must match the brute-force oracle.
 */
describe('query engine over real storage shards', () => {
  const NOW = Math.floor(Date.now() / 60_000) * 60_000;
  const PLANNER = { defaultRangeMs: 3_600_000, maxPoints: 1_000_000, exactPointsLimit: 1_000_000 };
  const random = seededRandom(Number(process.env.QUERY_SEED ?? 424242));
  const points = generatePoints(random, 1200, NOW);
  const directory = mkdtempSync(path.join(os.tmpdir(), 'query-real-'));
  let storages: ManagedProcess[] = [];
  let urls: string[] = [];

  const write = async (url: string, batch: StoredPoint[]) => {
    const response = await fetch(`${url}/write`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        points: batch.map(({ measurement, tags, fields, timestamp }) => ({ measurement, tags, fields, timestamp })),
      }),
    });
    expect(response.status).toBe(200);
  };

  beforeAll(async () => {
    for (const name of ['whole', 'left', 'right']) {
      const port = await freePort();
      storages.push(
        await startService('storage', port, [
          '--data-dir',
          path.join(directory, name),
          '--fsync',
          'false',
          '--maintenance-interval',
          '1s',
        ]),
      );
      urls.push(`http://127.0.0.1:${port}`);
    }
    const split = seededRandom(11);
    const left: StoredPoint[] = [];
    const right: StoredPoint[] = [];
    for (const point of points) (split() < 0.5 ? left : right).push(point);
    await Promise.all([write(urls[0], points), write(urls[1], left), write(urls[2], right)]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(storages.map((storage) => storage.stop()));
    storages = [];
    urls = [];
    rmSync(directory, { recursive: true, force: true });
  });

  const engineOver = (shards: string[]) =>
    new QueryEngine({
      clock: { now: () => NOW },
      executor: new Executor({
        shards: () => shards,
        shardTimeoutMs: 10_000,
        limits: { maxSeries: 10_000, maxPoints: 1_000_000 },
        workerThresholdBytes: Infinity,
      }),
      shardCount: () => shards.length,
      planner: PLANNER,
      queryTimeoutMs: 20_000,
      maxResponseBytes: 10 * 1024 * 1024,
      cacheTtlMs: 0,
    });

  it('answers random queries the same on one shard, on two shards and in the oracle', async () => {
    const single = engineOver([urls[0]]);
    const sharded = engineOver([urls[1], urls[2]]);
    const run = async (engine: QueryEngine, query: string) =>
      JSON.parse((await engine.run({ query, allowPartial: false, signal: new AbortController().signal })).body).series;
    for (let iteration = 0; iteration < 60; iteration++) {
      const query = print(randomStatement(random));
      const expected = bruteForce(parse(query) as SelectStatement, points, { ...PLANNER, now: NOW });
      const context = `query ${iteration}: ${query}`;
      expectRowsClose(await run(single, query), expected, 1e-9, context);
      expectRowsClose(await run(sharded, query), expected, 1e-9, context);
    }
  }, 60_000);
});
