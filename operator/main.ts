import os from 'node:os';
import { ConfigError } from '../services/kit/errors';
import { createApp, finishApp, listen, closeServer } from '../services/kit/http';
import { createRegistry } from '../services/kit/metrics';
import { commonOptions, defineService } from '../services/kit/service';
import { alertRuleReconciler } from './alertrule/reconcile';
import { httpAlertingClient } from './alertrule/client';
import type { AlertRule } from './alertrule/types';
import { httpQueueAdmin } from './queuecluster/admin';
import { queueClusterReconciler } from './queuecluster/reconcile';
import { peerId, peerUrl } from './queuecluster/resources';
import type { QueueCluster } from './queuecluster/types';
import { Controller } from './runtime/controller';
import { KubeEventRecorder } from './runtime/events';
import { Informer, objectKey, type InformerEvent } from './runtime/informer';
import { HttpKubeClient, loadKubeConfig, resources, type KubeObject, type Resource } from './runtime/kube';
import { LeaderElector } from './runtime/leader-election';
import { createOperatorMetrics } from './runtime/metrics';
import { defaultControllerLimiter } from './runtime/ratelimiter';
import { systemScheduler } from './runtime/scheduler';
import { controllerKey } from './runtime/status-writer';
import { storageShardReconciler } from './storageshard/reconcile';
import type { StorageShard } from './storageshard/types';

const configSpec = {
  ...commonOptions,
  port: { kind: 'port', env: 'PORT', default: 8085, description: 'port of /healthz, /readyz and /metrics' },
  kubeconfig: {
    kind: 'string',
    env: 'KUBECONFIG',
    description: 'kubeconfig file; without it the in-cluster service account is used',
  },
  namespace: {
    kind: 'string',
    env: 'WATCH_NAMESPACE',
    default: '',
    description: 'namespace to watch (empty: every namespace)',
  },
  leaseName: {
    kind: 'string',
    env: 'LEASE_NAME',
    default: 'metricstream-operator',
    description: 'leader election Lease',
  },
  leaseNamespace: {
    kind: 'string',
    env: 'POD_NAMESPACE',
    default: '',
    description: 'namespace of the Lease (default: --namespace, else "default")',
  },
  identity: {
    kind: 'string',
    env: 'POD_NAME',
    default: '',
    description: 'this replica in the Lease (default: hostname and pid)',
  },
  leaseDuration: { kind: 'duration', env: 'LEASE_DURATION', default: 15_000, description: 'Lease validity' },
  renewDeadline: {
    kind: 'duration',
    env: 'RENEW_DEADLINE',
    default: 10_000,
    description: 'a leader unable to renew for this long steps down',
  },
  retryPeriod: { kind: 'duration', env: 'RETRY_PERIOD', default: 2_000, description: 'Lease check interval' },
  image: {
    kind: 'string',
    env: 'METRICSTREAM_IMAGE',
    default: 'metricstream:0.1.0',
    description: 'image for queue and storage pods whose resource names none',
  },
  queueAdminUrl: {
    kind: 'string',
    env: 'QUEUE_ADMIN_URL',
    default: 'http://{name}.{namespace}.svc:8081',
    description: 'admin API of a QueueCluster; {name} and {namespace} are replaced (default: its client Service)',
  },
  queuePeerUrls: {
    kind: 'list',
    env: 'QUEUE_PEER_URLS',
    default: [] as string[],
    description:
      'peers as id=url whose URL replaces their headless-Service name in membership calls and QUEUE_PEERS (peers outside the cluster, tests)',
  },
  alertingUrl: {
    kind: 'string',
    env: 'ALERTING_URL',
    default: 'http://metricstream-alerting:8084',
    description: 'alerting service base URL (rules API, /alerts)',
  },
  shardsConfigMap: {
    kind: 'string',
    env: 'SHARDS_CONFIGMAP',
    default: 'metricstream-query-shards',
    description: "ConfigMap (per namespace) holding the query engine's shards.json",
  },
  relistPeriod: {
    kind: 'duration',
    env: 'RELIST_PERIOD',
    default: 300_000,
    description: 'full relist (resync) period',
  },
  watchSilence: {
    kind: 'duration',
    env: 'WATCH_SILENCE',
    default: 180_000,
    description: 'a watch silent this long (no event, no bookmark) is restarted',
  },
  refreshPeriod: {
    kind: 'duration',
    env: 'REFRESH_PERIOD',
    default: 30_000,
    description: 'how often settled QueueClusters and AlertRules are re-read from the services',
  },
  finalizerTimeout: {
    kind: 'duration',
    env: 'FINALIZER_TIMEOUT',
    default: 300_000,
    description:
      'how long a deleted AlertRule waits for an unreachable alerting service before its finalizer is released',
  },
  maxCatchUpLag: {
    kind: 'int',
    env: 'MAX_CATCH_UP_LAG',
    default: 0,
    min: 0,
    description: 'entries a restarted queue peer may trail by before the next peer restarts',
  },
} as const;

