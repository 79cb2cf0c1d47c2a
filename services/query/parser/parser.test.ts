import fc from 'fast-check';
import { ParseError } from '../errors';
import {
  AGGREGATE_FUNCTIONS,
  type Call,
  type Condition,
  type Expression,
  type SelectStatement,
  type Statement,
} from './ast';
import { parse } from './parser';
import { print } from './printer';

const select = (text: string) => {
  const statement = parse(text);
  if (statement.kind !== 'select') throw new Error(`not a select: ${statement.kind}`);
  return statement;
};

describe('parse', () => {
  it('reads the design document query exactly', () => {
    expect(select("SELECT avg(cpu_usage) WHERE host='server01' AND time > now() - 1h GROUP BY time(5m)")).toEqual({
      kind: 'select',
      fields: [{ expression: { kind: 'call', name: 'avg', field: 'cpu_usage' } }],
      condition: {
        kind: 'and',
        left: { kind: 'tag', key: 'host', operator: '=', value: 'server01' },
        right: { kind: 'time', operator: '>', value: { base: { kind: 'now' }, offsets: [-3_600_000] } },
      },
      groupBy: { time: { interval: 300_000, offset: 0 }, tags: [] },
      order: 'asc',
    });
  });

  it('reads the InfluxQL form with FROM, tag grouping and fill', () => {
    const statement = select(
      "select MEAN(value) from cpu_usage where host =~ /web.*/ and time >= '2023-10-08T18:00:00Z' group by time(5m, 1m), host fill(none)",
    );
    expect(statement.measurement).toBe('cpu_usage');
    expect(statement.fields[0].expression).toEqual({ kind: 'call', name: 'mean', field: 'value' });
    expect(statement.condition).toEqual({
      kind: 'and',
      left: { kind: 'regex', key: 'host', operator: '=~', pattern: 'web.*' },
      right: {
        kind: 'time',
        operator: '>=',
        value: { base: { kind: 'timestamp', milliseconds: Date.UTC(2023, 9, 8, 18) }, offsets: [] },
      },
    });
    expect(statement.groupBy).toEqual({ time: { interval: 300_000, offset: 60_000 }, tags: ['host'] });
    expect(statement.fill).toEqual({ kind: 'none' });
  });

  it('reads every aggregate function', () => {
    for (const name of AGGREGATE_FUNCTIONS) {
      const text = name === 'percentile' ? 'SELECT percentile(x, 99.5)' : `SELECT ${name}(x)`;
      const call = select(text).fields[0].expression as Call;
      expect(call.name).toBe(name);
    }
    expect(select('SELECT derivative(bytes, 1m)').fields[0].expression).toEqual({
      kind: 'call',
      name: 'derivative',
      field: 'bytes',
      argument: 60_000,
    });
  });

  it('reads arithmetic with precedence, unary minus and aliases', () => {
    const statement = select('SELECT (max(x) - min(x)) * 100 / 2 AS range, -avg(x), 1 + 2 * count(x) AS c FROM m');
    const call = (name: Call['name']): Expression => ({ kind: 'call', name, field: 'x' }) as Call;
    expect(statement.fields).toEqual([
      {
        expression: {
          kind: 'binary',
          operator: '/',
          left: {
            kind: 'binary',
            operator: '*',
            left: { kind: 'binary', operator: '-', left: call('max'), right: call('min') },
            right: { kind: 'number', value: 100 },
          },
          right: { kind: 'number', value: 2 },
        },
        alias: 'range',
      },
      { expression: { kind: 'negate', operand: call('avg') } },
      {
        expression: {
          kind: 'binary',
          operator: '+',
          left: { kind: 'number', value: 1 },
          right: { kind: 'binary', operator: '*', left: { kind: 'number', value: 2 }, right: call('count') },
        },
        alias: 'c',
      },
    ]);
  });

  it('gives AND precedence over OR and honours parentheses', () => {
    const tag = (value: string): Condition => ({ kind: 'tag', key: 'h', operator: '=', value });
    expect(select("SELECT sum(x) WHERE h='a' OR h='b' AND h='c'").condition).toEqual({
      kind: 'or',
      left: tag('a'),
      right: { kind: 'and', left: tag('b'), right: tag('c') },
    });
    expect(select("SELECT sum(x) WHERE (h='a' OR h='b') AND h <> 'c'").condition).toEqual({
      kind: 'and',
      left: { kind: 'or', left: tag('a'), right: tag('b') },
      right: { kind: 'tag', key: 'h', operator: '!=', value: 'c' },
    });
  });

  it('reads time bounds as now() arithmetic, epoch milliseconds and RFC 3339 strings', () => {
    const condition = select(
      "SELECT count(x) WHERE time > now() - 1h30m + 5s AND time <= 1696789234567 AND time < '2023-10-08 18:00:00.5+02:00' - 1w AND time = 5",
    ).condition;
    expect(condition).toEqual({
      kind: 'and',
      left: {
        kind: 'and',
        left: {
          kind: 'and',
          left: { kind: 'time', operator: '>', value: { base: { kind: 'now' }, offsets: [-5_400_000, 5000] } },
          right: {
            kind: 'time',
            operator: '<=',
            value: { base: { kind: 'epoch', milliseconds: 1696789234567 }, offsets: [] },
          },
        },
        right: {
          kind: 'time',
          operator: '<',
          value: {
            base: { kind: 'timestamp', milliseconds: Date.UTC(2023, 9, 8, 16, 0, 0, 500) },
            offsets: [-604_800_000],
          },
        },
      },
      right: { kind: 'time', operator: '=', value: { base: { kind: 'epoch', milliseconds: 5 }, offsets: [] } },
    });
  });

  it('reads every duration unit', () => {
    const units: [string, number][] = [
      ['250ms', 250],
      ['10s', 10_000],
      ['5m', 300_000],
      ['2h', 7_200_000],
      ['1d', 86_400_000],
      ['1w', 604_800_000],
    ];
    for (const [text, milliseconds] of units)
      expect(select(`SELECT avg(x) GROUP BY time(${text})`).groupBy.time?.interval).toBe(milliseconds);
  });

  it('reads GROUP BY *, fill modes, ORDER BY, LIMIT, OFFSET, SLIMIT, SOFFSET and a trailing semicolon', () => {
    const statement = select(
      'SELECT last(x) FROM m GROUP BY *, time(1m) fill(-1.5) ORDER BY time DESC LIMIT 10 OFFSET 2 SLIMIT 3 SOFFSET 1;',
    );
    expect(statement).toMatchObject<Partial<SelectStatement>>({
      groupBy: { tags: '*', time: { interval: 60_000, offset: 0 } },
      fill: { kind: 'value', value: -1.5 },
      order: 'desc',
      limit: 10,
      offset: 2,
      slimit: 3,
      soffset: 1,
    });
    for (const mode of ['none', 'null', 'previous', 'linear'] as const)
      expect(select(`SELECT sum(x) GROUP BY time(1m) fill(${mode})`).fill).toEqual({ kind: mode });
    expect(select('SELECT sum(x) ORDER BY time ASC').order).toBe('asc');
  });

  it('reads EXPLAIN and the metadata statements', () => {
    expect(parse('EXPLAIN SELECT p95(cpu)')).toEqual({
      kind: 'explain',
      statement: {
        kind: 'select',
        fields: [{ expression: { kind: 'call', name: 'p95', field: 'cpu' } }],
        groupBy: { tags: [] },
        order: 'asc',
      },
    });
    expect(parse('SHOW MEASUREMENTS')).toEqual({ kind: 'show-measurements' });
    expect(parse('show tag keys')).toEqual({ kind: 'show-tag-keys' });
    expect(parse('SHOW TAG KEYS FROM cpu')).toEqual({ kind: 'show-tag-keys', measurement: 'cpu' });
    expect(parse('SHOW TAG VALUES WITH KEY = host')).toEqual({ kind: 'show-tag-values', key: 'host' });
    expect(parse('SHOW TAG VALUES FROM "cpu usage" WITH KEY = "host"')).toEqual({
      kind: 'show-tag-values',
      measurement: 'cpu usage',
      key: 'host',
    });
  });

  it('reads quoted identifiers, escaped strings and escaped slashes in regexes', () => {
    const statement = select(
      `SELECT avg("my \\"field\\"") FROM "select" WHERE "time" = 'it\\'s' AND path =~ /^\\/api\\/v\\d+/`,
    );
    expect(statement.fields[0].expression).toEqual({ kind: 'call', name: 'avg', field: 'my "field"' });
    expect(statement.measurement).toBe('select');
    expect(statement.condition).toEqual({
      kind: 'and',
      left: { kind: 'tag', key: 'time', operator: '=', value: "it's" },
      right: { kind: 'regex', key: 'path', operator: '=~', pattern: '^/api/v\\d+' },
    });
  });
});

