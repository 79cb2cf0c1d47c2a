import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BlockBuilder, defaultBlockLayout } from '../block/builder';
import { BlockReader } from '../block/reader';
import { tagIndexCodec } from '../engine/index-codec';
import type { SeriesLabels } from '../series/series';
import { compactBlocks } from './compactor';

const HOUR = 3_600_000;
const labels: SeriesLabels = { tenant: 'default', measurement: 'cpu', field: 'value', tags: [['host', 'a']] };
const layout = { ...defaultBlockLayout, samplesPerChunk: 100 };

async function writeBlock(directory: string, ulid: string, minTime: number, times: number[], value: number) {
  const builder = new BlockBuilder(layout, tagIndexCodec);
  builder.addSeries(labels, { timestamps: Float64Array.from(times), values: Float64Array.from(times, () => value) });
  await builder.write(directory, ulid, { minTime, maxTime: minTime + 2 * HOUR }, { level: 1, sources: [] });
  return BlockReader.open(path.join(directory, ulid), tagIndexCodec);
}

const range = (from: number, to: number, step: number) =>
  Array.from({ length: Math.ceil((to - from) / step) }, (_, index) => from + index * step);

describe('compactBlocks', () => {
  it('copies disjoint blocks and merges overlapping ones last-write-wins', async () => {
    const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'compactor-test-'));
    const older = await writeBlock(directory, '00000000000000000000000001', 0, range(0, 2 * HOUR, 10_000), 1);
    const newer = await writeBlock(directory, '00000000000000000000000002', 0, range(HOUR, 2 * HOUR, 5_000), 2);
    const next = await writeBlock(
      directory,
      '00000000000000000000000003',
      2 * HOUR,
      range(2 * HOUR, 4 * HOUR, 10_000),
      3,
    );
    const plan = {
      rangeMs: 6 * HOUR,
      level: 2,
      minTime: 0,
      maxTime: 4 * HOUR,
      sources: [older.meta, newer.meta, next.meta],
    };
    const meta = await compactBlocks(
      directory,
      plan,
      [older, newer, next],
      '00000000000000000000000004',
      layout,
      tagIndexCodec,
    );
    const merged = await BlockReader.open(path.join(directory, meta.ulid), tagIndexCodec);
    await merged.load();
    const [series] = merged.select('default', 'cpu', 'value', []);
    const samples = merged.samplesOf(series);
    const expected = new Map<number, number>();
    for (const time of range(0, 2 * HOUR, 10_000)) expected.set(time, 1);
    for (const time of range(HOUR, 2 * HOUR, 5_000)) expected.set(time, 2);
    for (const time of range(2 * HOUR, 4 * HOUR, 10_000)) expected.set(time, 3);
    expect(Array.from(samples.timestamps)).toEqual([...expected.keys()].sort((a, b) => a - b));
    expect(Array.from(samples.values)).toEqual(
      [...expected.keys()].sort((a, b) => a - b).map((time) => expected.get(time)),
    );
    expect(meta).toMatchObject({
      compaction: { level: 2, sources: [older.meta.ulid, newer.meta.ulid, next.meta.ulid] },
    });
    const rows = merged.rollupColumns(series, 300_000)!;
    expect(Array.from(rows.counts).reduce((a, b) => a + b, 0)).toBe(expected.size);
  });
});
