import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { seededRandom } from '../../kit/clock';
import { createLogger } from '../../kit/logger';
import { defaultBlockLayout } from '../block/builder';
import { BlockReader } from '../block/reader';
import type { Point } from '../series/series';
import { DDSketch, type SketchWire } from '../../kit/sketch';
import { windowStart } from '../chunk/rollup';
import { SKETCH_ALPHA, sortedWire } from '../chunk/summary';
import { rollupColumnsFor, type AggregateGroup, type AggregateSpec } from './aggregate';
import { Engine, type EngineOptions, type SeriesSamples } from './engine';
import { tagIndexCodec } from './index-codec';

const HOUR = 3_600_000;
const logger = createLogger('storage-test', 'error');

async function openEngine(directory: string, overrides: Partial<EngineOptions> = {}, now = { value: 0 }) {
  return Engine.open({
    directory,
    blockRangeMs: 2 * HOUR,
    compactionRangesMs: [6 * HOUR, 24 * HOUR],
    retentionMs: 0,
    outOfOrderWindowMs: 10 * 60_000,
    walSegmentBytes: 64 * 1024,
    isSyncing: false,
    layout: { ...defaultBlockLayout, samplesPerChunk: 120 },
    indexCodec: tagIndexCodec,
    createIndex: () => tagIndexCodec.create(),
    clock: { now: () => now.value },
    random: seededRandom(7),
    logger,
    ...overrides,
  });
}

const temporaryDirectory = () => fs.mkdtemp(path.join(os.tmpdir(), 'engine-test-'));
const point = (host: string, timestamp: number, value: number): Point => ({
  measurement: 'cpu',
  tags: [['host', host]],
  fields: [['value', value]],
  timestamp,
});
const selection = { measurement: 'cpu', field: 'value', matchers: [] };

async function readAll(engine: Engine, tenant = 'default') {
  const series = await engine.query(tenant, selection, -1e15, 1e15);
  return series.map(({ labels, samples }) => ({
    tags: labels.tags,
    points: Array.from(samples.timestamps, (timestamp, index) => [timestamp, samples.values[index]]),
  }));
}

/** Random writes over three days, with rewrites and out-of-order samples inside the window, in time order overall. */
function randomWorkload(seed: number, count: number) {
  const random = seededRandom(seed);
  const batches: Point[][] = [];
  let time = 0;
  for (let batch = 0; batch < count; batch++) {
    const points: Point[] = [];
    time += Math.floor(random() * 8 * 60_000);
    for (let index = 0; index < 20; index++) {
      const jitter = Math.floor(random() * 5) * 60_000;
      const timestamp = Math.max(0, time - jitter);
      points.push(point(`h${Math.floor(random() * 5)}`, timestamp, Math.round(random() * 1000) / 10));
    }
    batches.push(points);
  }
  return batches;
}

/** The oracle: a map per series, last write wins, minus what the engine rejected. */
function bruteForce(batches: Point[][], rejected: Set<string>) {
  const bySeries = new Map<string, Map<number, number>>();
  batches.forEach((points, batch) =>
    points.forEach((entry, index) => {
      if (rejected.has(`${batch}:${index}`)) return;
      const host = entry.tags[0][1];
      const series = bySeries.get(host) ?? new Map<number, number>();
      series.set(entry.timestamp, entry.fields[0][1]);
      bySeries.set(host, series);
    }),
  );
  return [...bySeries.keys()].sort().map((host) => ({
    tags: [['host', host]],
    points: [...bySeries.get(host)!].sort((a, b) => a[0] - b[0]),
  }));
}

