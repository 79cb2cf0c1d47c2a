/**
 * Storage engine benchmark (issue 4): a deterministic dataset of CPU-like gauges (1,000 series, one point every 10 s
 * for 24 h, random walk rounded to one decimal; `--full`: 2,000 series over 3 days), loaded in the same run into a
 * MetricStream storage process (the compiled CLI), VictoriaMetrics and InfluxDB 1.x (kit/testing/peers.ts), one after
 * the other, over HTTP, 10,000 points per request, 4 connections. Side by side: ingest points/s (wall, and per CPU
 * second of the server process), bytes per point on disk after compaction, a 24 h raw query of one series, a 24 h 5 m
 * average over all series, and each process's peak RSS (VmHWM). Before that, MetricStream's own ingest paths: the
 * engine in process, and POST /write with a JSON array and with line protocol.
 * `npm run bench:storage [-- --full] [--only metricstream|victoriametrics|influxdb] [--cpu-prof-dir <dir>]`: `--only`
 * measures one system and skips the rest, `--cpu-prof-dir` profiles the storage process (`node --cpu-prof`).
 */
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { seededRandom } from '../services/kit/clock';
import { createLogger } from '../services/kit/logger';
import { startInfluxDb, startVictoriaMetrics, type RunningPeer } from '../services/kit/testing/peers';
import {
  cliPath,
  freePort,
  httpReady,
  spawnProcess,
  startService,
  type ManagedProcess,
} from '../services/kit/testing/processes';
import { defaultBlockLayout } from '../services/storage/block/builder';
import { Engine } from '../services/storage/engine/engine';
import { tagIndexCodec } from '../services/storage/engine/index-codec';
import { sizeOfTree } from '../services/storage/fileutil/fileutil';
import { storageService } from '../services/storage/main';
import type { Point } from '../services/storage/series/series';

const isFull = process.argv.includes('--full');
const onlyArgument = process.argv.indexOf('--only');
/** Lower-case name of the one system to measure (`--only <name>`), or undefined for all of them. */
const only = onlyArgument >= 0 ? process.argv[onlyArgument + 1]?.toLowerCase() : undefined;
const isMeasured = (name: string) => only === undefined || only === name.toLowerCase();
if (only !== undefined && !['metricstream', 'victoriametrics', 'influxdb'].includes(only)) {
  console.error(`--only takes metricstream, victoriametrics or influxdb, not ${only}`);
  process.exit(2);
}
const profileArgument = process.argv.indexOf('--cpu-prof-dir');
/** `--cpu-prof-dir <dir>`: the storage process runs under `node --cpu-prof` and writes its profiles there. */
const profileDirectory = profileArgument >= 0 ? process.argv[profileArgument + 1] : undefined;
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

/** Median wall milliseconds of `runs` runs. */
async function medianMs(runs: number, action: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let run = 0; run < runs; run++) times.push((await timeIt(action)).ms);
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)];
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

/** Peak resident set (VmHWM) of a process, in bytes. */
function peakRss(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : NaN;
}

