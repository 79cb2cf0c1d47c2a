import fc from 'fast-check';
import { validateMetricList, type ValidationLimits } from '../validation/metric';
import { serializeRecord } from './record';

const limits: ValidationLimits = { maxMetrics: 20, maxTags: 4, maxNameLength: 30, maxTagValueLength: 30 };

describe('serializeRecord', () => {
  it('equals JSON.stringify for every metric that passes validation', () => {
    const metric = fc.record(
      {
        name: fc.stringMatching(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,29}$/),
        value: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(-0, 1e21, 5e-324)),
        type: fc.constant('gauge'),
        tags: fc.dictionary(
          fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,9}$/),
          fc.string({ maxLength: 30, unit: 'binary' }),
          {
            maxKeys: 4,
          },
        ),
        timestamp: fc.integer({ min: 0, max: 8.64e15 }),
      },
      { requiredKeys: ['name', 'value'] },
    );
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, unit: 'binary' }),
        fc.string(),
        fc.array(metric, { minLength: 1, maxLength: 5 }),
        (client, tenant, raw) => {
          const validation = validateMetricList(raw, limits, 1_700_000_000_000);
          if (validation.kind !== 'valid') return;
          const expected = JSON.stringify({ key: client, value: { tenant, client, metrics: validation.metrics } });
          expect(serializeRecord(client, tenant, validation.metrics)).toBe(expected);
        },
      ),
    );
  });
});
