import { alertSummary, ruleBody, ruleName } from './rule';
import type { AlertRule } from './types';

const rule: AlertRule = {
  metadata: { name: 'high-cpu', namespace: 'prod' },
  spec: { query: 'avg(cpu_usage) > 80', duration: '5m', channels: ['slack'], labels: { team: 'infra' } },
};

describe('AlertRule mapping', () => {
  test('the alerting rule is named after namespace and name and carries the design fields', () => {
    expect(ruleName(rule)).toBe('prod-high-cpu');
    expect(ruleBody(rule)).toEqual({
      name: 'prod-high-cpu',
      query: 'avg(cpu_usage) > 80',
      duration: '5m',
      channels: ['slack'],
      severity: 'warning',
      labels: { team: 'infra', severity: 'warning', namespace: 'prod' },
      annotations: {},
      enabled: true,
    });
  });

  test('the most severe alert of the rule wins; no alert means inactive', () => {
    expect(alertSummary([], 'prod-high-cpu')).toEqual({ state: 'inactive' });
    expect(
      alertSummary(
        [
          { rule: 'prod-high-cpu', state: 'pending', value: 81 },
          { rule: 'prod-high-cpu', state: 'firing', value: 95, lastEvaluation: 0 },
          { rule: 'other', state: 'firing', value: 1 },
          { rule: 'prod-high-cpu', state: 'resolved', value: 10 },
        ],
        'prod-high-cpu',
      ),
    ).toEqual({ state: 'firing', value: 95, lastEvaluationTime: '1970-01-01T00:00:00.000Z' });
  });
});
