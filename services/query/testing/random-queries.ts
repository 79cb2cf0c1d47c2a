import type { Random } from '../../kit/clock';
import { AGGREGATE_FUNCTIONS, type Call, type Condition, type Expression, type SelectStatement } from '../parser/ast';
import type { StoredPoint } from './storage-double';

/** Random data and random queries shared by the executor's oracle test and the cross-process tests. */
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)];

/** Series of gauges (cpu, mem) and counters with resets (requests), at distinct random times over three hours. */
export function generatePoints(random: Random, count: number, now: number): StoredPoint[] {
  const points: StoredPoint[] = [];
  const used = new Set<number>();
  const counters = new Map<string, number>();
  const times: number[] = [];
  while (times.length < count) {
    const time = now - Math.floor(random() * 3 * 3_600_000);
    if (!used.has(time)) {
      used.add(time);
      times.push(time);
    }
  }
  times.sort((a, b) => a - b);
  for (const timestamp of times) {
    const measurement = pick(random, ['cpu', 'cpu', 'mem', 'requests']);
    const tags: Record<string, string> = { host: pick(random, ['a', 'b', 'c']) };
    const region = pick(random, ['east', 'west', undefined]);
    if (region) tags.region = region;
    let value: number;
    if (measurement === 'requests') {
      const key = JSON.stringify(tags);
      const previous = counters.get(key) ?? 0;
      value = random() < 0.1 ? Math.floor(random() * 5) : previous + Math.floor(random() * 20);
      counters.set(key, value);
    } else value = Math.floor(random() * 1000) / 10;
    points.push({ measurement, tags, fields: { value }, timestamp });
  }
  return points;
}

const FUNCTIONS: readonly Call['name'][] = AGGREGATE_FUNCTIONS;

function randomCall(random: Random, measurement: string | undefined): Call {
  const field = measurement ? 'value' : pick(random, ['cpu', 'mem', 'requests']);
  const name = pick(random, FUNCTIONS);
  if (name === 'percentile') return { kind: 'call', name, field, argument: pick(random, [0, 10, 50, 75, 99.9, 100]) };
  if (name === 'derivative')
    return random() < 0.5 ? { kind: 'call', name, field } : { kind: 'call', name, field, argument: 60_000 };
  return { kind: 'call', name, field } as Call;
}

function randomExpression(random: Random, measurement: string | undefined): Expression {
  const call = randomCall(random, measurement);
  const roll = random();
  if (roll < 0.6) return call;
  if (roll < 0.8)
    return {
      kind: 'binary',
      operator: pick(random, ['+', '-', '*', '/'] as const),
      left: call,
      right: { kind: 'number', value: pick(random, [0, 2, 100]) },
    };
  return {
    kind: 'binary',
    operator: pick(random, ['+', '-', '*', '/'] as const),
    left: call,
    right: randomCall(random, measurement),
  };
}

function randomTagCondition(random: Random): Condition {
  const key = pick(random, ['host', 'region']);
  if (random() < 0.3)
    return {
      kind: 'regex',
      key,
      operator: pick(random, ['=~', '!~'] as const),
      pattern: pick(random, ['^a', 'e', '^(b|c)$', '^$']),
    };
  return {
    kind: 'tag',
    key,
    operator: pick(random, ['=', '!='] as const),
    value: pick(random, ['a', 'b', 'east', '']),
  };
}

export function randomStatement(random: Random): SelectStatement {
  const measurement = random() < 0.5 ? pick(random, ['cpu', 'requests']) : undefined;
  const fields = Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({
    expression: randomExpression(random, measurement),
  }));
  let condition: Condition = {
    kind: 'time',
    operator: pick(random, ['>', '>='] as const),
    value: { base: { kind: 'now' }, offsets: [-pick(random, [20, 60, 150]) * 60_000] },
  };
  if (random() < 0.3)
    condition = {
      kind: 'and',
      left: condition,
      right: { kind: 'time', operator: '<', value: { base: { kind: 'now' }, offsets: [-10 * 60_000] } },
    };
  const tagRoll = random();
  if (tagRoll < 0.3) condition = { kind: 'and', left: randomTagCondition(random), right: condition };
  else if (tagRoll < 0.5)
    condition = {
      kind: 'and',
      left: condition,
      right: { kind: 'or', left: randomTagCondition(random), right: randomTagCondition(random) },
    };
  const statement: SelectStatement = {
    kind: 'select',
    fields,
    condition,
    groupBy: { tags: pick(random, [[], ['host'], ['host', 'region'], '*'] as const) as string[] | '*' },
    order: random() < 0.3 ? 'desc' : 'asc',
  };
  if (measurement) statement.measurement = measurement;
  if (random() < 0.7)
    statement.groupBy.time = {
      interval: pick(random, [60_000, 300_000, 420_000, 3_600_000]),
      offset: pick(random, [0, 0, 30_000]),
    };
  if (statement.groupBy.time || statement.groupBy.tags.length > 0)
    if (random() < 0.6)
      statement.fill = pick(random, [
        { kind: 'none' },
        { kind: 'null' },
        { kind: 'previous' },
        { kind: 'linear' },
        { kind: 'value', value: -1 },
      ] as const);
  if (random() < 0.2) statement.limit = Math.floor(random() * 5);
  if (random() < 0.15) statement.offset = Math.floor(random() * 3);
  if (random() < 0.15) statement.slimit = 1 + Math.floor(random() * 2);
  if (random() < 0.1) statement.soffset = 1;
  return statement;
}

export function expectRowsClose(
  actual: Record<string, unknown>[],
  expected: Record<string, unknown>[],
  relative: number,
  context: string,
) {
  const describe = () =>
    `${context}\nactual:   ${JSON.stringify(actual).slice(0, 1500)}\nexpected: ${JSON.stringify(expected).slice(0, 1500)}`;
  if (actual.length !== expected.length)
    throw new Error(`row count ${actual.length} != ${expected.length}\n${describe()}`);
  actual.forEach((row, index) => {
    const other = expected[index];
    if (JSON.stringify(Object.keys(row)) !== JSON.stringify(Object.keys(other)))
      throw new Error(`columns differ at row ${index}\n${describe()}`);
    for (const key of Object.keys(row)) {
      const a = row[key];
      const b = other[key];
      if (typeof a === 'number' && typeof b === 'number') {
        if (Math.abs(a - b) > relative * Math.max(Math.abs(a), Math.abs(b)) + 1e-9)
          throw new Error(`row ${index} ${key}: ${a} != ${b}\n${describe()}`);
      } else if (a !== b) throw new Error(`row ${index} ${key}: ${String(a)} != ${String(b)}\n${describe()}`);
    }
  });
}