const identifier = fc.oneof(
  fc.stringMatching(/^[a-z_][a-z0-9_.]{0,8}$/),
  fc.constantFrom('time', 'select', 'from', 'host', 'cpu.usage'),
  fc.string({ maxLength: 6 }),
);
const finite = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 });
const duration = fc.integer({ min: 1, max: 10 ** 12 });

const call: fc.Arbitrary<Call> = fc.oneof(
  fc.record({
    kind: fc.constant('call' as const),
    name: fc.constantFrom(...AGGREGATE_FUNCTIONS.filter((name) => name !== 'percentile' && name !== 'derivative')),
    field: identifier,
  }),
  fc.record({
    kind: fc.constant('call' as const),
    name: fc.constant('percentile' as const),
    field: identifier,
    argument: fc.double({ min: 0, max: 100, noNaN: true }),
  }),
  fc.record(
    {
      kind: fc.constant('call' as const),
      name: fc.constant('derivative' as const),
      field: identifier,
      argument: duration,
    },
    { requiredKeys: ['kind', 'name', 'field'] },
  ),
);

const { expression } = fc.letrec<{ expression: Expression }>((tie) => ({
  expression: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    call,
    fc.record({ kind: fc.constant('number' as const), value: finite }),
    fc
      .record({ kind: fc.constant('negate' as const), operand: tie('expression') })
      .filter((negate) => negate.operand.kind !== 'number'),
    fc.record({
      kind: fc.constant('binary' as const),
      operator: fc.constantFrom('+' as const, '-' as const, '*' as const, '/' as const),
      left: tie('expression'),
      right: tie('expression'),
    }),
  ),
}));

