import fc from 'fast-check';
import { MAX_REPORTED_PROBLEMS, validateMetricsBody, type ValidationLimits } from './metric';

const limits: ValidationLimits = { maxMetrics: 5, maxTags: 2, maxNameLength: 20, maxTagValueLength: 8 };
const NOW = 1_700_000_000_000;
const validate = (body: unknown) => validateMetricsBody(body, limits, NOW);

describe('validateMetricsBody', () => {
  it('accepts the design document example and fills in the defaults', () => {
    expect(validate({ metrics: [{ name: 'cpu_usage', value: 75.5, type: 'gauge' }] })).toEqual({
      kind: 'valid',
      metrics: [{ name: 'cpu_usage', value: 75.5, type: 'gauge', tags: {}, timestamp: NOW }],
    });
    expect(
      validate({ metrics: [{ name: 'ns:req_total', value: 3, type: 'counter', tags: { host: 'a' }, timestamp: 5 }] }),
    ).toEqual({
      kind: 'valid',
      metrics: [{ name: 'ns:req_total', value: 3, type: 'counter', tags: { host: 'a' }, timestamp: 5 }],
    });
    expect(validate({ metrics: [{ name: 'no_type', value: 1 }] })).toMatchObject({
      kind: 'valid',
      metrics: [{ type: 'gauge' }],
    });
  });

  it.each([
    [null, 'invalid_body'],
    [[], 'invalid_body'],
    [{}, 'invalid_body'],
    [{ metrics: {} }, 'invalid_body'],
    [{ metrics: [] }, 'invalid_body'],
  ])('rejects the body %j as %s', (body, kind) => expect(validate(body).kind).toBe(kind));

  it('bounds the metrics per request', () => {
    const metrics = Array.from({ length: 6 }, () => ({ name: 'a', value: 1, type: 'gauge' }));
    expect(validate({ metrics })).toEqual({ kind: 'too_many_metrics', count: 6, limit: 5 });
  });

  it.each([
    [{ name: '9lives', value: 1 }, 'name'],
    [{ name: 'has-dash', value: 1 }, 'name'],
    [{ name: '', value: 1 }, 'name'],
    [{ name: 'x'.repeat(21), value: 1 }, 'name'],
    [{ value: 1 }, 'name'],
    [{ name: 'a', value: '1' }, 'value'],
    [{ name: 'a', value: null }, 'value'],
    [{ name: 'a', value: 1, type: 'histogram' }, 'type'],
    [{ name: 'a', value: -1, type: 'counter' }, 'value'],
    [{ name: 'a', value: 1, tags: 'host=a' }, 'tags'],
    [{ name: 'a', value: 1, tags: { a: '1', b: '2', c: '3' } }, 'tags'],
    [{ name: 'a', value: 1, tags: { 'bad key': '1' } }, 'tags.bad key'],
    [{ name: 'a', value: 1, tags: { host: 7 } }, 'tags.host'],
    [{ name: 'a', value: 1, tags: { host: 'x'.repeat(9) } }, 'tags.host'],
    [{ name: 'a', value: 1, timestamp: 1.5 }, 'timestamp'],
    [{ name: 'a', value: 1, timestamp: -1 }, 'timestamp'],
    [{ name: 'a', value: 1, timestamp: '2024-01-01' }, 'timestamp'],
    ['cpu', ''],
  ])('rejects %j at field %j', (metric, field) => {
    expect(validate({ metrics: [{ name: 'fine', value: 1 }, metric] })).toEqual({
      kind: 'invalid_metrics',
      problems: [{ index: 1, field, message: expect.any(String) }],
    });
  });

  it('rejects non-finite values (which JSON.parse cannot produce but remote-write conversion might)', () => {
    for (const value of [NaN, Infinity, -Infinity])
      expect(validate({ metrics: [{ name: 'a', value }] }).kind).toBe('invalid_metrics');
  });

  it('names the first offending indexes, at most MAX_REPORTED_PROBLEMS of them, and accepts nothing', () => {
    const many = { maxMetrics: 100, maxTags: 2, maxNameLength: 20, maxTagValueLength: 8 };
    const metrics = Array.from({ length: 50 }, (_, index) => ({ name: index % 3 === 0 ? 'ok' : '-', value: 1 }));
    const result = validateMetricsBody({ metrics }, many, NOW);
    expect(result.kind).toBe('invalid_metrics');
    if (result.kind !== 'invalid_metrics') return;
    expect(result.problems.map((problem) => problem.index)).toEqual([1, 2, 4, 5, 7, 8, 10, 11, 13, 14]);
    expect(result.problems).toHaveLength(MAX_REPORTED_PROBLEMS);
  });

  it('never throws, whatever the body', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (body) => {
        const result = validate(body);
        expect(['valid', 'invalid_body', 'too_many_metrics', 'invalid_metrics']).toContain(result.kind);
      }),
    );
    fc.assert(
      fc.property(fc.array(fc.anything(), { maxLength: 6 }), (metrics) => {
        validate({ metrics });
      }),
    );
  });

  it('accepts every well-formed metric unchanged', () => {
    const metric = fc.record({
      name: fc.stringMatching(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,19}$/),
      value: fc.double({ noNaN: true, noDefaultInfinity: true, min: 0 }),
      type: fc.constantFrom('gauge', 'counter'),
      tags: fc.dictionary(fc.stringMatching(/^[a-z_][a-z0-9_]{0,10}$/), fc.string({ maxLength: 8 }), { maxKeys: 2 }),
      timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
    });
    fc.assert(
      fc.property(fc.array(metric, { minLength: 1, maxLength: 5 }), (metrics) => {
        expect(validate({ metrics })).toEqual({ kind: 'valid', metrics });
      }),
    );
  });
});
