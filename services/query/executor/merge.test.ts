import type { SelectStatement } from '../parser/ast';
import { parse } from '../parser/parser';
import { planSelect } from '../planner/planner';
import { mergeShardBodies } from './merge';
import type { ShardBody } from './wire';

const OPTIONS = { now: 10 * 60_000, defaultRangeMs: 3_600_000, maxPoints: 10_000, exactPointsLimit: 1000 };
const LIMITS = { maxSeries: 100, maxPoints: 10_000 };
const planOf = (query: string) => planSelect(parse(query) as SelectStatement, OPTIONS);

const raw = (points: [number, number, Record<string, string>?][]): ShardBody => ({
  shard: 'http://shard-0',
  source: 0,
  mode: 'raw',
  text: JSON.stringify({
    data_points: points.map(([timestamp, value, tags]) => ({ timestamp, value, tags: tags ?? { host: 'a' } })),
  }),
});

const aggregate = (windows: object[], tags: Record<string, string> = {}): ShardBody => ({
  shard: 'http://shard-0',
  source: 0,
  mode: 'aggregate',
  text: JSON.stringify({ groups: [{ tags, windows }] }),
});

describe('mergeShardBodies', () => {
  it('counts a counter reset as a restart from zero and attributes each increase to the later point', () => {
    const plan = planOf(
      'SELECT rate(requests), derivative(requests, 1m) WHERE time >= 0 AND time < 180000 GROUP BY time(1m)',
    );
    // 10 → 40 (+30), reset to 5 (+5), 25 (+20) in the second minute; nothing in the third.
    const rows = mergeShardBodies(
      plan,
      [
        raw([
          [10_000, 10],
          [50_000, 40],
          [70_000, 5],
          [110_000, 25],
        ]),
      ],
      LIMITS,
    );
    expect(rows).toEqual([
      { time: 0, rate: 0.5, derivative: 30 },
      { time: 60_000, rate: 25 / 60, derivative: 25 },
      { time: 120_000, rate: null, derivative: null },
    ]);
  });

  it('sums counter increases of several series in one group', () => {
    const plan = planOf('SELECT rate(requests) WHERE time >= 0 AND time < 60000');
    const rows = mergeShardBodies(
      plan,
      [
        raw([
          [1000, 1],
          [2000, 2, { host: 'b' }],
          [3000, 11],
          [4000, 32, { host: 'b' }],
        ]),
      ],
      LIMITS,
    );
    expect(rows).toEqual([{ time: 0, rate: (10 + 30) / 60 }]);
  });

  it('fills empty windows with previous, linear and a number, and drops them with none', () => {
    const windows = [
      { start: 0, count: 1, sum: 10 },
      { start: 180_000, count: 1, sum: 40 },
    ];
    const fills = {
      'fill(previous)': [10, 10, 10, 40, 40],
      'fill(linear)': [10, 20, 30, 40, null],
      'fill(7)': [10, 7, 7, 40, 7],
      'fill(null)': [10, null, null, 40, null],
    };
    for (const [fill, expected] of Object.entries(fills)) {
      const plan = planOf(`SELECT sum(x) WHERE time >= 0 AND time < 300000 GROUP BY time(1m) ${fill}`);
      expect(mergeShardBodies(plan, [aggregate(windows)], LIMITS).map((row) => row.sum)).toEqual(expected);
    }
    const plan = planOf('SELECT sum(x) WHERE time >= 0 AND time < 300000 GROUP BY time(1m) fill(none)');
    expect(mergeShardBodies(plan, [aggregate(windows)], LIMITS)).toEqual([
      { time: 0, sum: 10 },
      { time: 180_000, sum: 40 },
    ]);
  });

  it('merges partials from two shards exactly, first/last by time', () => {
    const plan = planOf(
      'SELECT avg(x), min(x), max(x), first(x), last(x), count(x), spread(x) WHERE time >= 0 AND time < 60000',
    );
    const rows = mergeShardBodies(
      plan,
      [
        aggregate([
          { start: 0, count: 2, sum: 10, min: 1, max: 9, first: 9, first_time: 500, last: 1, last_time: 900 },
        ]),
        aggregate([
          { start: 0, count: 3, sum: 20, min: 2, max: 12, first: 2, first_time: 100, last: 12, last_time: 950 },
        ]),
      ],
      LIMITS,
    );
    expect(rows).toEqual([{ time: 0, avg: 6, min: 1, max: 12, first: 2, last: 12, count: 5, spread: 11 }]);
  });

  it('reads a missing tag as the empty string when grouping and filtering here', () => {
    const plan = planOf(
      "SELECT count(x) WHERE (region = '' OR region = 'east') AND time >= 0 AND time < 60000 GROUP BY region",
    );
    const rows = mergeShardBodies(
      plan,
      [
        {
          shard: 'http://shard-0',
          source: 0,
          mode: 'aggregate',
          text: JSON.stringify({
            groups: [
              { tags: { host: 'a' }, windows: [{ start: 0, count: 2 }] },
              { tags: { host: 'b', region: 'east' }, windows: [{ start: 0, count: 3 }] },
              { tags: { host: 'c', region: 'west' }, windows: [{ start: 0, count: 4 }] },
            ],
          }),
        },
      ],
      LIMITS,
    );
    expect(rows).toEqual([
      { time: 0, region: '', count: 2 },
      { time: 0, region: 'east', count: 3 },
    ]);
  });

  it('blames the shard for a body that is not JSON', () => {
    const plan = planOf('SELECT sum(x) WHERE time >= 0 AND time < 60000');
    expect(() =>
      mergeShardBodies(plan, [{ shard: 'http://shard-9', source: 0, mode: 'aggregate', text: '<html>' }], LIMITS),
    ).toThrow(expect.objectContaining({ code: 'shard_failed', details: { shard: 'http://shard-9' } }));
  });

  it('answers null for a division by zero and refuses more series than the limit', () => {
    const plan = planOf('SELECT sum(x) / 0 AS ratio, 1 / count(x) WHERE time >= 0 AND time < 60000 GROUP BY host');
    const body = (host: string) => aggregate([{ start: 0, count: 1, sum: 1 }], { host });
    expect(mergeShardBodies(plan, [body('a')], LIMITS)).toEqual([{ time: 0, host: 'a', ratio: null, count: 1 }]);
    expect(() => mergeShardBodies(plan, [body('a'), body('b')], { ...LIMITS, maxSeries: 1 })).toThrow(
      expect.objectContaining({ code: 'too_many_series' }),
    );
  });
});
