import type { Condition } from '../runtime/conditions';
import type { KubeObject } from '../runtime/kube';

export type AlertState = 'inactive' | 'pending' | 'firing';

export interface AlertRuleSpec {
  query: string;
  duration?: string;
  window?: string;
  interval?: string;
  severity?: 'critical' | 'warning' | 'info';
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  channels?: string[];
  enabled?: boolean;
}

export interface AlertRuleStatus {
  observedGeneration?: number;
  ruleName?: string;
  state?: AlertState;
  value?: number;
  lastEvaluationTime?: string;
  conditions?: Condition[];
}

export interface AlertRule extends KubeObject {
  spec: AlertRuleSpec;
  status?: AlertRuleStatus;
}

/** One entry of the alerting service's `GET /alerts` (docs/CONTRACTS.md). */
export interface AlertEntry {
  rule: string;
  state: string;
  value?: number | null;
  lastEvaluation?: string | number;
}