const fieldExpression = fc
  .tuple(expression, call, fc.constantFrom('+' as const, '*' as const))
  .map(([left, right, operator]): Expression =>
    left.kind === 'call' ? left : { kind: 'binary', operator, left, right },
  );

const timeExpression = fc.record({
  base: fc.oneof(
    fc.constant({ kind: 'now' as const }),
    fc.record({ kind: fc.constant('epoch' as const), milliseconds: fc.integer({ min: 0, max: 2 ** 48 }) }),
    fc.record({ kind: fc.constant('timestamp' as const), milliseconds: fc.integer({ min: 0, max: 253402300799999 }) }),
  ),
  offsets: fc.array(
    fc.integer({ min: 1, max: 10 ** 10 }).chain((size) => fc.constantFrom(size, -size)),
    { maxLength: 3 },
  ),
});

const { condition } = fc.letrec<{ condition: Condition }>((tie) => ({
  condition: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({
      kind: fc.constant('tag' as const),
      key: identifier,
      operator: fc.constantFrom('=' as const, '!=' as const),
      value: fc.string({ maxLength: 8 }),
    }),
    fc.record({
      kind: fc.constant('regex' as const),
      key: identifier,
      operator: fc.constantFrom('=~' as const, '!~' as const),
      pattern: fc.stringMatching(/^([a-z0-9.*+?^$|/]|\\d|\\\\)*$/).filter((pattern) => {
        try {
          new RegExp(pattern);
          return true;
        } catch {
          return false;
        }
      }),
    }),
    fc.record({
      kind: fc.constant('time' as const),
      operator: fc.constantFrom('=' as const, '<' as const, '<=' as const, '>' as const, '>=' as const),
      value: timeExpression,
    }),
    fc.record({
      kind: fc.constantFrom('and' as const, 'or' as const),
      left: tie('condition'),
      right: tie('condition'),
    }),
  ),
}));

