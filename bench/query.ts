/**
 * Query engine benchmark (issue 5): loads series × 24 h at 10 s into real storage shards (compiled CLI), InfluxDB 1.x
 * and VictoriaMetrics (when installed), then times dashboard queries through the query engine, cold (results cache
 * off) and warm (cache on), and the same questions in the peers, checking that every system answers the same numbers.
 *
 *   npm run bench:query                 # short: 60 series (518k points) on 2 shards
 *   npm run bench:query -- --series 2000
 *   npm run bench:query -- --full       # 12,000 series × 24 h at 10 s ≈ 104M points (long: loading dominates)
 *   npm run bench:query -- --peers none # MetricStream only (or --peers influxdb, --peers victoriametrics)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { storageRequest } from '../services/query/executor/executor';
import type { SelectStatement } from '../services/query/parser/ast';
import { parse } from '../services/query/parser/parser';
import { planSelect } from '../services/query/planner/planner';
import { startInfluxDb, startVictoriaMetrics } from '../services/kit/testing/peers';
import { freePort, httpReady, sleep, spawnProcess, type ManagedProcess } from '../services/kit/testing/processes';
import { sizeOfTree } from '../services/storage/fileutil/fileutil';

/** The compiled CLI next to this compiled file (the kit's startService resolves paths from the source tree). */
const cli = path.resolve(__dirname, '../services/cli/metricstream.js');

const startService = (service: string, port: number, args: string[]) =>
  spawnProcess(service, process.execPath, [cli, service, '--port', String(port), ...args], {
    env: { LOG_LEVEL: 'warn' },
    waitUntilReady: httpReady(`http://127.0.0.1:${port}/healthz`),
  });

const STEP_MS = 10_000;
const WINDOW_MS = 300_000;
const DAY_MS = 86_400_000;
/** Points per load batch (all series of a few consecutive steps): a few MB of line protocol. */
const BATCH_POINTS = 80_000;
/** Batches in flight per system. */
const PIPELINE_DEPTH = 3;
/**
 * Steps per batch at most: batches in flight may land in any order, so together they must span less than storage's
 * 10 m out-of-order window (3 × 150 s).
 */
const MAX_BATCH_STEPS = 15;
/** A peer query slower than this is run once instead of `repeats` times. */
const SLOW_QUERY_MS = 10_000;
const PEER_TIMEOUT_MS = 180_000;

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : fallback;
}

const isFull = process.argv.includes('--full');
const seriesCount = Number(option('series', isFull ? '12000' : '60'));
const shardCount = Number(option('shards', '2'));
const repeats = Number(option('repeats', isFull ? '3' : '5'));
const peerNames = option('peers', 'victoriametrics,influxdb').split(',');

const hostName = (index: number) => `host-${String(index).padStart(5, '0')}`;
const linePrefixes = Array.from(
  { length: seriesCount },
  (_, series) => `cpu_usage,host=${hostName(series)},region=r${series % 4} value=`,
);
const pointValue = (series: number, time: number) =>
  50 + 30 * Math.sin(time / 3_600_000 + series) + ((series * 7919 + time / STEP_MS) % 10);

interface Batch {
  points: number;
  /** Line protocol per shard (series s goes to shard s mod shards), time-ordered per series. */
  shardBodies: string[];
}

/** The dataset as line-protocol batches; deterministic, so every system receives the same bytes. */
function* batches(start: number, end: number, generation: { ms: number }): Generator<Batch> {
  const stepsPerBatch = Math.min(MAX_BATCH_STEPS, Math.max(1, Math.floor(BATCH_POINTS / seriesCount)));
  for (let time = start; time < end; time += stepsPerBatch * STEP_MS) {
    const started = performance.now();
    const lines = Array.from({ length: shardCount }, () => [] as string[]);
    let points = 0;
    for (let step = time; step < Math.min(end, time + stepsPerBatch * STEP_MS); step += STEP_MS) {
      const suffix = ` ${step}000000`;
      for (let series = 0; series < seriesCount; series++) {
        lines[series % shardCount].push(linePrefixes[series] + pointValue(series, step).toFixed(1) + suffix);
        points++;
      }
    }
    const batch = { points, shardBodies: lines.map((shardLines) => shardLines.join('\n')) };
    generation.ms += performance.now() - started;
    yield batch;
  }
}

