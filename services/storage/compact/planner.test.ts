import type { BlockMeta } from '../block/format';
import { expiredBlocks, planCompaction, supersededBlocks } from './planner';

const HOUR = 3_600_000;
const block = (ulid: string, minTime: number, maxTime: number, sources: string[] = []): BlockMeta => ({
  ulid,
  minTime,
  maxTime,
  stats: { series: 1, samples: 1, chunks: 1 },
  compaction: { level: sources.length > 0 ? 2 : 1, sources },
  version: 1,
});
const levels = [2 * HOUR, 6 * HOUR, 24 * HOUR];

describe('planCompaction', () => {
  it('merges the 2 h blocks of a complete 6 h range, never an incomplete one', () => {
    const blocks = [block('A', 0, 2 * HOUR), block('B', 2 * HOUR, 4 * HOUR), block('C', 6 * HOUR, 8 * HOUR)];
    expect(planCompaction(blocks, levels, 4 * HOUR)).toBeUndefined();
    const plan = planCompaction(blocks, levels, 8 * HOUR);
    expect(plan).toMatchObject({ level: 2, minTime: 0, maxTime: 4 * HOUR });
    expect(plan!.sources.map((source) => source.ulid)).toEqual(['A', 'B']);
  });

  it('climbs to the 24 h level once the day is complete', () => {
    const blocks = [0, 6, 12, 18].map((hour, index) => block(`D${index}`, hour * HOUR, (hour + 6) * HOUR, ['x']));
    expect(planCompaction(blocks, levels, 24 * HOUR)).toMatchObject({ level: 3, minTime: 0, maxTime: 24 * HOUR });
    expect(planCompaction(blocks, levels, 23 * HOUR)).toBeUndefined();
  });
});

describe('retention and recovery', () => {
  it('expires only blocks wholly older than the retention', () => {
    const blocks = [block('A', 0, 2 * HOUR), block('B', 2 * HOUR, 4 * HOUR)];
    expect(expiredBlocks(blocks, 2 * HOUR, 5 * HOUR).map((meta) => meta.ulid)).toEqual(['A']);
    expect(expiredBlocks(blocks, 0, 100 * HOUR)).toEqual([]);
  });

  it('finds the sources a finished merge left behind', () => {
    const blocks = [block('A', 0, 2 * HOUR), block('B', 2 * HOUR, 4 * HOUR), block('M', 0, 4 * HOUR, ['A', 'B'])];
    expect(supersededBlocks(blocks).map((meta) => meta.ulid)).toEqual(['A', 'B']);
  });
});
