/**
 * Storage engine benchmark (issue 4): a deterministic dataset of CPU-like gauges (1,000 series, one point every 10 s
 * for 24 h, random walk rounded to one decimal; `--full`: 2,000 series over 3 days). Prints the ingest rate through
 * the batch write path (in process and over HTTP), bytes per point on disk after compaction, the latency of a 24 h raw
 * query for one series and of a 24 h 5 m aggregation over all series, and peak RSS.
 * `npm run bench:storage [-- --full]`; with `--peer-vm URL` also loads the same data into a running VictoriaMetrics.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { seededRandom } from '../services/kit/clock';
import { createLogger } from '../services/kit/logger';
import { freePort } from '../services/kit/testing/processes';
import { defaultBlockLayout } from '../services/storage/block/builder';
import { Engine } from '../services/storage/engine/engine';
import { tagIndexCodec } from '../services/storage/engine/index-codec';
import { storageService } from '../services/storage/main';
import { sizeOfTree } from '../services/storage/fileutil/fileutil';
import type { Point } from '../services/storage/series/series';

const isFull = process.argv.includes('--full');
const peerIndex = process.argv.indexOf('--peer-vm');
const victoriaUrl = peerIndex >= 0 ? process.argv[peerIndex + 1] : undefined;
const peerDataIndex = process.argv.indexOf('--peer-vm-data');
const victoriaData = peerDataIndex >= 0 ? process.argv[peerDataIndex + 1] : undefined;
const SERIES = isFull ? 2000 : 1000;
const DAYS = isFull ? 3 : 1;
const INTERVAL_MS = 10_000;
const START_MS = Date.UTC(2026, 0, 1);
const END_MS = START_MS + DAYS * 86_400_000;
const TIMESTAMPS_PER_BATCH = 10;
const HOUR = 3_600_000;

/** The same gauge model as bench/storage-codec.ts: a mean-reverting walk in [0, 100] with rare bursts, 0.1 steps. */
class Gauges {
  private readonly levels: Float64Array;
  private readonly baselines: Float64Array;
  private readonly random = seededRandom(20261126);
  readonly tags: [string, string][][];

  constructor(count: number) {
    this.levels = new Float64Array(count);
    this.baselines = new Float64Array(count);
    this.tags = [];
    for (let index = 0; index < count; index++) {
      this.baselines[index] = 5 + this.random() * 60;
      this.levels[index] = this.baselines[index];
      this.tags.push([
        ['host', `host-${String(index).padStart(4, '0')}`],
        ['region', `region-${index % 4}`],
      ]);
    }
  }

  next(index: number): number {
    const burst = this.random() < 0.002 ? (this.random() - 0.3) * 40 : 0;
    let level =
      this.levels[index] + (this.random() - 0.5) * 0.25 + (this.baselines[index] - this.levels[index]) * 0.01 + burst;
    level = Math.min(100, Math.max(0, level));
    this.levels[index] = level;
    return Math.round(level * 10) / 10;
  }
}

/** Batches of every series at TIMESTAMPS_PER_BATCH consecutive timestamps, in time order. */
function* batches(from: number, to: number): Generator<Point[]> {
  const gauges = new Gauges(SERIES);
  for (let start = START_MS; start < to; start += INTERVAL_MS * TIMESTAMPS_PER_BATCH) {
    const points: Point[] = [];
    for (let time = start; time < Math.min(to, start + INTERVAL_MS * TIMESTAMPS_PER_BATCH); time += INTERVAL_MS)
      for (let index = 0; index < SERIES; index++) {
        const value = gauges.next(index);
        if (time >= from)
          points.push({ measurement: 'cpu', tags: gauges.tags[index], fields: [['value', value]], timestamp: time });
      }
    if (points.length > 0) yield points;
  }
}