/** Posts a body, retrying a peer's transient refusals (InfluxDB answers 500 while its cache is being snapshotted). */
async function post(url: string, body: string, retries: { count: number }): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body });
      const text = await response.text();
      if (response.ok) return text;
      if (response.status < 500 || attempt >= 30) throw new Error(`${url}: ${response.status} ${text.slice(0, 500)}`);
    } catch (error) {
      if (attempt >= 30) throw error;
    }
    retries.count++;
    await sleep(1_000);
  }
}

async function residentBytes(processes: ManagedProcess[]): Promise<number> {
  let total = 0;
  for (const managed of processes) {
    const status = await readFile(`/proc/${managed.child.pid}/status`, 'utf8').catch(() => '');
    total += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
  }
  return total;
}

/** CPU time (user + system) the processes used so far, in ms: on a shared machine it shows the work apart from the wait. */
async function cpuMs(processes: ManagedProcess[]): Promise<number> {
  let ticks = 0;
  for (const managed of processes) {
    const stat = await readFile(`/proc/${managed.child.pid}/stat`, 'utf8').catch(() => '');
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields (clock ticks).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
  }
  return ticks * 10;
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;
const millions = (points: number) => `${(points / 1e6).toFixed(1)}M`;

interface LoadTarget {
  name: string;
  processes: ManagedProcess[];
  send(batch: Batch, retries: { count: number }): Promise<unknown>[];
}

interface LoadResult {
  name: string;
  points: number;
  seconds: number;
  generationSeconds: number;
  retries: number;
  peakResidentBytes: number;
}

/** Storage answers 200 even when it refuses some samples (out of order, too old): that would spoil the comparison. */
async function writeToStorage(url: string, body: string, retries: { count: number }): Promise<void> {
  const answer = JSON.parse(await post(`${url}/write`, body, retries)) as { rejected?: number; rejections?: unknown[] };
  if (answer.rejected)
    throw new Error(`${url}: refused ${answer.rejected} samples: ${JSON.stringify(answer.rejections?.slice(0, 3))}`);
}

/** Loads the whole dataset into one system, `PIPELINE_DEPTH` batches in flight, printing progress every 10 s. */
async function load(target: LoadTarget, start: number, end: number): Promise<LoadResult> {
  const totalPoints = seriesCount * ((end - start) / STEP_MS);
  const generation = { ms: 0 };
  const retries = { count: 0 };
  const started = performance.now();
  let points = 0;
  let peakResidentBytes = 0;
  let failure: unknown;
  let nextReport = started + 10_000;
  const inFlight: Promise<void>[] = [];
  for (const batch of batches(start, end, generation)) {
    inFlight.push(
      Promise.all(target.send(batch, retries)).then(
        () => void (points += batch.points),
        (error: unknown) => void (failure ??= error),
      ),
    );
    if (inFlight.length >= PIPELINE_DEPTH) await inFlight.shift();
    if (failure) break;
    if (performance.now() >= nextReport) {
      nextReport += 10_000;
      const resident = await residentBytes(target.processes);
      peakResidentBytes = Math.max(peakResidentBytes, resident);
      const seconds = (performance.now() - started) / 1000;
      process.stdout.write(
        `  ${target.name}: ${millions(points)} / ${millions(totalPoints)} points (${Math.round((100 * points) / totalPoints)} %), ${Math.round(points / seconds).toLocaleString('en')} points/s, RSS ${gib(resident)}\n`,
      );
    }
  }
  await Promise.all(inFlight);
  if (failure) throw failure;
  peakResidentBytes = Math.max(peakResidentBytes, await residentBytes(target.processes));
  return {
    name: target.name,
    points,
    seconds: (performance.now() - started) / 1000,
    generationSeconds: generation.ms / 1000,
    retries: retries.count,
    peakResidentBytes,
  };
}

async function scrape(url: string, metric: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(metric))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

/** Waits until head cuts and compactions stop (nothing changed for three maintenance rounds), so queries run alone. */
async function settleStorage(shardUrls: string[]): Promise<void> {
  const state = async () =>
    JSON.stringify(
      await Promise.all(
        shardUrls.map(async (url) => [
          await scrape(url, 'storage_blocks'),
          await scrape(url, 'storage_compactions_total'),
        ]),
      ),
    );
  let previous = await state();
  for (let quiet = 0; quiet < 3;) {
    await sleep(5_000);
    const current = await state();
    quiet = current === previous ? quiet + 1 : 0;
    previous = current;
  }
}

/** One dashboard question asked of every system, and where to read one number of each answer to compare them. */
interface Question {
  name: string;
  ours: string;
  influx: string;
  /** MetricsQL; range queries are evaluated at window ends (see `victoriaRange`). */
  victoria: string;
  /** Range query step in ms, or undefined for an instant query at the end of the range. */
  victoriaStepMs?: number;
  victoriaStart: number;
  column: string;
  /** The window compared (undefined: the only one) and the group. */
  check: { time?: number; tags: Record<string, string> };
  /** Relative difference accepted against ours, per peer. */
  tolerance: { influx: number; victoria: number };
}

interface Timed {
  ms: number;
  rows: number;
  value: number | undefined;
}

const matches = (tags: Record<string, string> | undefined, wanted: Record<string, string>) =>
  Object.entries(wanted).every(([key, value]) => tags?.[key] === value);

async function timeOurs(queryUrl: string, question: Question): Promise<Timed> {
  const started = performance.now();
  const response = await fetch(`${queryUrl}/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: question.ours }),
  });
  const body = (await response.json()) as { series?: Record<string, unknown>[]; error?: unknown };
  const ms = performance.now() - started;
  if (!response.ok) throw new Error(`${question.ours}: ${response.status} ${JSON.stringify(body)}`);
  const rows = body.series ?? [];
  const row = rows.find(
    (candidate) =>
      (question.check.time === undefined || candidate.time === question.check.time) &&
      matches(candidate as Record<string, string>, question.check.tags),
  );
  return { ms, rows: rows.length, value: row?.[question.column] as number | undefined };
}

/** The same storage calls the engine makes (its plan), sent straight to every shard: the storage share of a query. */
async function timeStorage(shardUrls: string[], query: string): Promise<{ ms: number; bytes: number }> {
  const plan = planSelect(parse(query) as SelectStatement, {
    now: Date.now(),
    defaultRangeMs: 3_600_000,
    maxPoints: 5_000_000,
    exactPointsLimit: 100_000,
  });
  const started = performance.now();
  const sizes = await Promise.all(
    plan.sources.flatMap((source) =>
      shardUrls.map(async (url) => {
        const { path: requestPath, body } = storageRequest(plan, source, 'aggregate');
        const response = await fetch(url + requestPath, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        return Buffer.byteLength(await response.text());
      }),
    ),
  );
  return { ms: performance.now() - started, bytes: sizes.reduce((sum, size) => sum + size, 0) };
}

interface InfluxAnswer {
  results: { error?: string; series?: { tags?: Record<string, string>; values: [number, number | null][] }[] }[];
}

async function timeInflux(url: string, question: Question): Promise<Timed> {
  const started = performance.now();
  const response = await fetch(`${url}/query?db=bench&epoch=ms&q=${encodeURIComponent(question.influx)}`, {
    signal: AbortSignal.timeout(PEER_TIMEOUT_MS),
  });
  const body = (await response.json()) as InfluxAnswer;
  const ms = performance.now() - started;
  if (!response.ok || body.results[0].error) throw new Error(`influxdb: ${question.influx}: ${JSON.stringify(body)}`);
  const series = body.results[0].series ?? [];
  const values = series.find((candidate) => matches(candidate.tags, question.check.tags))?.values ?? [];
  const value =
    values.find(([time]) => question.check.time === undefined || time === question.check.time)?.[1] ?? undefined;
  return { ms, rows: series.reduce((sum, candidate) => sum + candidate.values.length, 0), value };
}

interface VictoriaAnswer {
  status: string;
  data?: { result: { metric: Record<string, string>; values?: [number, string][]; value?: [number, string] }[] };
}

/**
 * MetricsQL windows are `(t − d, t]`; ours and InfluxDB's are `[b, b + d)`. With points on 10 s multiples,
 * `x[d] offset 10s` evaluated at `t = b + d` covers exactly the points of `[b, b + d)`, so the answer at `b + d` is
 * compared with our window `b`.
 */
async function timeVictoria(url: string, question: Question, end: number, isCached: boolean): Promise<Timed> {
  const parameters = new URLSearchParams({ query: question.victoria });
  if (question.victoriaStepMs) {
    parameters.set('start', String((question.victoriaStart + question.victoriaStepMs) / 1000));
    parameters.set('end', String(end / 1000));
    parameters.set('step', `${question.victoriaStepMs / 1000}s`);
  } else parameters.set('time', String((end - STEP_MS) / 1000));
  if (!isCached) parameters.set('nocache', '1');
  const endpoint = question.victoriaStepMs ? 'query_range' : 'query';
  const started = performance.now();
  const response = await fetch(`${url}/api/v1/${endpoint}?${parameters}`, {
    signal: AbortSignal.timeout(PEER_TIMEOUT_MS),
  });
  const body = (await response.json()) as VictoriaAnswer;
  const ms = performance.now() - started;
  if (!response.ok || body.status !== 'success')
    throw new Error(`victoria-metrics: ${question.victoria}: ${JSON.stringify(body)}`);
  const result = body.data?.result ?? [];
  const series = result.find((candidate) => matches(candidate.metric, question.check.tags));
  const sample = question.victoriaStepMs
    ? series?.values?.find(([time]) => time * 1000 === (question.check.time ?? 0) + question.victoriaStepMs!)
    : series?.value;
  const rows = result.reduce((sum, candidate) => sum + (candidate.values?.length ?? 1), 0);
  return { ms, rows, value: sample ? Number(sample[1]) : undefined };
}

function questions(start: number, end: number): Question[] {
  const range = `time >= ${start} AND time < ${end}`;
  const influxRange = `time >= ${start}000000 AND time < ${end}000000`;
  const middle = start + DAY_MS / 2;
  const lastHour = end - 3_600_000;
  const exact = { influx: 1e-9, victoria: 1e-9 };
  // 100 hosts (all of them in the short run): a dashboard panel, not a 3.5M-row answer for 12,000 hosts.
  const hostPattern = '^host-000[0-9][0-9]$';
  const host = hostName(1);
  return [
    {
      name: '24 h avg by 5 m',
      ours: `SELECT avg(cpu_usage) WHERE ${range} GROUP BY time(5m)`,
      influx: `SELECT mean(value) FROM cpu_usage WHERE ${influxRange} GROUP BY time(5m)`,
      // Every series has the same number of points per window, so the mean of means is the mean of all points.
      victoria: 'avg(avg_over_time(cpu_usage_value[5m] offset 10s))',
      victoriaStepMs: WINDOW_MS,
      victoriaStart: start,
      column: 'avg',
      check: { time: middle, tags: {} },
      tolerance: exact,
    },
    {
      name: '24 h avg by 5 m, host (100 hosts)',
      ours: `SELECT avg(cpu_usage) WHERE host =~ /${hostPattern}/ AND ${range} GROUP BY time(5m), host`,
      influx: `SELECT mean(value) FROM cpu_usage WHERE host =~ /${hostPattern}/ AND ${influxRange} GROUP BY time(5m), host`,
      victoria: `avg by (host) (avg_over_time(cpu_usage_value{host=~"${hostPattern.slice(1, -1)}"}[5m] offset 10s))`,
      victoriaStepMs: WINDOW_MS,
      victoriaStart: start,
      column: 'avg',
      check: { time: middle, tags: { host } },
      tolerance: exact,
    },
    {
      name: '24 h p95',
      ours: `SELECT p95(cpu_usage) WHERE ${range}`,
      influx: `SELECT percentile(value, 95) FROM cpu_usage WHERE ${influxRange}`,
      // The quantile of all points (not of per-series quantiles): VictoriaMetrics' log-bucket histogram of the range.
      victoria: 'histogram_quantile(0.95, sum(histogram_over_time(cpu_usage_value[24h])) by (vmrange))',
      victoriaStart: start,
      column: 'p95',
      check: { tags: {} },
      // Ours is a DDSketch (1 % relative error), InfluxDB exact, VictoriaMetrics interpolates within ~12 % buckets.
      tolerance: { influx: 0.01, victoria: 0.15 },
    },
    {
      name: 'one series, 24 h by 5 m',
      ours: `SELECT avg(cpu_usage) WHERE host = '${host}' AND ${range} GROUP BY time(5m)`,
      influx: `SELECT mean(value) FROM cpu_usage WHERE host = '${host}' AND ${influxRange} GROUP BY time(5m)`,
      victoria: `avg_over_time(cpu_usage_value{host="${host}"}[5m] offset 10s)`,
      victoriaStepMs: WINDOW_MS,
      victoriaStart: start,
      column: 'avg',
      check: { time: middle, tags: {} },
      tolerance: exact,
    },
    {
      name: '1 h max-min by 1 m, region',
      ours: `SELECT max(cpu_usage) - min(cpu_usage) AS spread WHERE time >= ${lastHour} AND time < ${end} GROUP BY time(1m), region`,
      influx: `SELECT max(value) - min(value) AS spread FROM cpu_usage WHERE time >= ${lastHour}000000 AND time < ${end}000000 GROUP BY time(1m), region`,
      victoria:
        'max by (region) (max_over_time(cpu_usage_value[1m] offset 10s)) - min by (region) (min_over_time(cpu_usage_value[1m] offset 10s))',
      victoriaStepMs: 60_000,
      victoriaStart: lastHour,
      column: 'spread',
      check: { time: end - 1_800_000, tags: { region: 'r1' } },
      tolerance: exact,
    },
  ];
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function repeat(
  count: number,
  run: () => Promise<Timed>,
): Promise<{ median: number; max: number; runs: number; last: Timed }> {
  const times: number[] = [];
  let last = await run();
  times.push(last.ms);
  const runs = last.ms > SLOW_QUERY_MS ? 1 : count;
  while (times.length < runs) {
    last = await run();
    times.push(last.ms);
  }
  return { median: median(times), max: Math.max(...times), runs, last };
}

/** `value (ok|DIFF)` against ours, or `-` when the system is absent. */
function agreement(ours: number | undefined, theirs: number | undefined, tolerance: number): string {
  if (typeof theirs !== 'number') return 'none';
  const isClose = typeof ours === 'number' && Math.abs(theirs - ours) <= tolerance * Math.max(1, Math.abs(ours));
  return `${theirs.toFixed(3)} ${isClose ? 'ok' : 'DIFF'}`;
}

const processes: ManagedProcess[] = [];
let directory: string | undefined;

async function stopEverything(): Promise<void> {
  await Promise.all(processes.splice(0).map((managed) => managed.stop()));
  if (directory) rmSync(directory, { recursive: true, force: true });
  directory = undefined;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping every process the bench started\n`);
    void stopEverything().finally(() => process.exit(130));
  });

