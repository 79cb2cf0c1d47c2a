import type { Logger } from '../../services/kit/logger';
import { mergeConditions, type Condition } from '../runtime/conditions';
import type { Reconcile } from '../runtime/controller';
import type { EventRecorder } from '../runtime/events';
import type { Informer } from '../runtime/informer';
import { isNotFound, resources, type KubeClient } from '../runtime/kube';
import { applyStatusIfChanged } from '../runtime/status-writer';
import { AlertingUnavailableError, type AlertingClient } from './client';
import { alertSummary, finalizer, ruleBody, ruleName } from './rule';
import type { AlertRule, AlertRuleStatus } from './types';

export interface AlertRuleDependencies {
  client: KubeClient;
  rules: Informer<AlertRule>;
  alerting: AlertingClient;
  recorder: EventRecorder;
  now(): number;
  logger: Logger;
  /** How often state and value are refreshed from `GET /alerts`. */
  refreshMs: number;
  /** After this long unable to reach the alerting service, a deleted AlertRule's finalizer is released anyway. */
  finalizerTimeoutMs: number;
}

export function alertRuleReconciler(deps: AlertRuleDependencies): Reconcile {
  return async (key) => {
    const rule = deps.rules.get(key);
    if (!rule) return undefined;
    if (rule.metadata.deletionTimestamp) return finalize(deps, rule);
    if (!rule.metadata.finalizers?.includes(finalizer))
      await setFinalizers(deps, rule, [...(rule.metadata.finalizers ?? []), finalizer]);

    const name = ruleName(rule);
    const generation = rule.metadata.generation;
    let synced: Omit<Condition, 'lastTransitionTime'>;
    let failure: unknown;
    try {
      const result = await deps.alerting.putRule(name, ruleBody(rule));
      synced =
        result.kind === 'synced'
          ? { type: 'Synced', status: 'True', reason: 'Synced', message: `rule ${name} is in the alerting service` }
          : { type: 'Synced', status: 'False', reason: 'InvalidRule', message: `${result.code}: ${result.message}` };
    } catch (error) {
      failure = error;
      synced = { type: 'Synced', status: 'False', reason: 'AlertingUnavailable', message: (error as Error).message };
    }
    const previous = rule.status?.conditions?.find((condition) => condition.type === 'Synced');
    if (previous?.status !== synced.status || previous?.reason !== synced.reason)
      deps.recorder.record(
        resources.alertRule,
        rule,
        synced.status === 'True' ? 'Normal' : 'Warning',
        synced.reason,
        synced.message,
      );

    let summary: Pick<AlertRuleStatus, 'state' | 'value' | 'lastEvaluationTime'> = {
      state: rule.status?.state,
      value: rule.status?.value,
      lastEvaluationTime: rule.status?.lastEvaluationTime,
    };
    if (synced.status === 'True') {
      try {
        summary = alertSummary(await deps.alerting.alerts(), name);
      } catch (error) {
        failure ??= error;
      }
    } else summary = { state: 'inactive' };

    const status: AlertRuleStatus = {
      observedGeneration: generation,
      ruleName: name,
      ...summary,
      conditions: mergeConditions(rule.status?.conditions, [{ ...synced, observedGeneration: generation }], deps.now()),
    };
    await applyStatusIfChanged(deps.client, resources.alertRule, rule, status);
    // An unreachable alerting service is retried with backoff; an invalid rule waits for the user to fix the spec.
    if (failure) throw failure;
    return synced.status === 'True' ? { requeueAfterMs: deps.refreshMs } : undefined;
  };
}

async function finalize(deps: AlertRuleDependencies, rule: AlertRule) {
  if (!rule.metadata.finalizers?.includes(finalizer)) return undefined;
  const name = ruleName(rule);
  try {
    await deps.alerting.deleteRule(name);
  } catch (error) {
    if (!(error instanceof AlertingUnavailableError)) throw error;
    const deletedAt = Date.parse(rule.metadata.deletionTimestamp!);
    const waitedMs = deps.now() - deletedAt;
    if (waitedMs < deps.finalizerTimeoutMs) {
      deps.logger.warn('alerting service unreachable while deleting a rule; will retry', { rule: name });
      // Checked again well before the release deadline rather than after an ever longer backoff.
      return { requeueAfterMs: Math.min(deps.finalizerTimeoutMs - waitedMs + 100, 5_000) };
    }
    deps.recorder.record(
      resources.alertRule,
      rule,
      'Warning',
      'FinalizerReleased',
      `the alerting service stayed unreachable for ${Math.round(waitedMs / 1000)}s; released the finalizer ` +
        `without deleting rule ${name} there (${error.message})`,
    );
  }
  await setFinalizers(
    deps,
    rule,
    (rule.metadata.finalizers ?? []).filter((candidate) => candidate !== finalizer),
  );
  return undefined;
}

async function setFinalizers(deps: AlertRuleDependencies, rule: AlertRule, finalizers: string[]): Promise<void> {
  try {
    await deps.client.mergePatch(resources.alertRule, rule.metadata.namespace!, rule.metadata.name, {
      // The resourceVersion makes the patch fail on a stale read instead of dropping someone else's finalizer.
      metadata: { finalizers, resourceVersion: rule.metadata.resourceVersion },
    });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}