/** User + system CPU seconds a process has used (/proc/<pid>/stat, in clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function benchEngine(): Promise<void> {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-storage-'));
  const engine = await openEngine(directory);
  const until = START_MS + 6 * HOUR;
  let points = 0;
  let writeMs = 0;
  const cpuStarted = process.cpuUsage();
  for (const batch of batches(START_MS, until)) {
    const { ms, result } = await timeIt(() => engine.write('default', batch));
    writeMs += ms;
    points += result.written;
  }
  const cpuUsed = process.cpuUsage(cpuStarted);
  const cpuMs = (cpuUsed.user + cpuUsed.system) / 1000;
  console.log(
    `ingest in process (engine.write, ${format(SERIES * TIMESTAMPS_PER_BATCH)} points per batch, WAL fsync per batch, first 6 h = ${format(points)} points):`,
  );
  console.log(
    `  ${format(points / (writeMs / 1000))} points/s in write calls; ${format(points / (cpuMs / 1000))} points per CPU second (generation, writes, WAL, head cuts)`,
  );
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
      blockCacheBytes: 512 * 1024 * 1024,
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
  let next = 0;
  const pending = (list: string[]) => () => (next < list.length ? list[next++] : undefined);
  next = 0;
  const json = await load(`http://127.0.0.1:${port}/write`, 'application/json', pending(bodies));
  next = 0;
  const lines = await load(`http://127.0.0.1:${port}/write?precision=ms`, 'text/plain', pending(lineBodies));
  console.log(
    `ingest over HTTP in this process (POST /write, ${format(SERIES * TIMESTAMPS_PER_BATCH)} points per request, 4 connections, ${format(points)} points each):`,
  );
  console.log(
    `  JSON array: ${format(points / (json.ms / 1000))} points/s (${format(points / (json.cpuMs / 1000))} per CPU second, client included); line protocol: ${format(points / (lines.ms / 1000))} points/s (${format(points / (lines.cpuMs / 1000))} per CPU second)`,
  );
  await service.close();
  await fs.rm(directory, { recursive: true, force: true });
}

/** POSTs every body `nextBody` hands out, over 4 connections; wall and this process's CPU time. */
function load(url: string, contentType: string, nextBody: () => string | undefined) {
  const worker = async () => {
    for (let body = nextBody(); body !== undefined; body = nextBody()) {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });
      if (!response.ok) throw new Error(`${url} answered ${response.status}: ${await response.text()}`);
      await response.arrayBuffer();
    }
  };
  return timeIt(() => Promise.all([worker(), worker(), worker(), worker()]));
}

/** The whole dataset as request bodies in one text format, made lazily (the values are generated once). */
class Dataset {
  readonly timestamps: number;
  /** Tenths (the gauges are rounded to one decimal): 2 bytes a point, and tenths / 10 is the exact same float64. */
  private readonly tenths: Int16Array;
  readonly tags: [string, string][][];

  constructor() {
    this.timestamps = (END_MS - START_MS) / INTERVAL_MS;
    this.tenths = new Int16Array(this.timestamps * SERIES);
    const gauges = new Gauges(SERIES);
    this.tags = gauges.tags;
    for (let time = 0; time < this.timestamps; time++)
      for (let index = 0; index < SERIES; index++)
        this.tenths[time * SERIES + index] = Math.round(gauges.next(index) * 10);
  }

  get points(): number {
    return this.tenths.length;
  }

  /** A body maker handing out batches of every series at TIMESTAMPS_PER_BATCH timestamps, in time order. */
  bodies(
    line: (tags: string[], value: number, timestamp: number) => string,
    tagText: (key: string, value: string) => string,
  ) {
    const prefixes = this.tags.map((tags) => tags.map(([key, value]) => tagText(key, value)));
    let time = 0;
    return (): string | undefined => {
      if (time >= this.timestamps) return undefined;
      const lines: string[] = [];
      for (const until = Math.min(this.timestamps, time + TIMESTAMPS_PER_BATCH); time < until; time++)
        for (let index = 0; index < SERIES; index++)
          lines.push(line(prefixes[index], this.tenths[time * SERIES + index] / 10, START_MS + time * INTERVAL_MS));
      return lines.join('\n');
    };
  }
}

/** One system under test: how to load it, measure its disk after compaction, and query it. */
interface Contender {
  name: string;
  process: () => ManagedProcess;
  load: (dataset: Dataset) => ReturnType<typeof load>;
  /** Bytes on disk after compaction, and how that was measured. */
  compact: () => Promise<{ bytes: number; how: string }>;
  rawQuery: () => Promise<number>;
  aggregateQuery: () => Promise<number>;
}

interface Figures {
  name: string;
  pointsPerSecond: number;
  pointsPerCpuSecond: number;
  bytesPerPoint: number;
  how: string;
  rawMs: number;
  aggregateMs: number;
  peakRss: number;
}

const DAY_START = END_MS - 86_400_000;