interface Figures {
  cold?: { median: number; max: number; runs: number; last: Timed };
  coldCpuMs?: number;
  storageMs?: number;
  storageCpuMs?: number;
  storageBytes?: number;
  warm?: number;
  influx?: { median: number; last: Timed };
  victoriaCold?: { median: number; last: Timed };
  victoriaWarm?: number;
}

function report(question: Question, figures: Figures): { timing: string; check: string } {
  const figure = (value: number | undefined, digits = 1) => (typeof value === 'number' ? value.toFixed(digits) : '-');
  const cold = figures.cold?.median;
  const ratio = (peer: number | undefined) =>
    cold === undefined || peer === undefined ? '-' : (cold / peer).toFixed(2);
  const ours = figures.cold?.last.value;
  return {
    timing: `| ${question.name} | ${figures.cold?.last.rows ?? '-'} | ${figure(cold)} | ${figure(figures.cold?.max)} | ${figure(figures.coldCpuMs, 0)} | ${figure(figures.storageMs)} | ${figure(figures.storageCpuMs, 0)} | ${figure(figures.storageBytes === undefined ? undefined : figures.storageBytes / 1024, 0)} | ${figure(figures.warm, 2)} | ${figure(figures.influx?.median)} | ${figure(figures.victoriaCold?.median)} | ${figure(figures.victoriaWarm, 2)} | ${ratio(figures.influx?.median)} | ${ratio(figures.victoriaCold?.median)} |`,
    check: `| ${question.name} | ${question.check.time === undefined ? 'whole range' : new Date(question.check.time).toISOString()} ${JSON.stringify(question.check.tags)} | ${figure(ours, 3)} | ${agreement(ours, figures.influx?.last.value, question.tolerance.influx)} | ${agreement(ours, figures.victoriaCold?.last.value, question.tolerance.victoria)} | ${figures.influx?.last.rows ?? '-'} | ${figures.victoriaCold?.last.rows ?? '-'} |`,
  };
}

