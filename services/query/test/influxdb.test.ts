import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { seededRandom } from '../../kit/clock';
import { installedBinary, startInfluxDb, type RunningPeer } from '../../kit/testing/peers';
import { QueryEngine } from '../engine';
import { Executor } from '../executor/executor';
import { expectRowsClose, generatePoints } from '../testing/random-queries';
import { startStorageDouble, type StorageDouble } from '../testing/storage-double';

/**
 * The same data in InfluxDB 1.x (Debian `influxdb`) and in MetricStream; a corpus of InfluxQL queries must give the
 * same numbers from both. Skips, saying why, when influxd is not installed.
 */
const influxd = installedBinary('influxd');
if (!influxd)
  process.stdout.write('influxdb comparison skipped: influxd is not installed (apt-get install -y influxdb)\n');

type Row = Record<string, number | string | null>;

(influxd ? describe : describe.skip)('InfluxQL corpus against InfluxDB 1.x', () => {
  const NOW = Date.UTC(2023, 10, 14, 22, 0);
  const points = generatePoints(seededRandom(99), 2000, NOW).filter((point) => point.measurement === 'cpu');
  const start = new Date(NOW - 3 * 3_600_000).toISOString();
  const end = new Date(NOW).toISOString();
  const range = `time >= '${start}' AND time < '${end}'`;
  const directory = mkdtempSync(path.join(os.tmpdir(), 'influx-'));
  let influx: RunningPeer;
  let influxUrl: string;
  let shard: StorageDouble;
  let engine: QueryEngine;

  beforeAll(async () => {
    influx = (await startInfluxDb(directory, 'metricstream'))!;
    influxUrl = influx.url;
    const lines = points.map((point) => {
      const tags = Object.entries(point.tags)
        .map(([key, value]) => `,${key}=${value}`)
        .join('');
      return `cpu${tags} value=${point.fields.value} ${point.timestamp}`;
    });
    const written = await fetch(`${influxUrl}/write?db=metricstream&precision=ms`, {
      method: 'POST',
      body: lines.join('\n'),
    });
    expect(written.status).toBe(204);
    shard = await startStorageDouble(points);
    engine = new QueryEngine({
      clock: { now: () => NOW },
      executor: new Executor({
        shards: () => [shard.url],
        shardTimeoutMs: 5000,
        limits: { maxSeries: 10_000, maxPoints: 1_000_000 },
        workerThresholdBytes: Infinity,
      }),
      shardCount: () => 1,
      planner: { defaultRangeMs: 3_600_000, maxPoints: 1_000_000, exactPointsLimit: 1_000_000 },
      queryTimeoutMs: 10_000,
      maxResponseBytes: 10 * 1024 * 1024,
      cacheTtlMs: 0,
    });
  }, 60_000);

  afterAll(async () => {
    await influx?.stop();
    await shard?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  /** InfluxDB's series become our flat rows; an empty tag is the same as a missing one in both. */
  const influxRows = async (query: string): Promise<Row[]> => {
    const url = `${influxUrl}/query?db=metricstream&epoch=ms&q=${encodeURIComponent(query)}`;
    const body = (await (await fetch(url)).json()) as {
      results: {
        series?: { tags?: Record<string, string>; columns: string[]; values: (number | null)[][] }[];
        error?: string;
      }[];
    };
    if (body.results[0].error) throw new Error(`influxdb: ${body.results[0].error}`);
    const rows: Row[] = [];
    for (const series of body.results[0].series ?? [])
      for (const values of series.values) {
        const row: Row = { time: values[0] };
        for (const [key, value] of Object.entries(series.tags ?? {})) if (value !== '') row[key] = value;
        series.columns.slice(1).forEach((column, index) => (row[column] = values[index + 1]));
        rows.push(row);
      }
    return rows;
  };

  const ourRows = async (query: string): Promise<Row[]> => {
    const outcome = await engine.run({ query, allowPartial: false, signal: new AbortController().signal });
    return (JSON.parse(outcome.body).series as Row[]).map((row) =>
      Object.fromEntries(Object.entries(row).filter(([, value]) => value !== '')),
    );
  };

  const corpus = [
    `SELECT mean(value) FROM cpu WHERE ${range} GROUP BY time(10m) fill(none)`,
    `SELECT count(value), sum(value), min(value), max(value) FROM cpu WHERE ${range} GROUP BY time(30m), host fill(none)`,
    `SELECT first(value), last(value), spread(value), stddev(value) FROM cpu WHERE ${range} GROUP BY host`,
    `SELECT median(value), percentile(value, 95), percentile(value, 10) FROM cpu WHERE ${range} GROUP BY time(1h) fill(none)`,
    `SELECT mean(value) FROM cpu WHERE host =~ /a|b/ AND ${range} GROUP BY time(15m), host fill(null)`,
    `SELECT max(value) - min(value) AS range FROM cpu WHERE (region = 'east' OR host = 'c') AND ${range} GROUP BY time(20m) fill(none)`,
    `SELECT mean(value) * 100 FROM cpu WHERE host != 'a' AND ${range} GROUP BY time(20m) fill(previous)`,
    `SELECT sum(value) FROM cpu WHERE region !~ /w/ AND ${range} GROUP BY time(10m) fill(0)`,
    `SELECT mean(value) FROM cpu WHERE ${range} GROUP BY time(7m) fill(linear)`,
    `SELECT count(value) FROM cpu WHERE ${range} GROUP BY *`,
    `SELECT mean(value) FROM cpu WHERE ${range} GROUP BY time(10m), host fill(none) ORDER BY time DESC LIMIT 3 OFFSET 1`,
    `SELECT max(value) FROM cpu WHERE ${range} GROUP BY time(1h), host fill(none) SLIMIT 2`,
    `SELECT mean(value) FROM cpu WHERE ${range} GROUP BY time(10m, 3m) fill(none)`,
  ];

  it.each(corpus)('%s', async (query) => {
    expectRowsClose(await ourRows(query), await influxRows(query), 1e-9, query);
  });
});