async function expectOk(response: Response, what: string): Promise<number> {
  if (!response.ok) throw new Error(`${what} answered ${response.status}: ${await response.text()}`);
  return (await response.arrayBuffer()).byteLength;
}

/** Polls `measure` every second until it gives the same answer `stableFor` times in a row, at most `timeoutMs`. */
async function settled(measure: () => Promise<number>, stableFor: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = await measure();
  let same = 0;
  while (same < stableFor && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const now = await measure();
    same = now === last ? same + 1 : 0;
    last = now;
  }
  return last;
}

async function measure(contender: Contender, dataset: Dataset): Promise<Figures> {
  const pid = contender.process().child.pid!;
  const cpuBefore = cpuSeconds(pid);
  const loaded = await contender.load(dataset);
  const serverCpu = cpuSeconds(pid) - cpuBefore;
  console.log(`  ${contender.name}: loaded ${format(dataset.points)} points in ${format(loaded.ms / 1000, 1)} s`);
  let peak = peakRss(pid);
  const { bytes, how } = await contender.compact();
  const afterPid = contender.process().child.pid!;
  await contender.rawQuery();
  await contender.aggregateQuery();
  const rawMs = await medianMs(9, contender.rawQuery);
  const aggregateMs = await medianMs(5, contender.aggregateQuery);
  peak = Math.max(peak, peakRss(afterPid));
  return {
    name: contender.name,
    pointsPerSecond: dataset.points / (loaded.ms / 1000),
    pointsPerCpuSecond: dataset.points / serverCpu,
    bytesPerPoint: bytes / dataset.points,
    how,
    rawMs,
    aggregateMs,
    peakRss: peak,
  };
}

const promLine = (tags: string[], value: number, timestamp: number) => `cpu{${tags.join(',')}} ${value} ${timestamp}`;
const influxLine = (tags: string[], value: number, timestamp: number) =>
  `cpu,${tags.join(',')} value=${value} ${timestamp}`;
const influxTag = (key: string, value: string) => `${key}=${value}`;

async function metricStream(directory: string): Promise<{ contender: Contender; stop: () => Promise<unknown> }> {
  const port = await freePort();
  const dataDir = path.join(directory, 'data');
  const args = ['--data-dir', dataDir, '--block-range', '2h', '--retention', '0', '--log-level', 'warn'];
  const url = `http://127.0.0.1:${port}`;
  let running = await (profileDirectory === undefined
    ? startService('storage', port, args)
    : spawnProcess(
        'storage',
        process.execPath,
        ['--cpu-prof', '--cpu-prof-dir', profileDirectory, cliPath, 'storage', '--port', String(port), ...args],
        { env: { LOG_LEVEL: 'warn' }, waitUntilReady: httpReady(`${url}/healthz`) },
      ));
  const contender: Contender = {
    name: 'MetricStream',
    process: () => running,
    load: (dataset) => load(`${url}/write?precision=ms`, 'text/plain', dataset.bodies(influxLine, influxTag)),
    async compact() {
      // The head (the last 1.5 block ranges) lives in the WAL; persist it and compact as a later maintenance would.
      await running.stop();
      const engine = await openEngine(dataDir);
      await engine.persistHead();
      await engine.close();
      const sizes = await directorySizes(path.join(dataDir, 'blocks'));
      const total = [...sizes.values()].reduce((a, b) => a + b, 0);
      const wal = await sizeOfTree(path.join(dataDir, 'wal'));
      running = await running.restart();
      const byFile = [...sizes].map(([file, size]) => `${file} ${format(size, 0)}`).join(', ');
      return {
        bytes: total + wal,
        how: `blocks + WAL after the head is persisted and blocks compacted to 24 h (${byFile} B; WAL ${format(wal)} B)`,
      };
    },
    rawQuery: async () =>
      expectOk(
        await fetch(`${url}/query`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            measurement: 'cpu',
            start: DAY_START,
            end: END_MS - 1,
            filters: { host: 'host-0042' },
          }),
        }),
        'storage /query',
      ),
    aggregateQuery: async () =>
      expectOk(
        await fetch(`${url}/v1/aggregate`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            measurement: 'cpu',
            field: 'value',
            start: DAY_START,
            end: END_MS,
            filters: [],
            window_ms: 300_000,
            group_by: [],
            aggregates: ['count', 'sum'],
          }),
        }),
        'storage /v1/aggregate',
      ),
  };
  return { contender, stop: () => running.stop() };
}

