/**
 * Query engine benchmark: loads series × 24 h at 10 s into real storage shards (compiled CLI), then times dashboard
 * queries through the query engine, cold (results cache off) and warm (cache on).
 *
 *   npm run bench:query                 # short: 60 series (518k points) on 2 shards
 *   npm run bench:query -- --series 2000
 *   npm run bench:query -- --full       # 12,000 series × 24 h at 10 s ≈ 104M points (long: loading dominates)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { storageRequest } from '../services/query/executor/executor';
import type { SelectStatement } from '../services/query/parser/ast';
import { parse } from '../services/query/parser/parser';
import { planSelect } from '../services/query/planner/planner';
import { startInfluxDb } from '../services/kit/testing/peers';
import { freePort, httpReady, spawnProcess, type ManagedProcess } from '../services/kit/testing/processes';

/** The compiled CLI next to this compiled file (the kit's startService resolves paths from the source tree). */
const cli = path.resolve(__dirname, '../services/cli/metricstream.js');

const startService = (service: string, port: number, args: string[]) =>
  spawnProcess(service, process.execPath, [cli, service, '--port', String(port), ...args], {
    env: { LOG_LEVEL: 'warn' },
    waitUntilReady: httpReady(`http://127.0.0.1:${port}/healthz`),
  });

const STEP_MS = 10_000;
const DAY_MS = 86_400_000;

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

const isFull = process.argv.includes('--full');
const seriesCount = option('series', isFull ? 12_000 : 60);
const shardCount = option('shards', 2);
const repeats = option('repeats', 5);

const hostName = (index: number) => `host-${String(index).padStart(5, '0')}`;

async function post(url: string, body: string): Promise<void> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body });
  if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
}