const logger = createLogger('bench', 'warn');
const format = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function openEngine(directory: string): Promise<Engine> {
  return Engine.open({
    directory,
    blockRangeMs: 2 * HOUR,
    compactionRangesMs: [6 * HOUR, 24 * HOUR],
    retentionMs: 0,
    outOfOrderWindowMs: 10 * 60_000,
    walSegmentBytes: 64 * 1024 * 1024,
    isSyncing: true,
    layout: defaultBlockLayout,
    indexCodec: tagIndexCodec,
    createIndex: () => tagIndexCodec.create(),
    clock: { now: () => END_MS },
    random: seededRandom(1),
    logger,
  });
}

/** Wall time and this process's CPU time (user + system): on a shared, loaded machine the CPU time is the steadier. */
async function timeIt<T>(action: () => Promise<T>): Promise<{ ms: number; cpuMs: number; result: T }> {
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const result = await action();
  const used = process.cpuUsage(cpu);
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, cpuMs: (used.user + used.system) / 1000, result };
}

/** Median wall and CPU milliseconds, as "wall ms (cpu ms)". */
async function median(runs: number, action: () => Promise<unknown>): Promise<string> {
  const times: { ms: number; cpuMs: number }[] = [];
  for (let run = 0; run < runs; run++) times.push(await timeIt(action));
  const middle = Math.floor(runs / 2);
  const wall = times.map((time) => time.ms).sort((a, b) => a - b)[middle];
  const cpu = times.map((time) => time.cpuMs).sort((a, b) => a - b)[middle];
  return `${format(wall, 1)} ms (CPU ${format(cpu, 1)} ms)`;
}

async function directorySizes(directory: string): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for (const block of await fs.readdir(directory)) {
    for (const file of await fs.readdir(path.join(directory, block))) {
      const stat = await fs.stat(path.join(directory, block, file));
      sizes.set(file, (sizes.get(file) ?? 0) + stat.size);
    }
  }
  return sizes;
}

async function benchEngine(): Promise<void> {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-storage-'));
  const engine = await openEngine(directory);
  let points = 0;
  let writeMs = 0;
  const wallStarted = Date.now();
  const cpuStarted = process.cpuUsage();
  for (const batch of batches(START_MS, END_MS)) {
    const { ms, result } = await timeIt(() => engine.write('default', batch));
    writeMs += ms;
    points += result.written;
  }
  const wallMs = Date.now() - wallStarted;
  const cpuUsed = process.cpuUsage(cpuStarted);
  const cpuMs = (cpuUsed.user + cpuUsed.system) / 1000;
  const persist = await timeIt(async () => {
    await engine.persistHead();
    await engine.maintain();
  });
  console.log(`dataset: ${format(SERIES)} series × ${DAYS * 24} h every 10 s = ${format(points)} points`);
  console.log(
    `ingest (in process, engine.write, ${format(SERIES * TIMESTAMPS_PER_BATCH)} points per batch, WAL fsync per batch):`,
  );
  console.log(
    `  ${format(points / (writeMs / 1000))} points/s in write calls; ${format(points / (wallMs / 1000))} points/s including generation and background head cuts`,
  );
  console.log(
    `  per CPU second (generation, writes, WAL, head cuts; both cores): ${format(points / (cpuMs / 1000))} points/s`,
  );
  console.log(
    `  final head cut + compaction: ${format(persist.ms)} ms; blocks: ${engine.blockMetas.map((meta) => `${(meta.maxTime - meta.minTime) / HOUR}h`).join(', ')}`,
  );

  const sizes = await directorySizes(path.join(directory, 'blocks'));
  const total = [...sizes.values()].reduce((a, b) => a + b, 0);
  const chunks = sizes.get('chunks') ?? 0;
  console.log('bytes on disk after compaction:');
  console.log(
    `  all block files: ${format(total)} B = ${format(total / points, 3)} B/point (${format(16 / (total / points), 1)}:1 vs 16 B)`,
  );
  console.log(
    `  samples only (chunks file): ${format(chunks)} B = ${format(chunks / points, 3)} B/point (${format(16 / (chunks / points), 1)}:1)`,
  );
  console.log(
    `  by file: ${[...sizes].map(([file, size]) => `${file} ${format(size / points, 3)}`).join(', ')} B/point`,
  );

  const oneSeries = {
    measurement: 'cpu',
    field: 'value',
    matchers: [{ key: 'host', op: '=' as const, value: 'host-0042' }],
  };
  const all = { measurement: 'cpu', field: 'value', matchers: [] };
  const dayStart = END_MS - 86_400_000;
  const cold = await timeIt(() => engine.query('default', oneSeries, dayStart, END_MS - 1));
  const raw = await median(9, () => engine.query('default', oneSeries, dayStart, END_MS - 1));
  console.log('queries (in process, median of 9 after a cold first run that loads the block lazily):');
  console.log(
    `  24 h raw, one series (${format(cold.result[0].samples.timestamps.length)} points): ${raw} (cold ${format(cold.ms, 1)} ms)`,
  );
  const spec = {
    start: dayStart,
    end: END_MS,
    windowMs: 300_000,
    offsetMs: 0,
    groupBy: [] as string[],
    hasSketch: false,
  };
  const aggregate = await engine.aggregate('default', all, spec);
  const noGroup = await median(5, () => engine.aggregate('default', all, spec));
  const byHost = await median(3, () => engine.aggregate('default', all, { ...spec, groupBy: ['host'] }));
  const withSketch = await median(3, () => engine.aggregate('default', all, { ...spec, hasSketch: true }));
  const { stats } = aggregate;
  console.log(
    `  24 h 5 m aggregate over all ${format(SERIES)} series (${format(aggregate.groups[0].windows.length)} windows; ${format(stats.rollupRows)} rollup rows, ${format(stats.chunkSummaries)} chunk summaries, ${format(stats.decodedSamples)} decoded samples):`,
  );
  console.log(`    no grouping ${noGroup}; grouped by host ${byHost}; with sketches ${withSketch}`);
  const rawScan = await median(3, () => engine.aggregate('default', all, { ...spec, windowMs: 420_000 }));
  console.log(`    for contrast, 7 m windows (no rollup tier fits, so chunks are decoded): ${rawScan}`);
  await engine.close();
  await fs.rm(directory, { recursive: true, force: true });
}

