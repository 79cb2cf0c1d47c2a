import { QueryError } from '../errors';
import type { SelectStatement, Statement } from '../parser/ast';
import { parse } from '../parser/parser';
import { explainPlan } from './explain';
import type { SelectPlan } from './plan';
import { planSelect, planStatement } from './planner';

const NOW = Date.UTC(2023, 9, 8, 18, 30);
const OPTIONS = { now: NOW, defaultRangeMs: 3_600_000, maxPoints: 100_000, exactPointsLimit: 1000 };
const plan = (text: string): SelectPlan => planSelect(parse(text) as SelectStatement, OPTIONS);

const planError = (text: string): QueryError => {
  try {
    planStatement(parse(text) as Statement, OPTIONS);
  } catch (error) {
    if (error instanceof QueryError) return error;
    throw error;
  }
  throw new Error(`expected ${text} to fail planning`);
};

describe('planSelect', () => {
  it('turns the design-document query into one aggregate source with the range resolved against now', () => {
    expect(plan("SELECT avg(cpu_usage) WHERE host='server01' AND time > now() - 1h GROUP BY time(5m)")).toMatchObject({
      start: NOW - 3_600_000 + 1,
      end: NOW + 1,
      isRelative: true,
      window: { interval: 300_000, offset: 0 },
      groupTags: [],
      matchers: [{ key: 'host', op: '=', value: 'server01' }],
      sources: [{ measurement: 'cpu_usage', field: 'value', strategy: 'aggregate', partials: ['count', 'sum'] }],
      slots: [{ source: 0, function: { kind: 'mean' } }],
      columns: [{ name: 'avg', expression: { kind: 'slot', slot: 0 } }],
      fill: { kind: 'null' },
    });
  });

  it('resolves bounds: > adds one millisecond, <= includes the end, = is one millisecond, the tightest wins', () => {
    expect(plan("SELECT sum(x) WHERE time >= '2023-10-08T00:00:00Z' AND time <= 1696723200000")).toMatchObject({
      start: Date.UTC(2023, 9, 8),
      end: 1696723200001,
      isRelative: false,
    });
    expect(plan('SELECT sum(x) WHERE time = 5000')).toMatchObject({ start: 5000, end: 5001 });
    expect(plan('SELECT sum(x) WHERE time > 10 AND time > 20 AND time < 100 AND time < 90')).toMatchObject({
      start: 21,
      end: 90,
    });
    expect(plan('SELECT sum(x) WHERE time < now() - 1d')).toMatchObject({
      start: NOW - 86_400_000 - 3_600_000,
      end: NOW - 86_400_000,
    });
  });

  it('names columns by function, InfluxDB-style for expressions, with aliases and suffixes for repeats', () => {
    const columns = plan('SELECT max(x), max(x) - min(x), max(y) AS top, p95(x), max(x) * 2 FROM m').columns.map(
      (column) => column.name,
    );
    expect(columns).toEqual(['max', 'max_min', 'top', 'p95', 'max_1']);
  });

  it('shares one slot between equal calls and one source per measurement and field', () => {
    const planned = plan('SELECT avg(cpu), mean(cpu) * 100, p99(mem), rate(requests)');
    expect(planned.slots).toHaveLength(3);
    expect(planned.sources).toEqual([
      { measurement: 'cpu', field: 'value', strategy: 'aggregate', partials: ['count', 'sum'] },
      { measurement: 'mem', field: 'value', strategy: 'quantile', partials: ['count', 'sketch'] },
      { measurement: 'requests', field: 'value', strategy: 'raw', partials: ['count'] },
    ]);
  });

  it('asks for sum, sumsq and count for stddev and min, max for spread', () => {
    expect(plan('SELECT stddev(value), spread(value) FROM cpu').sources[0].partials).toEqual([
      'count',
      'sum',
      'sumsq',
      'min',
      'max',
    ]);
  });

  it('keeps OR subtrees as a residual condition evaluated here and pushes the rest down', () => {
    const planned = plan("SELECT sum(x) WHERE region = 'east' AND (host = 'a' OR host =~ /^b/) AND time > now() - 1h");
    expect(planned.matchers).toEqual([{ key: 'region', op: '=', value: 'east' }]);
    expect(planned.residual).toEqual({
      kind: 'or',
      left: { kind: 'tag', key: 'host', operator: '=', value: 'a' },
      right: { kind: 'regex', key: 'host', operator: '=~', pattern: '^b' },
    });
  });

  it('refuses an empty range with empty_time_range', () => {
    const error = planError('SELECT avg(x) WHERE time > now() AND time < now() - 1h');
    expect(error.code).toBe('empty_time_range');
    expect(error.message).toMatch(/the time range is empty: it starts at 2023-10-08T18:30:00.001Z/);
  });

  it('refuses time bounds under OR with unsupported_condition', () => {
    expect(planError("SELECT avg(x) WHERE host = 'a' OR time > now() - 1h").code).toBe('unsupported_condition');
  });

  it('refuses a GROUP BY time that makes more windows than the points limit', () => {
    const error = planError('SELECT avg(x) WHERE time > now() - 1w GROUP BY time(1s)');
    expect(error.code).toBe('too_many_points');
    expect(error.details).toEqual({ windows: 604_801, limit: 100_000 });
  });

  it('passes metadata statements through and wraps EXPLAIN', () => {
    expect(planStatement(parse('SHOW TAG VALUES FROM cpu WITH KEY = host'), OPTIONS)).toEqual({
      kind: 'show-tag-values',
      measurement: 'cpu',
      key: 'host',
    });
    expect(planStatement(parse('EXPLAIN SELECT p95(cpu)'), OPTIONS).kind).toBe('explain');
  });
});

describe('explainPlan', () => {
  it('lists range, windows, filters, sources with their storage calls and columns', () => {
    const rows = explainPlan(
      plan(
        "SELECT avg(cpu) * 100 AS pct, p95(cpu) WHERE host != 'x' AND (dc = 'a' OR dc = 'b') AND time > now() - 1h GROUP BY time(5m), host fill(previous)",
      ),
      2,
    );
    expect(rows).toEqual([
      {
        step: 'query',
        detail:
          "SELECT avg(cpu) * 100 AS pct, p95(cpu) WHERE host != 'x' AND (dc = 'a' OR dc = 'b') AND time > now() - 1h GROUP BY time(5m), host fill(previous)",
      },
      {
        step: 'range',
        detail: '2023-10-08T17:30:00.001Z (inclusive) to 2023-10-08T18:30:00.001Z (exclusive), 1h, relative to now()',
      },
      {
        step: 'windows',
        detail:
          'GROUP BY time(5m), fill(previous); storage answers from the coarsest rollup tier that divides 300000 ms',
      },
      { step: 'groups', detail: 'host' },
      { step: 'filters pushed to storage', detail: 'host != "x"' },
      {
        step: 'filter applied here',
        detail: "dc = 'a' OR dc = 'b' (storage groups by every tag, series are filtered and regrouped here)",
      },
      {
        step: 'source 1: cpu.value',
        detail:
          'one pass: POST /v1/aggregate on 2 shards in parallel, aggregates [count, sum, sketch] (rollup tiers apply); total count at most 1000: raw points via POST /query, exact quantiles; more: the sketches in hand merge here, DDSketch quantiles within 1% relative error',
      },
      { step: 'column pct', detail: '(sum / count of cpu.value) * (100)' },
      { step: 'column p95', detail: 'percentile 95 (nearest rank) of cpu.value' },
      { step: 'output', detail: 'ORDER BY time ASC' },
    ]);
  });
});
