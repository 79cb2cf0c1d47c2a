import fc from 'fast-check';
import type { Matcher, Point } from '../series/series';
import { Head, type SeriesIndex } from './head';

/** A stand-in for index/'s TagIndex: a linear scan, enough to test the head alone. */
class ScanIndex implements SeriesIndex {
  private readonly entries: { id: number; name: string; tags: Record<string, string> }[] = [];
  add(seriesId: number, measurement: string, tags: Record<string, string>): void {
    this.entries.push({ id: seriesId, name: measurement, tags });
  }
  select(measurement: string, matchers: readonly Matcher[]): Uint32Array {
    const matches = (tags: Record<string, string>, matcher: Matcher) => {
      const value = tags[matcher.key] ?? '';
      const regex = new RegExp(`^(?:${matcher.value})$`);
      return matcher.op === '='
        ? value === matcher.value
        : matcher.op === '!='
          ? value !== matcher.value
          : matcher.op === '=~'
            ? regex.test(value)
            : !regex.test(value);
    };
    return Uint32Array.from(
      this.entries
        .filter((entry) => entry.name === measurement && matchers.every((matcher) => matches(entry.tags, matcher)))
        .map((entry) => entry.id),
    );
  }
  measurements(): string[] {
    return [...new Set(this.entries.map((entry) => entry.name))];
  }
  tagKeys(): string[] {
    return [];
  }
  tagValues(): string[] {
    return [];
  }
}

const point = (timestamp: number, value: number, host = 'a'): Point => ({
  measurement: 'cpu',
  tags: [['host', host]],
  fields: [['value', value]],
  timestamp,
});

const newHead = (outOfOrderWindowMs = 60_000) => new Head({ outOfOrderWindowMs, createIndex: () => new ScanIndex() });

const read = (head: Head, host = 'a', from = -Infinity, to = Infinity) => {
  const [series] = head.select('default', 'cpu', 'value', [{ key: 'host', op: '=', value: host }]);
  if (!series) return [];
  const samples = series.samples(from, to);
  return Array.from(samples.timestamps, (timestamp, index) => [timestamp, samples.values[index]]);
};