/** `--queue-peer-urls`: `id=url` items. */
function parsePeerUrls(items: readonly string[]): Map<string, string> {
  const urls = new Map<string, string>();
  const problems: string[] = [];
  for (const item of items) {
    const [id, url] = item.split(/=(.*)/s, 2);
    if (!id || !url || !/^https?:\/\/[^\s]+$/.test(url))
      problems.push(`--queue-peer-urls: "${item}" is not id=http://host:port`);
    else urls.set(id, url.replace(/\/+$/, ''));
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return urls;
}

export const operatorService = defineService({
  name: 'operator',
  summary: 'Kubernetes operator for QueueCluster, StorageShard and AlertRule',
  configSpec,
  async start(config, logger) {
    const peerUrlOverrides = parsePeerUrls(config.queuePeerUrls);
    const scheduler = systemScheduler;
    const { registry, http } = createRegistry('operator');
    const metrics = createOperatorMetrics(registry);
    const client = new HttpKubeClient(loadKubeConfig(config.kubeconfig));
    const namespace = config.namespace || undefined;
    const recorder = new KubeEventRecorder(client, logger, scheduler.now);

    const informer = <T extends KubeObject>(resource: Resource, labelSelector?: string) =>
      new Informer<T>(client, {
        resource,
        namespace,
        labelSelector,
        scheduler,
        relistMs: config.relistPeriod,
        silenceMs: config.watchSilence,
        retryMs: 2_000,
        onError: (error) => {
          metrics.watchErrors.inc({ resource: resource.plural });
          logger.warn('list/watch problem', { resource: resource.plural, error: String(error) });
        },
      });
    const clusters = informer<QueueCluster>(resources.queueCluster);
    const shards = informer<StorageShard>(resources.storageShard);
    const rules = informer<AlertRule>(resources.alertRule);
    const statefulSets = informer<KubeObject>(
      resources.statefulSet,
      'app.kubernetes.io/managed-by=metricstream-operator',
    );

    const controller = (name: string, reconcile: ConstructorParameters<typeof Controller>[1]) =>
      new Controller(name, reconcile, scheduler, defaultControllerLimiter(), logger, metrics);
    const queueClusters = controller(
      'queuecluster',
      queueClusterReconciler({
        client,
        clusters,
        statefulSets,
        admin: httpQueueAdmin(),
        peerUrl: (cluster, ordinal) => peerUrlOverrides.get(peerId(cluster, ordinal)) ?? peerUrl(cluster, ordinal),
        adminUrl: (cluster) =>
          config.queueAdminUrl
            .replaceAll('{name}', cluster.metadata.name)
            .replaceAll('{namespace}', cluster.metadata.namespace ?? 'default'),
        recorder,
        now: scheduler.now,
        logger,
        build: { defaultImage: config.image },
        maxCatchUpLag: config.maxCatchUpLag,
        refreshMs: config.refreshPeriod,
        progressMs: 2_000,
      }),
    );
    const storageShards = controller(
      'storageshard',
      storageShardReconciler({
        client,
        shards,
        statefulSets,
        clusters,
        recorder,
        now: scheduler.now,
        build: { defaultImage: config.image },
        shardsConfigMap: config.shardsConfigMap,
        progressMs: 2_000,
        refreshMs: config.refreshPeriod,
      }),
    );
    const alertRules = controller(
      'alertrule',
      alertRuleReconciler({
        client,
        rules,
        alerting: httpAlertingClient(config.alertingUrl),
        recorder,
        now: scheduler.now,
        logger,
        refreshMs: config.refreshPeriod,
        finalizerTimeoutMs: config.finalizerTimeout,
      }),
    );

    clusters.on((_event, cluster) => {
      queueClusters.enqueue(objectKey(cluster));
      for (const shard of shards.list(cluster.metadata.namespace))
        if (shard.spec.queueCluster === cluster.metadata.name) storageShards.enqueue(objectKey(shard));
    });
    shards.on((_event, shard) => storageShards.enqueue(objectKey(shard)));
    rules.on((_event, rule) => alertRules.enqueue(objectKey(rule)));
    statefulSets.on((event: InformerEvent, statefulSet) => {
      // A relist re-delivers unchanged StatefulSets; their owners are resynced through their own informers.
      if (event === 'resynced') return;
      const clusterKey = controllerKey(statefulSet, 'QueueCluster');
      if (clusterKey) queueClusters.enqueue(clusterKey);
      const shardKey = controllerKey(statefulSet, 'StorageShard');
      if (shardKey) storageShards.enqueue(shardKey);
    });

    const informers = [clusters, shards, rules, statefulSets];
    const controllers = [queueClusters, storageShards, alertRules];
    let isSynced = false;
    const app = createApp({
      logger,
      registry,
      httpMetrics: http,
      isReady: () => (isSynced ? { ready: true } : { ready: false, reason: 'caches not synced' }),
    });
    const server = await listen(finishApp(app, logger), config.port, config.host);

    const identity = config.identity || `${os.hostname()}-${process.pid}`;
    const elector = new LeaderElector(client, {
      namespace: config.leaseNamespace || config.namespace || 'default',
      name: config.leaseName,
      identity,
      leaseDurationMs: config.leaseDuration,
      renewDeadlineMs: config.renewDeadline,
      retryPeriodMs: config.retryPeriod,
      scheduler,
      onStartedLeading: () => {
        metrics.isLeader.set(1);
        logger.info('became leader; reconciling', { identity, lease: config.leaseName });
        for (const running of controllers) running.run();
      },
      onStoppedLeading: () => {
        metrics.isLeader.set(0);
        // Another replica may already act; stopping at once is the only way to be sure this one does not.
        logger.error('lost the leader Lease; exiting so that only the new leader acts', { identity });
        process.exit(1);
      },
      onNewLeader: (holder) => logger.info('leader is another replica', { holder }),
      onError: (error) => logger.warn('leader election problem', { error: String(error) }),
    });

    await Promise.all(informers.map((running) => running.start()));
    isSynced = true;
    logger.info('caches synced', { namespace: namespace ?? '(all)', port: config.port });
    elector.start();

    return {
      async close() {
        await elector.stop();
        metrics.isLeader.set(0);
        for (const running of informers) running.stop();
        await Promise.all(controllers.map((running) => running.stop()));
        await closeServer(server);
      },
    };
  },
});