async function benchHttp(): Promise<void> {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-storage-http-'));
  const port = await freePort();
  const service = await storageService.start(
    {
      host: '127.0.0.1',
      logLevel: 'warn',
      port,
      dataDir: directory,
      queueUrl: '',
      shardIndex: 0,
      shardCount: 1,
      topic: 'metrics.inbound',
      consumeBatch: 500,
      blockRange: 2 * HOUR,
      retention: 0,
      outOfOrderWindow: 600_000,
      maxPoints: 1_000_000,
      fsync: true,
      walSegmentBytes: 64 * 1024 * 1024,
      samplesPerChunk: 1024,
      maintenanceInterval: 60_000,
      maxBodyBytes: 64 * 1024 * 1024,
    },
    logger,
  );
  const bodies: string[] = [];
  const lineBodies: string[] = [];
  let points = 0;
  for (const batch of batches(START_MS, START_MS + 2 * HOUR)) {
    points += batch.length;
    bodies.push(
      JSON.stringify(
        batch.map((point) => ({
          measurement: point.measurement,
          tags: Object.fromEntries(point.tags),
          fields: { value: point.fields[0][1] },
          timestamp: point.timestamp + HOUR * 2,
        })),
      ),
    );
    lineBodies.push(
      batch
        .map(
          (point) =>
            `cpu,${point.tags.map(([key, value]) => `${key}=${value}`).join(',')} value=${point.fields[0][1]} ${point.timestamp + HOUR * 4}`,
        )
        .join('\n'),
    );
  }
  const send = async (list: string[], contentType: string, query = '') => {
    let next = 0;
    const worker = async () => {
      while (next < list.length) {
        const body = list[next++];
        const response = await fetch(`http://127.0.0.1:${port}/write${query}`, {
          method: 'POST',
          headers: { 'content-type': contentType },
          body,
        });
        if (!response.ok) throw new Error(`write failed: ${response.status} ${await response.text()}`);
        await response.arrayBuffer();
      }
    };
    return timeIt(() => Promise.all([worker(), worker(), worker(), worker()]));
  };
  const json = await send(bodies, 'application/json');
  const lines = await send(lineBodies, 'text/plain', '?precision=ms');
  console.log(
    `ingest over HTTP (POST /write, ${format(SERIES * TIMESTAMPS_PER_BATCH)} points per request, 4 connections, ${format(points)} points each):`,
  );
  console.log(
    `  JSON array: ${format(points / (json.ms / 1000))} points/s; line protocol: ${format(points / (lines.ms / 1000))} points/s`,
  );
  const query = await median(5, async () => {
    const response = await fetch(`http://127.0.0.1:${port}/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        measurement: 'cpu',
        start: START_MS,
        end: START_MS + 6 * HOUR,
        filters: { host: 'host-0042' },
      }),
    });
    await response.arrayBuffer();
  });
  console.log(`  POST /query, one series, 2 h of data over HTTP: ${query}`);
  await service.close();
  await fs.rm(directory, { recursive: true, force: true });
}

/** Loads the same dataset into VictoriaMetrics (its /api/v1/import/prometheus), then measures its on-disk size. */
async function benchVictoria(url: string): Promise<void> {
  let points = 0;
  const started = Date.now();
  for (const batch of batches(START_MS, END_MS)) {
    const text = batch
      .map(
        (point) =>
          `cpu{${point.tags.map(([key, value]) => `${key}="${value}"`).join(',')}} ${point.fields[0][1]} ${point.timestamp}`,
      )
      .join('\n');
    const response = await fetch(`${url}/api/v1/import/prometheus`, { method: 'POST', body: text });
    if (!response.ok) throw new Error(`VictoriaMetrics import failed: ${response.status}`);
    points += batch.length;
  }
  const ms = Date.now() - started;
  console.log(
    `VictoriaMetrics: imported ${format(points)} points at ${format(points / (ms / 1000))} points/s (text import over HTTP)`,
  );
  if (victoriaData === undefined) return;
  await fetch(`${url}/internal/force_flush`);
  await new Promise((resolve) => setTimeout(resolve, 5000));
  await fetch(`${url}/internal/force_merge`);
  await new Promise((resolve) => setTimeout(resolve, 20000));
  const bytes = await sizeOfTree(victoriaData);
  console.log(
    `VictoriaMetrics on disk after flush and merge: ${format(bytes)} B = ${format(bytes / points, 3)} B/point`,
  );
  const seconds = (ms: number) => String(Math.floor(ms / 1000));
  const aggregate = await median(5, async () => {
    const range = new URLSearchParams({
      query: 'avg(cpu)',
      start: seconds(END_MS - 86_400_000),
      end: seconds(END_MS - 1),
      step: '300',
    });
    await (await fetch(`${url}/api/v1/query_range?${range}`)).arrayBuffer();
  });
  console.log(`VictoriaMetrics 24 h avg over all series in 5 m steps (query_range, over HTTP): ${aggregate}`);
  const raw = await median(5, async () => {
    const params = new URLSearchParams({
      'match[]': 'cpu{host="host-0042"}',
      start: seconds(END_MS - 86_400_000),
      end: seconds(END_MS),
    });
    await (await fetch(`${url}/api/v1/export?${params}`)).arrayBuffer();
  });
  console.log(`VictoriaMetrics 24 h raw export of one series (over HTTP): ${raw}`);
}

async function main(): Promise<void> {
  console.log(
    `storage benchmark (${isFull ? 'full' : 'short'}), ${os.cpus().length} cores, node ${process.version}, ${new Date().toISOString()}`,
  );
  await benchEngine();
  await benchHttp();
  if (victoriaUrl) await benchVictoria(victoriaUrl);
  console.log(`peak RSS: ${format(process.resourceUsage().maxRSS / 1024)} MiB`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