const selectStatement: fc.Arbitrary<SelectStatement> = fc
  .record(
    {
      kind: fc.constant('select' as const),
      fields: fc.array(
        fc.record({ expression: fieldExpression, alias: identifier }, { requiredKeys: ['expression'] }),
        { minLength: 1, maxLength: 3 },
      ),
      measurement: identifier,
      condition,
      groupBy: fc.record(
        {
          time: fc.record({ interval: duration, offset: fc.oneof(fc.constant(0), duration) }),
          tags: fc.oneof(fc.constant('*' as const), fc.array(identifier, { maxLength: 3 })),
        },
        { requiredKeys: ['tags'] },
      ),
      fill: fc.oneof(
        fc.constantFrom(
          { kind: 'none' as const },
          { kind: 'null' as const },
          { kind: 'previous' as const },
          { kind: 'linear' as const },
        ),
        fc.record({ kind: fc.constant('value' as const), value: finite }),
      ),
      order: fc.constantFrom('asc' as const, 'desc' as const),
      limit: fc.nat(),
      offset: fc.nat(),
      slimit: fc.nat(),
      soffset: fc.nat(),
    },
    { requiredKeys: ['kind', 'fields', 'groupBy', 'order'] },
  )
  .map((statement) => {
    // fill(...) is written after GROUP BY, so a statement without dimensions has no fill.
    const hasDimensions = statement.groupBy.time !== undefined || statement.groupBy.tags.length > 0;
    if (!hasDimensions) delete statement.fill;
    return statement;
  });

const statement: fc.Arbitrary<Statement> = fc.oneof(
  selectStatement,
  selectStatement.map((inner) => ({ kind: 'explain' as const, statement: inner })),
  fc.constant({ kind: 'show-measurements' as const }),
  fc.record({ kind: fc.constant('show-tag-keys' as const), measurement: identifier }, { requiredKeys: ['kind'] }),
  fc.record(
    { kind: fc.constant('show-tag-values' as const), measurement: identifier, key: identifier },
    { requiredKeys: ['kind', 'key'] },
  ),
);

describe('properties', () => {
  it('parse(print(ast)) equals ast', () => {
    fc.assert(
      fc.property(statement, (ast) => {
        expect(parse(print(ast))).toEqual(ast);
      }),
      { numRuns: 2000 },
    );
  });

  const throwsOnlyParseError = (text: string) => {
    try {
      parse(text);
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      expect(error.position).toBeGreaterThanOrEqual(0);
      expect(error.position).toBeLessThanOrEqual(text.length);
    }
  };

  it('throws nothing but ParseError, with a position inside the text, on arbitrary input', () => {
    fc.assert(fc.property(fc.string({ maxLength: 60 }), throwsOnlyParseError), { numRuns: 3000 });
  });

  it('throws nothing but ParseError on mutated valid queries', () => {
    const mutated = fc
      .tuple(statement.map(print), fc.nat(), fc.nat({ max: 6 }), fc.string({ maxLength: 3 }))
      .map(([text, at, removed, inserted]) => {
        const index = at % (text.length + 1);
        return text.slice(0, index) + inserted + text.slice(index + removed);
      });
    fc.assert(fc.property(mutated, throwsOnlyParseError), { numRuns: 3000 });
  });
});