describe('Head', () => {
  it('keeps the last write for an equal timestamp', () => {
    const head = newHead();
    head.append('default', [point(1000, 1), point(2000, 2), point(2000, 3), point(1000, 4)]);
    expect(read(head)).toEqual([
      [1000, 4],
      [2000, 3],
    ]);
  });

  it('merges out-of-order samples inside the window and rejects older ones with a reason', () => {
    const head = newHead(10_000);
    const result = head.append('default', [point(100_000, 1), point(95_000, 2), point(80_000, 3)]);
    expect(result.rejections).toEqual([expect.objectContaining({ index: 2, reason: 'out_of_order' })]);
    expect(result.accepted.timestamps).toEqual(Float64Array.from([100_000, 95_000]));
    expect(read(head)).toEqual([
      [95_000, 2],
      [100_000, 1],
    ]);
  });

  it('rejects samples before the persisted boundary as too old', () => {
    const head = newHead();
    head.append('default', [point(10_000, 1), point(20_000, 2)]);
    head.dropBefore(15_000);
    expect(read(head)).toEqual([[20_000, 2]]);
    expect(head.append('default', [point(14_000, 1)]).rejections[0].reason).toBe('too_old');
  });

  it('keeps tenants apart', () => {
    const head = newHead();
    head.append('default', [point(1, 1)]);
    head.append('other', [point(1, 2)]);
    expect(head.select('other', 'cpu', 'value', []).map((series) => series.samples(0, 10).values[0])).toEqual([2]);
  });

  it('answers like a brute-force map for any arrival order inside the window (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2_000 }), fc.double({ noNaN: true })), { maxLength: 600 }),
        (writes) => {
          const head = newHead(1_000_000);
          const expected = new Map<number, number>();
          head.append(
            'default',
            writes.map(([timestamp, value]) => point(timestamp, value)),
          );
          for (const [timestamp, value] of writes) expected.set(timestamp, value);
          const sorted = [...expected].sort((a, b) => a[0] - b[0]);
          expect(read(head)).toEqual(sorted);
          expect(read(head, 'a', 500, 1500)).toEqual(
            sorted.filter(([timestamp]) => timestamp >= 500 && timestamp <= 1500),
          );
        },
      ),
      { seed: 42, numRuns: 200 },
    );
  });

  it('answers like a brute-force model across cuts, with too-old and out-of-order rejections (property)', () => {
    const windowMs = 300;
    const write = fc.tuple(
      fc.integer({ min: 0, max: 4_000 }),
      fc.oneof(fc.double(), fc.constantFrom(NaN, -0, Infinity, -Infinity)),
      fc.constantFrom('a', 'b'),
    );
    const step = fc.oneof(
      { weight: 3, arbitrary: fc.array(write, { minLength: 1, maxLength: 200 }).map((writes) => ({ writes })) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 4_200 }).map((cut) => ({ cut })) },
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 10 }), (steps) => {
        const head = newHead(windowMs);
        const model = new Map<string, Map<number, number>>([
          ['a', new Map()],
          ['b', new Map()],
        ]);
        let minValidTime = -Infinity;
        for (const entry of steps) {
          if ('cut' in entry) {
            head.dropBefore(entry.cut);
            minValidTime = Math.max(minValidTime, entry.cut);
            for (const samples of model.values())
              for (const time of [...samples.keys()]) if (time < entry.cut) samples.delete(time);
          } else {
            const expectedReasons = entry.writes.map(([time, value, host]) => {
              const samples = model.get(host)!;
              const newest = Math.max(-Infinity, ...samples.keys());
              if (time < minValidTime) return 'too_old';
              if (time < newest - windowMs) return 'out_of_order';
              samples.set(time, value);
              return undefined;
            });
            const result = head.append(
              'default',
              entry.writes.map(([time, value, host]) => point(time, value, host)),
            );
            const reasons: (string | undefined)[] = expectedReasons.map(() => undefined);
            for (const rejection of result.rejections) reasons[rejection.index] = rejection.reason;
            expect(reasons).toEqual(expectedReasons);
          }
          for (const [host, samples] of model) {
            const sorted = [...samples].sort((left, right) => left[0] - right[0]);
            expect(read(head, host)).toEqual(sorted);
          }
          // A rejected write may leave an empty series behind until the next cut removes it.
          if ('cut' in entry)
            expect(head.seriesCount).toBe([...model.values()].filter((samples) => samples.size > 0).length);
        }
      }),
      { seed: 11, numRuns: 150 },
    );
  });

  it('restores the same state from its WAL records', () => {
    const head = newHead();
    const result = head.append('default', [point(1000, 1, 'a'), point(2000, 2, 'b'), point(1500, 3, 'a')]);
    const restored = newHead();
    restored.restoreSeries(result.newSeries);
    restored.restoreSamples(result.accepted, new Map([[3, 17]]));
    expect(read(restored, 'a')).toEqual(read(head, 'a'));
    expect(read(restored, 'b')).toEqual(read(head, 'b'));
    expect(restored.appliedOffsets.get(3)).toBe(17);
    // A restored series is found again by later appends (the append path builds the same key).
    expect(restored.append('default', [point(3000, 5, 'a')]).newSeries).toEqual([]);
    expect(restored.seriesCount).toBe(2);
  });

  it('finds series by a tags array shared across batches, tenants, measurements and fields, and after removals', () => {
    const head = newHead();
    const tags: Point['tags'] = [['host', 'a']];
    const shared = (measurement: string, field: string, timestamp: number, value: number): Point => ({
      measurement,
      tags,
      fields: [[field, value]],
      timestamp,
    });
    head.append('default', [shared('cpu', 'value', 1000, 1), shared('cpu', 'idle', 1000, 2)]);
    head.append('other', [shared('cpu', 'value', 1000, 3)]);
    head.append('default', [shared('mem', 'value', 1000, 4), shared('cpu', 'value', 2000, 5)]);
    // A different array with the same tags is the same series.
    head.append('default', [point(3000, 6, 'a')]);
    expect(head.seriesCount).toBe(4);
    expect(read(head)).toEqual([
      [1000, 1],
      [2000, 5],
      [3000, 6],
    ]);
    expect(head.select('other', 'cpu', 'value', []).map((series) => series.samples(0, 5000).values[0])).toEqual([3]);
    expect(head.select('default', 'cpu', 'idle', []).map((series) => series.samples(0, 5000).values[0])).toEqual([2]);
    // Every series empties and is removed; the same array then makes a new, live series.
    head.dropBefore(5000);
    expect(head.seriesCount).toBe(0);
    const result = head.append('default', [shared('cpu', 'value', 6000, 7)]);
    expect(result.newSeries).toHaveLength(1);
    expect(read(head)).toEqual([[6000, 7]]);
  });
});
