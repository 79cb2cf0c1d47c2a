import { prom, type Registry } from '../kit/metrics';

/** The alerting service's own metrics (API.md, "Metrics"), registered on the service's kit registry. */
export function createAlertingMetrics(registry: Registry, countAlerts: () => Record<string, number>) {
  const registers = [registry];
  return {
    evaluations: new prom.Counter({
      name: 'alerting_rule_evaluations_total',
      help: 'Rule evaluations completed (one per rule per interval)',
      registers,
    }),
    evaluationFailures: new prom.Counter({
      name: 'alerting_rule_evaluation_failures_total',
      help: 'Rule evaluations that failed, by reason (query_error, query_engine_unavailable)',
      labelNames: ['reason'],
      registers,
    }),
    missedEvaluations: new prom.Counter({
      name: 'alerting_rule_evaluations_missed_total',
      help: 'Evaluations skipped because the previous one of the same rule was still running',
      registers,
    }),
    queries: new prom.Counter({
      name: 'alerting_queries_total',
      help: 'Distinct queries sent to the query engine (identical queries of one tick count once)',
      registers,
    }),
    batchDuration: new prom.Histogram({
      name: 'alerting_evaluation_duration_seconds',
      help: 'Time from sending a query batch to having applied every result to the alert states',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    alerts: new prom.Gauge({
      name: 'alerting_alerts',
      help: 'Alert instances by state',
      labelNames: ['state'],
      registers,
      collect() {
        for (const [state, count] of Object.entries(countAlerts())) this.set({ state }, count);
      },
    }),
    notificationsSent: new prom.Counter({
      name: 'alerting_notifications_sent_total',
      help: 'Notifications delivered, by channel type',
      labelNames: ['channel_type'],
      registers,
    }),
    notificationsFailed: new prom.Counter({
      name: 'alerting_notifications_failed_total',
      help: 'Delivery attempts that failed, by channel type and outcome (retrying, dropped)',
      labelNames: ['channel_type', 'outcome'],
      registers,
    }),
    outboxSize: new prom.Gauge({
      name: 'alerting_outbox_pending',
      help: 'Notifications waiting in the outbox for delivery or a retry',
      registers,
    }),
    isLeader: new prom.Gauge({
      name: 'alerting_leader',
      help: '1 while this replica is the one evaluating and notifying',
      registers,
    }),
  };
}

export type AlertingMetrics = ReturnType<typeof createAlertingMetrics>;
