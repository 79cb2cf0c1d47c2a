import { prom, type Registry } from '../../services/kit/metrics';

export interface OperatorMetrics {
  reconciles: prom.Counter<'controller' | 'result'>;
  reconcileErrors: prom.Counter<'controller'>;
  reconcileDuration: prom.Histogram<'controller'>;
  queueDepth: prom.Gauge<'controller'>;
  isLeader: prom.Gauge;
  watchErrors: prom.Counter<'resource'>;
}

export function createOperatorMetrics(registry: Registry): OperatorMetrics {
  return {
    reconciles: new prom.Counter({
      name: 'metricstream_operator_reconciles_total',
      help: 'Reconciles run, by controller and result (success, error, requeue)',
      labelNames: ['controller', 'result'],
      registers: [registry],
    }),
    reconcileErrors: new prom.Counter({
      name: 'metricstream_operator_reconcile_errors_total',
      help: 'Reconciles that failed and were retried with backoff',
      labelNames: ['controller'],
      registers: [registry],
    }),
    reconcileDuration: new prom.Histogram({
      name: 'metricstream_operator_reconcile_duration_seconds',
      help: 'Time spent in one reconcile',
      labelNames: ['controller'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    queueDepth: new prom.Gauge({
      name: 'metricstream_operator_workqueue_depth',
      help: 'Keys waiting in the work queue',
      labelNames: ['controller'],
      registers: [registry],
    }),
    isLeader: new prom.Gauge({
      name: 'metricstream_operator_leader',
      help: '1 while this replica holds the leader Lease',
      registers: [registry],
    }),
    watchErrors: new prom.Counter({
      name: 'metricstream_operator_watch_errors_total',
      help: 'List or watch failures (including watches restarted by the silence watchdog)',
      labelNames: ['resource'],
      registers: [registry],
    }),
  };
}