/** Line protocol, time-ordered per series (storage accepts out-of-order points only within a window). */
async function load(
  shardUrls: string[],
  end: number,
  influxUrl: string | undefined,
): Promise<{ points: number; seconds: number }> {
  const started = process.hrtime.bigint();
  const start = end - DAY_MS;
  const stepsPerBatch = Math.max(1, Math.floor(40_000 / Math.max(1, seriesCount / shardCount)));
  let points = 0;
  for (let time = start; time < end; time += stepsPerBatch * STEP_MS) {
    const bodies = shardUrls.map(() => [] as string[]);
    for (let step = time; step < Math.min(end, time + stepsPerBatch * STEP_MS); step += STEP_MS) {
      for (let series = 0; series < seriesCount; series++) {
        const value = 50 + 30 * Math.sin(step / 3_600_000 + series) + ((series * 7919 + step / STEP_MS) % 10);
        bodies[series % shardUrls.length].push(
          `cpu_usage,host=${hostName(series)},region=r${series % 4} value=${value.toFixed(1)} ${step * 1_000_000}`,
        );
        points++;
      }
    }
    await Promise.all([
      ...shardUrls.map((url, shard) => post(`${url}/write`, bodies[shard].join('\n'))),
      ...(influxUrl ? [post(`${influxUrl}/write?db=bench&precision=ns`, bodies.flat().join('\n'))] : []),
    ]);
  }
  return { points, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

async function timeQuery(queryUrl: string, query: string): Promise<{ ms: number; rows: number }> {
  const started = process.hrtime.bigint();
  const response = await fetch(`${queryUrl}/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  const body = (await response.json()) as { series?: unknown[]; error?: unknown };
  if (!response.ok) throw new Error(`${query}: ${response.status} ${JSON.stringify(body)}`);
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, rows: body.series?.length ?? 0 };
}

/** The same storage calls the engine makes (its plan), sent straight to every shard: the storage share of a query. */
async function timeStorage(shardUrls: string[], query: string, now: number): Promise<number> {
  const plan = planSelect(parse(query) as SelectStatement, {
    now,
    defaultRangeMs: 3_600_000,
    maxPoints: 5_000_000,
    exactPointsLimit: 100_000,
  });
  const started = process.hrtime.bigint();
  await Promise.all(
    plan.sources.flatMap((source) =>
      shardUrls.map(async (url) => {
        const { path: requestPath, body } = storageRequest(plan, source, 'aggregate');
        const response = await fetch(url + requestPath, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        await response.text();
      }),
    ),
  );
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function timeInflux(url: string, query: string): Promise<number> {
  const started = process.hrtime.bigint();
  const response = await fetch(`${url}/query?db=bench&epoch=ms&q=${encodeURIComponent(query)}`);
  const body = (await response.json()) as { results: { error?: string }[] };
  if (!response.ok || body.results[0].error) throw new Error(`influxdb: ${query}: ${JSON.stringify(body)}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main(): Promise<void> {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'bench-query-'));
  const processes: ManagedProcess[] = [];
  try {
    const shardUrls: string[] = [];
    for (let shard = 0; shard < shardCount; shard++) {
      const port = await freePort();
      processes.push(
        await startService('storage', port, [
          '--data-dir',
          path.join(directory, `shard-${shard}`),
          '--fsync',
          'false',
          '--max-points',
          '50000000',
        ]),
      );
      shardUrls.push(`http://127.0.0.1:${port}`);
    }
    const influx = await startInfluxDb(path.join(directory, 'influx'), 'bench');
    if (influx) processes.push(influx);
    const end = Math.floor(Date.now() / STEP_MS) * STEP_MS;
    process.stdout.write(
      `loading ${seriesCount} series × 24 h at 10 s into ${shardCount} storage shards${influx ? ' and InfluxDB' : ''}...\n`,
    );
    const loaded = await load(shardUrls, end, influx?.url);
    process.stdout.write(
      `loaded ${loaded.points.toLocaleString('en')} points in ${loaded.seconds.toFixed(1)} s (${Math.round(loaded.points / loaded.seconds).toLocaleString('en')} points/s)\n`,
    );
    const common = ['--storage-urls', shardUrls.join(','), '--query-timeout', '120s', '--shard-timeout', '120s'];
    const coldPort = await freePort();
    processes.push(await startService('query', coldPort, [...common, '--cache-ttl', '0']));
    const warmPort = await freePort();
    processes.push(await startService('query', warmPort, common));
    const host = hostName(1);
    const queries = [
      [
        '24 h avg by 5 m',
        'SELECT avg(cpu_usage) WHERE time > now() - 24h GROUP BY time(5m)',
        'SELECT mean(value) FROM cpu_usage WHERE time > now() - 24h GROUP BY time(5m)',
      ],
      [
        '24 h avg by 5 m, host',
        'SELECT avg(cpu_usage) WHERE time > now() - 24h GROUP BY time(5m), host',
        'SELECT mean(value) FROM cpu_usage WHERE time > now() - 24h GROUP BY time(5m), host',
      ],
      [
        '24 h p95',
        'SELECT p95(cpu_usage) WHERE time > now() - 24h',
        'SELECT percentile(value, 95) FROM cpu_usage WHERE time > now() - 24h',
      ],
      [
        'one series, 24 h by 5 m',
        `SELECT avg(cpu_usage) WHERE host = '${host}' AND time > now() - 24h GROUP BY time(5m)`,
        `SELECT mean(value) FROM cpu_usage WHERE host = '${host}' AND time > now() - 24h GROUP BY time(5m)`,
      ],
      [
        '1 h max-min by 1 m, region',
        'SELECT max(cpu_usage) - min(cpu_usage) AS spread WHERE time > now() - 1h GROUP BY time(1m), region',
        'SELECT max(value) - min(value) AS spread FROM cpu_usage WHERE time > now() - 1h GROUP BY time(1m), region',
      ],
    ] as const;
    const results: string[] = [];
    for (const [name, query, influxQuery] of queries) {
      // One unmeasured run warms the JIT; the cold process has no results cache, so every run still reaches storage.
      await timeQuery(`http://127.0.0.1:${coldPort}`, query);
      const cold: number[] = [];
      let rows = 0;
      for (let run = 0; run < repeats; run++) {
        const timing = await timeQuery(`http://127.0.0.1:${coldPort}`, query);
        cold.push(timing.ms);
        rows = timing.rows;
      }
      const storage: number[] = [];
      for (let run = 0; run < repeats; run++) storage.push(await timeStorage(shardUrls, query, Date.now()));
      await timeQuery(`http://127.0.0.1:${warmPort}`, query);
      const warm: number[] = [];
      for (let run = 0; run < repeats * 4; run++)
        warm.push((await timeQuery(`http://127.0.0.1:${warmPort}`, query)).ms);
      const peer: number[] = [];
      if (influx) for (let run = 0; run < repeats; run++) peer.push(await timeInflux(influx.url, influxQuery));
      const ratio = influx ? `${median(peer).toFixed(1)} | ${(median(cold) / median(peer)).toFixed(2)}` : '- | -';
      results.push(
        `| ${name} | ${rows} | ${median(cold).toFixed(1)} | ${Math.max(...cold).toFixed(1)} | ${median(storage).toFixed(1)} | ${median(warm).toFixed(2)} | ${ratio} |`,
      );
    }
    process.stdout.write(
      [
        '',
        `query engine, ${loaded.points.toLocaleString('en')} points (${seriesCount} series × 24 h at 10 s) on ${shardCount} real storage shards, ${os.cpus().length} cores, Node ${process.version}`,
        '',
        '| query | rows | cold median ms | cold max ms | storage alone median ms | warm (cached) median ms | InfluxDB 1.x median ms | cold / InfluxDB |',
        '| --- | --- | --- | --- | --- | --- | --- | --- |',
        ...results,
        '',
      ].join('\n'),
    );
  } finally {
    await Promise.all(processes.map((managed) => managed.stop()));
    rmSync(directory, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