/** The partials of one window computed from raw samples: the oracle for Engine.aggregate. */
function oracleAggregates(series: SeriesSamples[], spec: AggregateSpec) {
  const groups = new Map<string, { tags: Record<string, string>; windows: Map<number, number[][]> }>();
  for (const { labels, samples } of series) {
    const tags = Object.fromEntries(labels.tags.filter(([key]) => spec.groupBy.includes(key)));
    const key = JSON.stringify(tags);
    const group = groups.get(key) ?? { tags, windows: new Map<number, number[][]>() };
    groups.set(key, group);
    samples.timestamps.forEach((time, index) => {
      if (time < spec.start || time >= spec.end || Number.isNaN(samples.values[index])) return;
      const start = spec.windowMs > 0 ? windowStart(time, spec.windowMs, spec.offsetMs) : spec.start;
      const list = group.windows.get(start) ?? [];
      list.push([time, samples.values[index]]);
      group.windows.set(start, list);
    });
  }
  return [...groups.keys()].sort().flatMap((key) => {
    const { tags, windows } = groups.get(key)!;
    if (windows.size === 0) return [];
    return [
      {
        tags,
        windows: [...windows.keys()]
          .sort((a, b) => a - b)
          .map((start) => {
            const points = windows.get(start)!.sort((a, b) => a[0] - b[0]);
            const values = points.map(([, value]) => value);
            const sketch = new DDSketch(SKETCH_ALPHA);
            for (const value of values) sketch.add(value);
            return {
              start,
              count: values.length,
              sum: values.reduce((a, b) => a + b, 0),
              sumsq: values.reduce((a, b) => a + b * b, 0),
              min: Math.min(...values),
              max: Math.max(...values),
              first: points[0][1],
              first_time: points[0][0],
              last: points[points.length - 1][1],
              last_time: points[points.length - 1][0],
              sketch: sortedWire(sketch),
            };
          }),
      },
    ];
  });
}

/** Compares aggregates with the oracle: sums to 1e-9 relative (they add in another order), the rest exactly. */
function expectLikeOracle(actual: AggregateGroup[], expected: ReturnType<typeof oracleAggregates>, context: string) {
  const close = (value: number | undefined, wanted: number) =>
    Math.abs((value ?? NaN) - wanted) <= 1e-9 * Math.max(1, Math.abs(wanted));
  const sortedSketch = (sketch: SketchWire | undefined) =>
    sketch && {
      ...sketch,
      pos: [...sketch.pos].sort((a, b) => a[0] - b[0]),
      neg: [...sketch.neg].sort((a, b) => a[0] - b[0]),
    };
  expect({
    context,
    groups: actual.map(({ tags, windows }) => ({ tags, starts: windows.map((w) => w.start) })),
  }).toEqual({
    context,
    groups: expected.map(({ tags, windows }) => ({ tags, starts: windows.map((w) => w.start) })),
  });
  actual.forEach((group, groupIndex) =>
    group.windows.forEach((window, index) => {
      const wanted = expected[groupIndex].windows[index];
      const { sum, sumsq, sketch, ...exact } = window;
      expect({ context, ...exact }).toEqual({
        context,
        ...Object.fromEntries(Object.keys(exact).map((key) => [key, wanted[key as keyof typeof wanted]])),
      });
      if (sum !== undefined)
        expect({ context, sum, isClose: close(sum, wanted.sum) }).toEqual({ context, sum, isClose: true });
      if (sumsq !== undefined) expect(close(sumsq, wanted.sumsq)).toBe(true);
      if (sketch !== undefined) expect(sortedSketch(sketch)).toEqual(wanted.sketch);
    }),
  );
}