const LOAD_HEADER =
  '| system | load s | points/s | generation s (included) | retried requests | peak RSS | bytes on disk | bytes/point |';
const TIMING_HEADER = [
  '| query | rows | cold median ms | cold max ms | cold CPU ms (engine + shards) | storage alone median ms | storage alone CPU ms (shards) | shard answers KiB | warm (cached) median ms | InfluxDB median ms | VictoriaMetrics cold median ms | VictoriaMetrics warm median ms | cold / InfluxDB | cold / VictoriaMetrics cold |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
];

function printLoad(loaded: LoadResult, diskBytes: number): string {
  const line = `| ${loaded.name} | ${loaded.seconds.toFixed(1)} | ${Math.round(loaded.points / loaded.seconds).toLocaleString('en')} | ${loaded.generationSeconds.toFixed(1)} | ${loaded.retries} | ${gib(loaded.peakResidentBytes)} | ${(diskBytes / 2 ** 20).toFixed(1)} MiB | ${(diskBytes / loaded.points).toFixed(2)} |`;
  process.stdout.write(`loaded: ${LOAD_HEADER}\nloaded: ${line}\n`);
  return line;
}

/**
 * One system at a time: load it, then time every question on it, so each system has the machine to itself and the
 * figures of the systems done so far are printed even if a later phase fails.
 */