const seconds = (ms: number) => String(Math.floor(ms / 1000));

function victoriaMetrics(peer: RunningPeer): Contender {
  return {
    name: 'VictoriaMetrics',
    process: () => peer,
    load: (dataset) =>
      load(
        `${peer.url}/api/v1/import/prometheus`,
        'text/plain',
        dataset.bodies(promLine, (key, value) => `${key}="${value}"`),
      ),
    async compact() {
      await expectOk(await fetch(`${peer.url}/internal/force_flush`), 'force_flush');
      await expectOk(await fetch(`${peer.url}/internal/force_merge`), 'force_merge');
      const bytes = await settled(() => sizeOfTree(peer.dataDirectory), 5, 120_000);
      return {
        bytes,
        how: 'whole -storageDataPath after /internal/force_flush and /internal/force_merge, once its size is stable for 5 s',
      };
    },
    rawQuery: async () =>
      expectOk(
        await fetch(
          `${peer.url}/api/v1/export?${new URLSearchParams({ 'match[]': 'cpu{host="host-0042"}', start: seconds(DAY_START), end: seconds(END_MS - 1) })}`,
        ),
        'VictoriaMetrics export',
      ),
    aggregateQuery: async () =>
      expectOk(
        await fetch(
          `${peer.url}/api/v1/query_range?${new URLSearchParams({ query: 'avg(avg_over_time(cpu[5m]))', start: seconds(DAY_START + 300_000), end: seconds(END_MS), step: '300', nocache: '1' })}`,
        ),
        'VictoriaMetrics query_range',
      ),
  };
}