describe('Engine', () => {
  it('answers like a brute-force map through head cuts, compactions and a restart', async () => {
    const directory = await temporaryDirectory();
    let engine = await openEngine(directory);
    const batches = randomWorkload(11, 800);
    const rejected = new Set<string>();
    for (const [batch, points] of batches.entries()) {
      const result = await engine.write('default', points);
      for (const rejection of result.rejections) rejected.add(`${batch}:${rejection.index}`);
      if (batch % 100 === 0) await engine.maintain();
    }
    await engine.maintain();
    // Compared as JSON: jest's deep equality is slow on tens of thousands of pairs.
    const expected = JSON.stringify(bruteForce(batches, rejected));
    expect(JSON.stringify(await readAll(engine))).toBe(expected);
    const levels = engine.blockMetas.map((meta) => meta.compaction.level);
    expect(levels).toContain(3);
    await engine.close();
    engine = await openEngine(directory);
    expect(JSON.stringify(await readAll(engine))).toBe(expected);
    await engine.close();
  });

  it('gives the same aggregates before and after compaction, and matches the raw samples', async () => {
    const directory = await temporaryDirectory();
    const engine = await openEngine(directory, { compactionRangesMs: [] });
    const random = seededRandom(5);
    for (let batchStart = 0; batchStart < 30 * HOUR; batchStart += 600_000) {
      const points: Point[] = [];
      for (let time = batchStart; time < batchStart + 600_000; time += 10_000)
        for (const host of ['a', 'b', 'c']) points.push(point(host, time, Math.round(random() * 1000) / 10));
      await engine.write('default', points);
    }
    await engine.maintain();
    const spec = {
      start: 1 * HOUR + 7_000,
      end: 25 * HOUR - 3_000,
      windowMs: 5 * 60_000,
      offsetMs: 0,
      groupBy: ['host'],
      hasSketch: false,
    };
    const before = await engine.aggregate('default', selection, spec);
    expect(before.stats.rollupRows).toBeGreaterThan(0);
    const whole = await engine.aggregate('default', selection, { ...spec, windowMs: 0, groupBy: [] });
    expect(whole.stats.chunkSummaries).toBeGreaterThan(0);
    const raw = await engine.query('default', selection, spec.start, spec.end - 1);
    const count = raw.reduce((total, series) => total + series.samples.timestamps.length, 0);
    const sum = raw.reduce((total, series) => total + series.samples.values.reduce((a, b) => a + b, 0), 0);
    expect(whole.groups[0].windows[0].count).toBe(count);
    expect(whole.groups[0].windows[0].sum).toBeCloseTo(sum, 6);
    const windowCounts = before.groups.map((group) =>
      group.windows.reduce((total, window) => total + (window.count ?? 0), 0),
    );
    expect(windowCounts.reduce((a, b) => a + b, 0)).toBe(count);
    await engine.close();

    const compacted = await openEngine(directory);
    await compacted.maintain();
    expect(compacted.blockMetas.some((meta) => meta.compaction.level > 1)).toBe(true);
    const after = await compacted.aggregate('default', selection, spec);
    expect(after.groups.map((group) => group.windows.map((window) => window.count))).toEqual(
      before.groups.map((group) => group.windows.map((window) => window.count)),
    );
    after.groups.forEach((group, index) =>
      group.windows.forEach((window, windowIndex) => {
        const previous = before.groups[index].windows[windowIndex];
        expect(window).toEqual({ ...previous, sum: expect.any(Number), sumsq: expect.any(Number) });
        expect(window.sum).toBeCloseTo(previous.sum ?? NaN, 6);
      }),
    );
    await compacted.close();
  });

  it('aggregates the live head and its blocks like the raw samples, after rewrites too', async () => {
    const directory = await temporaryDirectory();
    // One 24 h block range: nothing is cut while writing, so the first rounds read the head alone.
    const engine = await openEngine(directory, { blockRangeMs: 24 * HOUR, compactionRangesMs: [] });
    const random = seededRandom(23);
    const hosts = ['a', 'b', 'c'];
    for (let batchStart = 0; batchStart < 5 * HOUR; batchStart += 600_000) {
      const points: Point[] = [];
      for (let time = batchStart; time < batchStart + 600_000; time += 10_000)
        hosts.forEach((host, index) => {
          // Each host a second apart, so first and last never tie between the series of a group.
          const own = time + index * 1000;
          points.push(point(host, own, Math.round(random() * 1000) / 10));
          // Some rewrites and out-of-order samples inside the window.
          if (random() < 0.01) points.push(point(host, own - Math.floor(random() * 30) * 10_000, random() * 10));
        });
      await engine.write('default', points);
    }
    const specs: AggregateSpec[] = [];
    for (const windowMs of [0, 60_000, 300_000, 420_000, 3_600_000])
      for (const hasSketch of [false, true]) {
        const start = Math.floor(random() * HOUR);
        specs.push({
          start,
          end: 5 * HOUR - Math.floor(random() * HOUR),
          windowMs,
          offsetMs: windowMs === 300_000 && hasSketch ? 60_000 : 0,
          groupBy: hasSketch ? [] : ['host'],
          hasSketch,
        });
      }
    const check = async (round: string) => {
      for (const spec of specs) {
        const raw = await engine.query('default', selection, spec.start, spec.end - 1);
        const { groups } = await engine.aggregate('default', selection, spec);
        expectLikeOracle(groups, oracleAggregates(raw, spec), `${round} ${JSON.stringify(spec)}`);
      }
    };
    await check('head');
    // Sealed head chunks that no pending rewrite touches come from their partials: rows, or whole summaries.
    expect((await engine.aggregate('default', selection, specs[4])).stats.rollupRows).toBeGreaterThan(0);
    expect((await engine.aggregate('default', selection, specs[0])).stats.chunkSummaries).toBeGreaterThan(0);
    // Rewrites inside chunks whose partials are already kept: those chunks must be read again.
    await engine.write('default', [point('a', 4 * HOUR + 10_000, 5_000), point('b', 4 * HOUR + 51_000, -5_000)]);
    await check('rewritten head');
    await engine.persistHead();
    expect(engine.blockMetas.length).toBeGreaterThan(0);
    await check('blocks');
    await engine.close();
  });

  it('decodes only the rollup columns the requested partials need, once, and counts them in the block cache', async () => {
    const directory = await temporaryDirectory();
    const engine = await openEngine(directory, { compactionRangesMs: [] });
    const points: Point[] = [];
    for (let time = 0; time < 6 * HOUR; time += 10_000)
      for (const host of ['a', 'b']) points.push(point(host, time, Math.round(Math.sin(time) * 500) / 10));
    await engine.write('default', points);
    await engine.persistHead();
    const spec = { start: 0, end: 6 * HOUR, windowMs: 5 * 60_000, offsetMs: 0, groupBy: [], hasSketch: false };
    const average = await engine.aggregate('default', selection, { ...spec, partials: ['count', 'sum'] });
    expect(average.stats.rollupRows).toBe(144);
    const averageBytes = engine.blockCache.bytes;
    await engine.aggregate('default', selection, { ...spec, partials: ['count', 'sum'] });
    expect(engine.blockCache.bytes).toBe(averageBytes);
    // The seven other columns of 72 rows in each of two series, as float64s; the sketches are not kept.
    const everything = await engine.aggregate('default', selection, { ...spec, hasSketch: true });
    expect(engine.blockCache.bytes - averageBytes).toBe(7 * 144 * 8);
    expect(average.groups[0].windows).toEqual(
      everything.groups[0].windows.map(({ start, count, sum }) => ({ start, count, sum })),
    );
    await engine.close();

    // The same through one block's reader: the sketch section and the other columns stay encoded.
    const block = await BlockReader.open(path.join(directory, 'blocks', engine.blockMetas[0].ulid), tagIndexCodec);
    await block.acquire();
    const [series] = block.allSeries();
    block.cachedRollupColumns(series, 300_000, rollupColumnsFor(['count', 'sum']));
    block.cachedRollupColumns(series, 300_000, rollupColumnsFor(['count', 'sum']));
    block.cachedRollupColumns(series, 300_000, rollupColumnsFor(['sumsq']));
    expect(Object.fromEntries(block.rollupDecodes)).toEqual({ starts: 1, counts: 1, sums: 1, sumsqs: 1 });
    block.release();
  });

  it('bounds loaded blocks by the block cache, unloading the least recently queried, with the same answers', async () => {
    const directory = await temporaryDirectory();
    const points: Point[] = [];
    for (let time = 0; time < 12 * HOUR; time += 60_000) points.push(point('a', time, time / 60_000));
    const unbounded = await openEngine(directory, { compactionRangesMs: [] });
    await unbounded.write('default', points);
    await unbounded.persistHead();
    const expected = JSON.stringify(await readAll(unbounded));
    const blockCount = unbounded.blockMetas.length;
    const allBlocksBytes = unbounded.blockCache.bytes;
    expect(blockCount).toBeGreaterThanOrEqual(5);
    await unbounded.close();

    const engine = await openEngine(directory, { compactionRangesMs: [], blockCacheBytes: 1 });
    // Concurrent queries over every block and over single blocks: pinned blocks are never unloaded under them.
    const answers = await Promise.all([
      readAll(engine),
      engine.query('default', selection, 0, HOUR),
      readAll(engine),
      engine.query('default', selection, 10 * HOUR, 11 * HOUR),
    ]);
    expect(JSON.stringify(answers[0])).toBe(expected);
    expect(JSON.stringify(answers[2])).toBe(expected);
    expect(answers[1][0].samples.timestamps.length).toBe(61);
    expect(engine.blockCache.evictions).toBeGreaterThanOrEqual(blockCount - 1);
    expect(engine.blockCache.bytes).toBe(0);
    await engine.close();

    // A bound of about two and a half blocks keeps the two most recently queried loaded.
    const twoBlocks = await openEngine(directory, {
      compactionRangesMs: [],
      blockCacheBytes: Math.floor(2.5 * (allBlocksBytes / blockCount)),
    });
    expect(JSON.stringify(await readAll(twoBlocks))).toBe(expected);
    expect(twoBlocks.blockCache.bytes).toBeLessThanOrEqual(twoBlocks.blockCache.limitBytes);
    await twoBlocks.query('default', selection, 0, HOUR);
    const newest = twoBlocks.blockMetas.length - 1;
    const loaded = twoBlocks.blockMetas.map((_, index) => index).filter((index) => twoBlocks.isBlockLoaded(index));
    expect(loaded).toEqual([0, newest]);
    await twoBlocks.close();
  });

  it('deletes blocks past retention', async () => {
    const directory = await temporaryDirectory();
    const now = { value: 0 };
    const engine = await openEngine(directory, { retentionMs: 6 * HOUR, compactionRangesMs: [] }, now);
    const points: Point[] = [];
    for (let time = 0; time < 12 * HOUR; time += 60_000) points.push(point('a', time, 1));
    await engine.write('default', points);
    await engine.maintain();
    const oldest = Math.min(...engine.blockMetas.map((meta) => meta.minTime));
    expect(oldest).toBe(0);
    now.value = 12 * HOUR;
    await engine.maintain();
    expect(Math.min(...engine.blockMetas.map((meta) => meta.minTime))).toBe(6 * HOUR);
    const [series] = await engine.query('default', selection, 0, 24 * HOUR);
    expect(series.samples.timestamps[0]).toBe(6 * HOUR);
    await engine.close();
  });

  it('keeps tenants apart in queries and metadata', async () => {
    const engine = await openEngine(await temporaryDirectory());
    await engine.write('default', [point('a', 1000, 1)]);
    await engine.write('acme', [{ ...point('secret', 1000, 2), measurement: 'mem' }]);
    expect(await engine.measurements('default')).toEqual(['cpu']);
    expect(await engine.measurements('acme')).toEqual(['mem']);
    expect(await engine.tagValues('default', 'cpu', 'host')).toEqual(['a']);
    expect(await engine.query('default', { ...selection, measurement: 'mem' }, 0, 2000)).toEqual([]);
    await engine.close();
  });

  it('restores applied queue offsets after a restart and after a WAL checkpoint', async () => {
    const directory = await temporaryDirectory();
    let engine = await openEngine(directory);
    await engine.write('default', [point('a', 0, 1)], new Map([[0, 41]]));
    await engine.write('default', [point('a', 3 * HOUR, 1)], new Map([[3, 7]]));
    await engine.maintain();
    await engine.close();
    engine = await openEngine(directory);
    expect([...engine.appliedOffsets].sort()).toEqual([
      [0, 41],
      [3, 7],
    ]);
    await engine.close();
  });

  it('leaves a readable store after a crash at any point of a compaction', async () => {
    const directory = await temporaryDirectory();
    let engine = await openEngine(directory, { compactionRangesMs: [] });
    const points: Point[] = [];
    for (let time = 0; time < 9 * HOUR; time += 60_000)
      points.push(point('a', time, time / 60_000), point('b', time, 1));
    await engine.write('default', points);
    await engine.maintain();
    const expected = JSON.stringify(await readAll(engine));
    await engine.close();
    const blocksDirectory = path.join(directory, 'blocks');
    const sources = await fs.readdir(blocksDirectory);
    const saved = await temporaryDirectory();
    for (const name of sources)
      await fs.cp(path.join(blocksDirectory, name), path.join(saved, name), { recursive: true });

    engine = await openEngine(directory);
    await engine.maintain();
    const merged = engine.blockMetas.find((meta) => meta.compaction.level === 2)!;
    expect(merged).toBeDefined();
    await engine.close();
    // Crash after the merged block's rename but before its sources were deleted: both are on disk.
    for (const name of sources)
      await fs.cp(path.join(saved, name), path.join(blocksDirectory, name), { recursive: true });
    // And a half-written block from a later, interrupted compaction.
    await fs.cp(
      path.join(blocksDirectory, merged.ulid),
      path.join(blocksDirectory, `${merged.ulid.slice(0, -1)}Z.tmp`),
      { recursive: true },
    );

    engine = await openEngine(directory);
    expect(JSON.stringify(await readAll(engine))).toBe(expected);
    const remaining = await fs.readdir(blocksDirectory);
    expect(remaining.some((name) => name.includes('.tmp'))).toBe(false);
    expect(remaining.filter((name) => merged.compaction.sources.includes(name))).toEqual([]);
    await engine.close();
  });
});
