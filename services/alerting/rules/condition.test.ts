import fc from 'fast-check';
import { RuleError } from '../errors';
import { compare, formatDuration, parseCondition } from './condition';
import { validateRule } from './rule';
import { renderTemplate } from './template';

const minute = 60_000;

describe('parseCondition: shorthand', () => {
  test.each([
    ['avg(cpu_usage) > 80', 'SELECT avg(cpu_usage) AS value WHERE time > now() - 1m', '>', 80, []],
    ['p99(latency_ms) >= 250', 'SELECT p99(latency_ms) AS value WHERE time > now() - 1m', '>=', 250, []],
    [
      'avg(cpu_usage) by (host) > 80',
      'SELECT avg(cpu_usage) AS value WHERE time > now() - 1m GROUP BY host',
      '>',
      80,
      ['host'],
    ],
    [
      `avg(cpu_usage{host="a", dc!='x\\'y', pod=~"web/.*"}) by (host, dc) < -1.5e2`,
      "SELECT avg(cpu_usage) AS value WHERE host = 'a' AND dc != 'x\\'y' AND pod =~ /web\\/.*/ AND time > now() - 1m GROUP BY host, dc",
      '<',
      -150,
      ['host', 'dc'],
    ],
    [
      'percentile(latency_ms{svc="api"}, 95) != 0',
      "SELECT percentile(latency_ms, 95) AS value WHERE svc = 'api' AND time > now() - 1m",
      '!=',
      0,
      [],
    ],
    ['  max(node:cpu) == 1', 'SELECT max("node:cpu") AS value WHERE time > now() - 1m', '==', 1, []],
  ])('%s', (text, query, comparator, threshold, groupBy) => {
    expect(parseCondition(text, minute)).toEqual({ query, comparator, threshold, groupBy });
  });

  test.each([
    ['avg cpu_usage > 80', 4, "expected '('"],
    ['avg(cpu_usage) 80', 15, 'expected a comparison'],
    ['avg(cpu_usage) > ', 17, 'expected a number'],
    ['avg(cpu_usage{host}) > 1', 18, "expected '=', '!='"],
    ['avg(cpu_usage{host="a) > 1', 19, 'unterminated tag value'],
    ['avg(cpu_usage{host=~"("}) > 1', 20, 'invalid regular expression'],
    ['avg(cpu_usage) by () > 1', 19, 'expected a tag key'],
    ['avg(cpu_usage) > 80 and more', 20, 'expected end of condition'],
    ['percentile(x) > 1', 12, 'percentile needs a second argument'],
    ['SELECT avg(cpu_usage)', 21, 'expected the SELECT to end with a comparison'],
  ])('%s is refused at %d', (text, position, message) => {
    const error = (() => {
      try {
        parseCondition(text, minute);
      } catch (caught) {
        return caught as RuleError;
      }
      throw new Error('parsed');
    })();
    expect(error).toBeInstanceOf(RuleError);
    expect(error.code).toBe('parse_error');
    expect(error.details.position).toBe(position);
    expect(error.message).toContain(message);
  });

  test('only ever throws RuleError', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          parseCondition(text, minute);
        } catch (error) {
          return error instanceof RuleError;
        }
        return true;
      }),
    );
  });
});

describe('parseCondition: full SELECT', () => {
  test.each([
    [
      "SELECT avg(cpu_usage) WHERE host='a' GROUP BY host > 80",
      "SELECT avg(cpu_usage) WHERE (host='a') AND time > now() - 5m GROUP BY host",
      ['host'],
    ],
    ['select max(mem) >= 1', 'select max(mem) WHERE time > now() - 5m', []],
    [
      'SELECT max(mem) GROUP BY host, dc < 1',
      'SELECT max(mem) WHERE time > now() - 5m GROUP BY host, dc',
      ['host', 'dc'],
    ],
    [
      "SELECT avg(x) WHERE time > now() - 10m AND a = 'group by' > 2",
      "SELECT avg(x) WHERE time > now() - 10m AND a = 'group by'",
      [],
    ],
  ])('%s', (text, query, groupBy) => {
    expect(parseCondition(text, 5 * minute)).toMatchObject({ query, groupBy });
  });
});

describe('helpers', () => {
  test('compare', () => {
    expect([compare(2, '>', 1), compare(1, '>', 1), compare(1, '>=', 1), compare(0, '<', 1)]).toEqual([
      true,
      false,
      true,
      true,
    ]);
    expect([compare(1, '<=', 1), compare(1, '==', 1), compare(1, '!=', 1)]).toEqual([true, true, false]);
  });

  test('formatDuration picks the largest exact unit', () => {
    expect([formatDuration(60_000), formatDuration(90_000), formatDuration(1500), formatDuration(7_200_000)]).toEqual([
      '1m',
      '90s',
      '1500ms',
      '2h',
    ]);
  });

  test('templates render value, labels, rule and threshold', () => {
    const context = { value: 85.123456789, labels: { host: 'a' }, rule: 'cpu', threshold: 80 };
    expect(
      renderTemplate('{{ $rule }}: {{$labels.host}} at {{ $value }} > {{ $threshold }} {{ $other }}', context),
    ).toBe('cpu: a at 85.1235 > 80 {{ $other }}');
    expect(renderTemplate('{{ $value }} {{ $labels.none }}.', { ...context, value: null })).toBe('no data .');
  });
});

describe('validateRule', () => {
  test('the design document body, with defaults', () => {
    const rule = validateRule({
      name: 'high_cpu_alert',
      query: 'avg(cpu_usage) > 80',
      duration: '5m',
      channels: ['slack', 'email'],
    });
    expect(rule.spec).toEqual({
      name: 'high_cpu_alert',
      query: 'avg(cpu_usage) > 80',
      duration: '5m',
      channels: ['slack', 'email'],
      window: '1m',
      labels: {},
      annotations: {},
      severity: 'warning',
      nodata: 'ok',
      enabled: true,
    });
    expect(rule).toMatchObject({ durationMs: 300_000, windowMs: 60_000, keepFiringForMs: 0 });
  });

  test('lists every problem', () => {
    expect(() =>
      validateRule({
        name: '1bad',
        query: '',
        duration: 'soon',
        window: '10ms',
        severity: 'loud',
        nodata: 'maybe',
        extra: 1,
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'invalid_rule',
        details: {
          problems: expect.arrayContaining([
            'extra: unknown field',
            expect.stringContaining('name:'),
            expect.stringContaining('query:'),
            expect.stringContaining('duration:'),
            expect.stringContaining('window:'),
            expect.stringContaining('severity:'),
            expect.stringContaining('nodata:'),
          ]),
        },
      }),
    );
  });

  test('the path name must match the body name', () => {
    expect(() => validateRule({ name: 'a', query: 'avg(x) > 1', duration: '0s' }, 'b')).toThrow(
      expect.objectContaining({ code: 'rule_name_mismatch' }),
    );
    expect(validateRule({ query: 'avg(x) > 1', duration: 0 }, 'b').name).toBe('b');
  });
});
