import { countPoints, toChartData } from '../src/query/series';
import { counterRate, sumSamples } from '../src/status/prometheus-text';

describe('rows to chart series', () => {
  test('one line per group and value column, aligned on the union of times', () => {
    const data = toChartData([
      { time: 2000, host: 'b', avg: 2, max: 5 },
      { time: 1000, host: 'a', avg: 1, max: null },
      { time: 2000, host: 'a', avg: 3, max: 4 },
    ]);
    expect(data.times).toEqual([1000, 2000]);
    expect(data.tagColumns).toEqual(['host']);
    expect(data.valueColumns).toEqual(['avg', 'max']);
    expect(data.series.map((entry) => [entry.label, entry.values])).toEqual([
      ['avg{host="b"}', [null, 2]],
      ['max{host="b"}', [null, 5]],
      ['avg{host="a"}', [1, 3]],
      ['max{host="a"}', [null, 4]],
    ]);
    expect(countPoints(data)).toBe(5);
  });

  test('a single column is labelled by its group, an ungrouped answer by its column', () => {
    expect(toChartData([{ time: 1, dc: 'x', host: 'a', p95: 1 }]).series[0].label).toBe('{dc="x", host="a"}');
    expect(toChartData([{ time: 1, mean: 1 }]).series[0].label).toBe('mean');
  });

  test('SHOW answers have nothing to chart', () => {
    const data = toChartData([{ name: 'cpu' }, { name: 'mem' }]);
    expect(data.series).toEqual([]);
    expect(countPoints(data)).toBe(0);
  });
});

describe('Prometheus text', () => {
  const text = [
    '# HELP ingestion_metrics_accepted_total metrics accepted',
    '# TYPE ingestion_metrics_accepted_total counter',
    'ingestion_metrics_accepted_total{endpoint="metrics",service="ingestion"} 40',
    'ingestion_metrics_accepted_total{endpoint="remote_write",note="a}b"} 2 1700000000000',
    'ingestion_metrics_accepted_total_other 99',
    'up 1',
  ].join('\n');

  test('sums every sample of one metric, whatever its labels', () => {
    expect(sumSamples(text, 'ingestion_metrics_accepted_total')).toBe(42);
    expect(sumSamples(text, 'up')).toBe(1);
    expect(sumSamples(text, 'absent')).toBeUndefined();
  });

  test('counter rate per second, with a reset counted from zero', () => {
    expect(counterRate(undefined, { value: 5, at: 1000 })).toBeUndefined();
    expect(counterRate({ value: 10, at: 1000 }, { value: 30, at: 3000 })).toBe(10);
    expect(counterRate({ value: 10, at: 1000 }, { value: 4, at: 3000 })).toBe(2);
    expect(counterRate({ value: 10, at: 1000 }, { value: 12, at: 1000 })).toBeUndefined();
  });
});
