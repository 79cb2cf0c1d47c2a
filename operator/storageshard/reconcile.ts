import { findCondition, mergeConditions } from '../runtime/conditions';
import type { Reconcile, ReconcileResult } from '../runtime/controller';
import { ReportedReasons, type EventRecorder } from '../runtime/events';
import type { Informer } from '../runtime/informer';
import { resources, type KubeClient, type KubeObject } from '../runtime/kube';
import { applyStatusIfChanged, isControlledBy } from '../runtime/status-writer';
import { liveClaimTemplates, syncVolumes } from '../runtime/volume-expansion';
import { storageCondition, storageConditionType } from '../runtime/volumes';
import type { QueueCluster } from '../queuecluster/types';
import {
  defaultStorageSize,
  makeService,
  makeShardsConfigMap,
  makeStatefulSet,
  selectorLabels,
  shardPartitions,
  shardUrl,
  type BuildOptions,
} from './resources';
import type { StorageShard, StorageShardStatus } from './types';

export interface StorageShardDependencies {
  client: KubeClient;
  shards: Informer<StorageShard>;
  statefulSets: Informer<KubeObject>;
  clusters: Informer<QueueCluster>;
  recorder: EventRecorder;
  now(): number;
  build: BuildOptions;
  /** Name of the ConfigMap (per namespace) holding the query engine's shards file. */
  shardsConfigMap: string;
  /** How soon a shard whose volumes were just expanded is looked at again. */
  progressMs: number;
  /** How often a shard whose volumes are resizing, or whose storage change was refused, is looked at again. */
  refreshMs: number;
}

const readyReplicasOf = (statefulSet: KubeObject | undefined) =>
  ((statefulSet?.status ?? {}) as { readyReplicas?: number }).readyReplicas ?? 0;

export function storageShardReconciler(deps: StorageShardDependencies): Reconcile {
  const reported = new ReportedReasons();
  return async (key) => {
    const namespace = key.split('/')[0];
    const shard = deps.shards.get(key);
    const result = shard && !shard.metadata.deletionTimestamp ? await reconcileShard(deps, shard, reported) : undefined;
    // The shards file reflects every shard of the namespace, so any shard's change (deletion too) rewrites it.
    const entries = deps.shards
      .list(namespace)
      .filter((candidate) => !candidate.metadata.deletionTimestamp)
      .map((candidate) => ({
        index: candidate.spec.index,
        count: candidate.spec.count,
        url: shardUrl(candidate),
        isReady: candidate.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
      }));
    await deps.client.apply(resources.configMap, makeShardsConfigMap(namespace, deps.shardsConfigMap, entries));
    return result;
  };
}

async function reconcileShard(
  deps: StorageShardDependencies,
  shard: StorageShard,
  reported: ReportedReasons,
): Promise<ReconcileResult> {
  const key = `${shard.metadata.namespace}/${shard.metadata.name}`;
  const existing = deps.statefulSets.get(key);
  if (existing && !isControlledBy(existing, shard)) {
    deps.recorder.record(
      resources.storageShard,
      shard,
      'Warning',
      'ResourceExists',
      `StatefulSet ${existing.metadata.name} exists and is not controlled by this StorageShard; leaving it alone`,
    );
    return undefined;
  }
  await deps.client.apply(resources.service, makeService(shard));
  const applied = await deps.client.apply(
    resources.statefulSet,
    makeStatefulSet(shard, deps.build, liveClaimTemplates(existing)),
  );
  const storage = await syncVolumes(deps.client, deps.recorder, {
    resource: resources.storageShard,
    owner: shard,
    statefulSetName: shard.metadata.name,
    statefulSet: existing,
    claimLabels: selectorLabels(shard),
    desired: {
      size: shard.spec.storage?.size ?? defaultStorageSize,
      storageClassName: shard.spec.storage?.storageClassName,
    },
    previous: findCondition(shard.status?.conditions, storageConditionType),
    reported,
  });
  const readyReplicas = readyReplicasOf(applied);
  const cluster = deps.clusters.get(`${shard.metadata.namespace}/${shard.spec.queueCluster}`);
  const generation = shard.metadata.generation;
  const ready = !cluster
    ? {
        status: 'False' as const,
        reason: 'QueueClusterNotFound',
        message: `QueueCluster ${shard.spec.queueCluster} does not exist`,
      }
    : cluster.spec.partitions !== shard.spec.partitions
      ? {
          status: 'False' as const,
          reason: 'PartitionMismatch',
          message: `shard expects ${shard.spec.partitions} partitions, QueueCluster ${shard.spec.queueCluster} has ${cluster.spec.partitions}`,
        }
      : readyReplicas < 1
        ? { status: 'False' as const, reason: 'NotReady', message: 'the storage pod is not ready' }
        : { status: 'True' as const, reason: 'Ready', message: 'serving its partitions' };
  const status: StorageShardStatus = {
    observedGeneration: generation,
    shard: `${shard.spec.index}/${shard.spec.count}`,
    readyReplicas,
    url: shardUrl(shard),
    partitions: shardPartitions(shard.spec.index, shard.spec.count, shard.spec.partitions),
    conditions: mergeConditions(
      shard.status?.conditions,
      [
        { type: 'Ready', ...ready, observedGeneration: generation },
        { ...storageCondition(storage), observedGeneration: generation },
      ],
      deps.now(),
    ),
  };
  const previous = shard.status?.conditions?.find((condition) => condition.type === 'Ready');
  if (previous?.status !== ready.status && ready.status === 'True')
    deps.recorder.record(
      resources.storageShard,
      shard,
      'Normal',
      'ShardReady',
      `shard ${status.shard} is ready and listed for the query engine`,
    );
  await applyStatusIfChanged(deps.client, resources.storageShard, shard, status);
  switch (storage.kind) {
    case 'synced':
      return undefined;
    case 'expand':
      return { requeueAfterMs: deps.progressMs };
    // A resize may take minutes (or a pod restart), and a StorageClass may come to allow expansion.
    case 'waiting':
    case 'refused':
      return { requeueAfterMs: deps.refreshMs };
    default: {
      const exhaustive: never = storage;
      return exhaustive;
    }
  }
}