async function main(): Promise<void> {
  directory = mkdtempSync(path.join(os.tmpdir(), 'bench-query-'));
  const end = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS;
  const start = end - DAY_MS;
  const totalPoints = seriesCount * (DAY_MS / STEP_MS);
  const all = questions(start, end);
  const figures = all.map((): Figures => ({}));
  const loads: string[] = [];
  process.stdout.write(
    `${seriesCount} series × 24 h at 10 s = ${totalPoints.toLocaleString('en')} points; ${shardCount} storage shards, then ${peerNames.join(', ')}, one system after the other\n`,
  );

  const shardUrls: string[] = [];
  const shards: ManagedProcess[] = [];
  for (let shard = 0; shard < shardCount; shard++) {
    const port = await freePort();
    const managed = await startService('storage', port, [
      '--data-dir',
      path.join(directory, `shard-${shard}`),
      '--fsync',
      'false',
      '--max-points',
      '50000000',
      '--maintenance-interval',
      '5s',
    ]);
    processes.push(managed);
    shards.push(managed);
    shardUrls.push(`http://127.0.0.1:${port}`);
  }
  const loaded = await load(
    {
      name: 'MetricStream storage',
      processes: shards,
      send: (batch, retries) => shardUrls.map((url, shard) => writeToStorage(url, batch.shardBodies[shard], retries)),
    },
    start,
    end,
  );
  const settling = performance.now();
  await settleStorage(shardUrls);
  process.stdout.write(
    `storage settled (head cuts and compactions done) after ${((performance.now() - settling) / 1000).toFixed(0)} s\n`,
  );
  const shardBytes = await Promise.all(
    shardUrls.map((_, shard) => sizeOfTree(path.join(directory!, `shard-${shard}`))),
  );
  loads.push(
    printLoad(
      loaded,
      shardBytes.reduce((sum, size) => sum + size, 0),
    ),
  );

  const common = ['--storage-urls', shardUrls.join(','), '--query-timeout', '300s', '--shard-timeout', '300s'];
  const coldPort = await freePort();
  const coldQuery = await startService('query', coldPort, [...common, '--cache-ttl', '0']);
  processes.push(coldQuery);
  const warmPort = await freePort();
  const warmQuery = await startService('query', warmPort, common);
  processes.push(warmQuery);
  for (const [index, question] of all.entries()) {
    // One unmeasured run warms the JIT; the cold process has no results cache, so every run still reaches storage.
    await timeOurs(`http://127.0.0.1:${coldPort}`, question);
    let cpuBefore = await cpuMs([coldQuery, ...shards]);
    figures[index].cold = await repeat(repeats, () => timeOurs(`http://127.0.0.1:${coldPort}`, question));
    figures[index].coldCpuMs = ((await cpuMs([coldQuery, ...shards])) - cpuBefore) / figures[index].cold.runs;
    const storageRuns: { ms: number; bytes: number }[] = [];
    cpuBefore = await cpuMs(shards);
    for (let run = 0; run < repeats; run++) storageRuns.push(await timeStorage(shardUrls, question.ours));
    figures[index].storageCpuMs = ((await cpuMs(shards)) - cpuBefore) / repeats;
    figures[index].storageMs = median(storageRuns.map((run) => run.ms));
    figures[index].storageBytes = storageRuns[0].bytes;
    await timeOurs(`http://127.0.0.1:${warmPort}`, question);
    figures[index].warm = (await repeat(repeats * 4, () => timeOurs(`http://127.0.0.1:${warmPort}`, question))).median;
    process.stdout.write(`${report(question, figures[index]).timing}\n`);
  }
  await Promise.all([coldQuery.stop(), warmQuery.stop()]);

  const victoria = peerNames.includes('victoriametrics')
    ? await startVictoriaMetrics(path.join(directory, 'victoria'))
    : undefined;
  if (victoria) {
    processes.push(victoria);
    const victoriaLoad = await load(
      {
        name: 'VictoriaMetrics',
        processes: [victoria],
        send: (batch, retries) => [post(`${victoria.url}/write?precision=ns`, batch.shardBodies.join('\n'), retries)],
      },
      start,
      end,
    );
    // Ingested rows become searchable after an in-memory buffer flush (about a second); force it.
    await fetch(`${victoria.url}/internal/force_flush`);
    await sleep(2_000);
    for (const [index, question] of all.entries()) {
      figures[index].victoriaCold = await repeat(repeats, () => timeVictoria(victoria.url, question, end, false));
      await timeVictoria(victoria.url, question, end, true);
      figures[index].victoriaWarm = (
        await repeat(repeats * 4, () => timeVictoria(victoria.url, question, end, true))
      ).median;
      process.stdout.write(
        `| ${question.name} | VictoriaMetrics cold median ${figures[index].victoriaCold.median.toFixed(1)} ms | ${agreement(figures[index].cold?.last.value, figures[index].victoriaCold.last.value, question.tolerance.victoria)} |\n`,
      );
    }
    // Measured after the queries: VictoriaMetrics writes its in-memory parts to disk a few seconds after ingesting.
    loads.push(printLoad(victoriaLoad, await sizeOfTree(victoria.dataDirectory)));
  }

  const influx = peerNames.includes('influxdb')
    ? await startInfluxDb(path.join(directory, 'influx'), 'bench')
    : undefined;
  if (influx) {
    processes.push(influx);
    const body = (batch: Batch) => batch.shardBodies.join('\n');
    const influxLoad = await load(
      {
        name: 'InfluxDB',
        processes: [influx],
        send: (batch, retries) => [post(`${influx.url}/write?db=bench&precision=ns`, body(batch), retries)],
      },
      start,
      end,
    );
    loads.push(printLoad(influxLoad, await sizeOfTree(influx.dataDirectory)));
    for (const [index, question] of all.entries()) {
      // InfluxDB 1.x holds every point of a percentile in memory: over 100M points it may not answer in time.
      figures[index].influx = await repeat(repeats, () => timeInflux(influx.url, question)).catch((error: unknown) => {
        process.stdout.write(`| ${question.name} | InfluxDB failed: ${String(error).slice(0, 300)} |\n`);
        return undefined;
      });
      if (figures[index].influx)
        process.stdout.write(
          `| ${question.name} | InfluxDB median ${figures[index].influx.median.toFixed(1)} ms | ${agreement(figures[index].cold?.last.value, figures[index].influx.last.value, question.tolerance.influx)} |\n`,
        );
    }
    await influx.stop();
  }

  const reports = all.map((question, index) => report(question, figures[index]));
  const loadAverage = os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(', ');
  process.stdout.write(
    [
      '',
      `query engine, ${totalPoints.toLocaleString('en')} points (${seriesCount} series × 24 h at 10 s) on ${shardCount} real storage shards, ${os.cpus().length} cores, Node ${process.version}, ${new Date().toISOString()}, load average ${loadAverage}`,
      '',
      ...TIMING_HEADER,
      ...reports.map((line) => line.timing),
      '',
      'agreement (one window of each answer; ours vs each peer):',
      '',
      '| query | window, group | ours | InfluxDB | VictoriaMetrics | InfluxDB rows | VictoriaMetrics rows |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...reports.map((line) => line.check),
      '',
      LOAD_HEADER,
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      ...loads,
      '',
    ].join('\n'),
  );
}

main()
  .catch((error: unknown) => {
    process.exitCode = 1;
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  })
  .finally(stopEverything);