async function influxFiles(directory: string, pattern: RegExp): Promise<{ bytes: number; count: number }> {
  let bytes = 0;
  let count = 0;
  const walk = async (current: string): Promise<void> => {
    for (const entry of await fs.readdir(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (pattern.test(entry.name)) {
        bytes += (await fs.stat(full)).size;
        count++;
      }
    }
  };
  await walk(directory);
  return { bytes, count };
}

function influxDb(peer: RunningPeer): Contender {
  const query = (q: string) => fetch(`${peer.url}/query?${new URLSearchParams({ db: 'bench', epoch: 'ms', q })}`);
  const range = `time >= ${DAY_START}ms AND time < ${END_MS}ms`;
  return {
    name: 'InfluxDB',
    process: () => peer,
    load: (dataset) =>
      load(`${peer.url}/write?db=bench&precision=ms`, 'text/plain', dataset.bodies(influxLine, influxTag)),
    async compact() {
      // Started with cold durations of 1 s: the cache is snapshotted to TSM and the shard fully compacted once idle.
      const dataDirectory = path.join(peer.dataDirectory, 'data');
      const settle = async () => {
        const tsm = await influxFiles(dataDirectory, /\.tsm$/);
        const wal = await influxFiles(path.join(peer.dataDirectory, 'wal'), /\.wal$/);
        return tsm.bytes * 1000 + tsm.count + wal.bytes;
      };
      await settled(settle, 5, 180_000);
      const tsm = await influxFiles(dataDirectory, /\.tsm$/);
      const wal = await influxFiles(path.join(peer.dataDirectory, 'wal'), /\.wal$/);
      const all = await sizeOfTree(peer.dataDirectory);
      return {
        bytes: tsm.bytes + wal.bytes,
        how: `the shards' .tsm files (${tsm.count}) + .wal (${format(wal.bytes)} B) once stable for 5 s after a full compaction (cold durations 1 s); whole directory ${format(all)} B`,
      };
    },
    rawQuery: async () =>
      expectOk(await query(`SELECT value FROM cpu WHERE host = 'host-0042' AND ${range}`), 'InfluxDB raw query'),
    aggregateQuery: async () =>
      expectOk(await query(`SELECT mean(value) FROM cpu WHERE ${range} GROUP BY time(5m)`), 'InfluxDB GROUP BY'),
  };
}

function printTable(figures: Figures[]): void {
  const [ours, ...peers] = figures;
  const rows: [string, (f: Figures) => number, number, boolean][] = [
    ['ingest, points/s (wall)', (f) => f.pointsPerSecond, 0, true],
    ['ingest, points per server CPU second', (f) => f.pointsPerCpuSecond, 0, true],
    ['bytes/point on disk after compaction', (f) => f.bytesPerPoint, 3, false],
    ['24 h raw query, one series (ms, median of 9)', (f) => f.rawMs, 1, false],
    ['24 h 5 m average over all series (ms, median of 5)', (f) => f.aggregateMs, 1, false],
    ['peak RSS (MiB, VmHWM)', (f) => f.peakRss / 1024 / 1024, 0, false],
  ];
  const width = 52;
  console.log(
    `${''.padEnd(width)}${figures.map((f) => f.name.padStart(16)).join('')}${peers.map((p) => `  ÷ ${p.name}`.padStart(22)).join('')}`,
  );
  for (const [label, value, digits, isHigherBetter] of rows) {
    const ratios = peers.map((peer) => {
      const ratio = value(ours) / value(peer);
      return `${format(ratio, 2)}× ${ratio >= 1 === isHigherBetter ? '(better)' : '(worse)'}`.padStart(22);
    });
    console.log(
      `${label.padEnd(width)}${figures.map((f) => format(value(f), digits).padStart(16)).join('')}${ratios.join('')}`,
    );
  }
  for (const f of figures) console.log(`  ${f.name} bytes on disk: ${f.how}`);
}

async function benchPeers(): Promise<void> {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-storage-peers-'));
  const dataset = new Dataset();
  console.log(
    `peer comparison: the same ${format(dataset.points)} points into each, one system at a time, ${format(SERIES * TIMESTAMPS_PER_BATCH)} points per request, 4 connections (MetricStream and InfluxDB: line protocol, ms precision; VictoriaMetrics: Prometheus text import)`,
  );
  const figures: Figures[] = [];
  if (isMeasured('MetricStream')) {
    const storage = await metricStream(path.join(directory, 'metricstream'));
    try {
      figures.push(await measure(storage.contender, dataset));
    } finally {
      await storage.stop();
    }
  }
  const victoria = isMeasured('VictoriaMetrics')
    ? await startVictoriaMetrics(path.join(directory, 'victoria-metrics'))
    : undefined;
  if (victoria) {
    try {
      figures.push(await measure(victoriaMetrics(victoria), dataset));
    } finally {
      await victoria.stop();
    }
  }
  // influxd reads these overrides from its environment (spawnProcess passes ours on): snapshot and fully compact soon.
  process.env.INFLUXDB_DATA_CACHE_SNAPSHOT_WRITE_COLD_DURATION = '1s';
  process.env.INFLUXDB_DATA_COMPACT_FULL_WRITE_COLD_DURATION = '1s';
  const influx = isMeasured('InfluxDB') ? await startInfluxDb(path.join(directory, 'influxdb'), 'bench') : undefined;
  if (influx) {
    try {
      figures.push(await measure(influxDb(influx), dataset));
    } finally {
      await influx.stop();
    }
  }
  if (figures.length > 0) printTable(figures);
  else console.log('  (the system asked for did not start)');
  await fs.rm(directory, { recursive: true, force: true });
}

async function main(): Promise<void> {
  console.log(
    `storage benchmark (${isFull ? 'full' : 'short'}), ${os.cpus().length} cores, node ${process.version}, ${new Date().toISOString()}`,
  );
  console.log(`dataset: ${format(SERIES)} series × ${DAYS * 24} h every 10 s`);
  if (only === undefined) {
    await benchEngine();
    await benchHttp();
  }
  await benchPeers();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
