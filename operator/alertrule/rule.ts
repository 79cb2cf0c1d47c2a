import type { AlertEntry, AlertRule, AlertState } from './types';

export const finalizer = 'metricstream.io/alerting-rule';

/** The rule's name in the alerting service: stable, unique per cluster, and readable. */
export const ruleName = (rule: AlertRule) => `${rule.metadata.namespace}-${rule.metadata.name}`;

/** The body of `PUT /rules/{name}`: the design document's fields plus the optional ones the CRD carries. */
export function ruleBody(rule: AlertRule): Record<string, unknown> {
  const { spec } = rule;
  return {
    name: ruleName(rule),
    query: spec.query,
    duration: spec.duration ?? '0s',
    channels: spec.channels ?? [],
    ...(spec.window && { window: spec.window }),
    ...(spec.interval && { interval: spec.interval }),
    severity: spec.severity ?? 'warning',
    labels: { ...spec.labels, severity: spec.severity ?? 'warning', namespace: rule.metadata.namespace ?? 'default' },
    annotations: spec.annotations ?? {},
    enabled: spec.enabled ?? true,
  };
}

const states: readonly string[] = ['inactive', 'pending', 'firing'];

/**
 * The rule's state from `GET /alerts`: no entry (or a resolved one) means inactive. The alerting service may report
 * several alerts of one rule (one per label set); the most severe state wins and its value is shown.
 */
export function alertSummary(
  alerts: readonly AlertEntry[],
  name: string,
): { state: AlertState; value?: number; lastEvaluationTime?: string } {
  let best: { state: AlertState; value?: number; lastEvaluationTime?: string } | undefined;
  for (const alert of alerts) {
    if (alert.rule !== name) continue;
    const state = (states.includes(alert.state) ? alert.state : 'inactive') as AlertState;
    if (best && states.indexOf(state) <= states.indexOf(best.state)) continue;
    best = {
      state,
      ...(typeof alert.value === 'number' && Number.isFinite(alert.value) && { value: alert.value }),
      ...(alert.lastEvaluation !== undefined && { lastEvaluationTime: new Date(alert.lastEvaluation).toISOString() }),
    };
  }
  return best ?? { state: 'inactive' };
}
