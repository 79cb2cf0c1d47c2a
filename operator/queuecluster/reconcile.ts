import type { Logger } from '../../services/kit/logger';
import { findCondition } from '../runtime/conditions';
import type { Reconcile } from '../runtime/controller';
import { ReportedReasons, type EventRecorder } from '../runtime/events';
import type { Informer } from '../runtime/informer';
import { resources, type KubeClient, type KubeObject } from '../runtime/kube';
import { applyStatusIfChanged, isControlledBy } from '../runtime/status-writer';
import { liveClaimTemplates, syncVolumes } from '../runtime/volume-expansion';
import { storageCondition, storageConditionType } from '../runtime/volumes';
import type { QueueAdmin } from './admin';
import { planQueueCluster, type AdminAction, type ObservedStatefulSet } from './plan';
import {
  configHash,
  configHashAnnotation,
  defaultStorageSize,
  makeClientService,
  makeConfigMap,
  makePeersService,
  makePodDisruptionBudget,
  makeStatefulSet,
  restartSettings,
  selectorLabels,
  selectorString,
  type BuildOptions,
} from './resources';
import { computeStatus } from './status';
import type { QueueCluster } from './types';

export interface QueueClusterDependencies {
  client: KubeClient;
  clusters: Informer<QueueCluster>;
  statefulSets: Informer<KubeObject>;
  admin: QueueAdmin;
  /** The URL peers know a peer by (its headless-Service name, unless the operator is told otherwise). */
  peerUrl(cluster: QueueCluster, ordinal: number): string;
  /** Base URL of the cluster's admin API (its client Service, unless the operator is told otherwise). */
  adminUrl(cluster: QueueCluster): string;
  recorder: EventRecorder;
  now(): number;
  logger: Logger;
  build: BuildOptions;
  maxCatchUpLag: number;
  /** How often a settled cluster is looked at again, to refresh members and leaders. */
  refreshMs: number;
  /** How soon a cluster in the middle of a change is looked at again. */
  progressMs: number;
}

const actionEvents: Record<AdminAction['kind'], string> = {
  addMember: 'MemberAdded',
  removeMember: 'MemberRemoved',
  transferLeadership: 'LeadershipMoved',
};

function describeAction(action: AdminAction): string {
  switch (action.kind) {
    case 'addMember':
      return `added ${action.id} (${action.url}) as a Raft voter`;
    case 'removeMember':
      return `removed ${action.id} from the Raft groups`;
    case 'transferLeadership':
      return `moved every partition leadership off ${action.from}`;
    default: {
      const exhaustive: never = action;
      return exhaustive;
    }
  }
}

function observeStatefulSet(statefulSet: KubeObject | undefined): ObservedStatefulSet | undefined {
  if (!statefulSet) return undefined;
  const spec = statefulSet.spec as {
    replicas?: number;
    updateStrategy?: { rollingUpdate?: { partition?: number } };
    template?: { metadata?: { annotations?: Record<string, string> } };
  };
  const status = (statefulSet.status ?? {}) as { readyReplicas?: number; updatedReplicas?: number };
  return {
    replicas: spec.replicas ?? 1,
    partition: spec.updateStrategy?.rollingUpdate?.partition ?? 0,
    readyReplicas: status.readyReplicas ?? 0,
    updatedReplicas: status.updatedReplicas ?? 0,
    configHash: spec.template?.metadata?.annotations?.[configHashAnnotation],
  };
}

export function queueClusterReconciler(deps: QueueClusterDependencies): Reconcile {
  const reported = new ReportedReasons();
  return async (key) => {
    const cluster = deps.clusters.get(key);
    // Gone or going: the garbage collector removes what carries its ownerReference.
    if (!cluster || cluster.metadata.deletionTimestamp) return undefined;
    const existing = deps.statefulSets.get(key);
    if (existing && !isControlledBy(existing, cluster)) {
      deps.recorder.record(
        resources.queueCluster,
        cluster,
        'Warning',
        'ResourceExists',
        `StatefulSet ${existing.metadata.name} exists and is not controlled by this QueueCluster; leaving it alone`,
      );
      return undefined;
    }
    const statefulSet = observeStatefulSet(existing);
    const baseUrl = deps.adminUrl(cluster);
    const view = statefulSet ? await deps.admin.cluster(baseUrl).catch(() => undefined) : undefined;
    const plan = planQueueCluster({
      clusterName: cluster.metadata.name,
      desiredReplicas: cluster.spec.replicas,
      desiredConfigHash: configHash(restartSettings(cluster)),
      statefulSet,
      view,
      maxCatchUpLag: deps.maxCatchUpLag,
      peerUrl: (ordinal) => deps.peerUrl(cluster, ordinal),
    });

    await deps.client.apply(
      resources.configMap,
      makeConfigMap(cluster, plan.statefulSet.replicas, (ordinal) => deps.peerUrl(cluster, ordinal)),
    );
    await deps.client.apply(resources.service, makePeersService(cluster));
    await deps.client.apply(resources.service, makeClientService(cluster));
    await deps.client.apply(resources.podDisruptionBudget, makePodDisruptionBudget(cluster));
    const applied = await deps.client.apply(
      resources.statefulSet,
      makeStatefulSet(cluster, plan.statefulSet, deps.build, liveClaimTemplates(existing)),
    );
    const storage = await syncVolumes(deps.client, deps.recorder, {
      resource: resources.queueCluster,
      owner: cluster,
      statefulSetName: cluster.metadata.name,
      statefulSet: existing,
      claimLabels: selectorLabels(cluster),
      desired: {
        size: cluster.spec.storage?.size ?? defaultStorageSize,
        storageClassName: cluster.spec.storage?.storageClassName,
      },
      previous: findCondition(cluster.status?.conditions, storageConditionType),
      reported,
    });

    if (plan.action) {
      await deps.admin.perform(baseUrl, plan.action);
      deps.recorder.record(
        resources.queueCluster,
        cluster,
        'Normal',
        actionEvents[plan.action.kind],
        describeAction(plan.action),
      );
    }
    const isNewRefusal = reported.isNew(
      `${cluster.metadata.uid}/Progressing`,
      plan.refusal?.reason,
      findCondition(cluster.status?.conditions, 'Progressing')?.reason,
    );
    if (plan.refusal && isNewRefusal)
      deps.recorder.record(resources.queueCluster, cluster, 'Warning', 'ScaleDownRefused', plan.refusal.message);

    const readyReplicas = ((applied.status ?? {}) as { readyReplicas?: number }).readyReplicas ?? 0;
    const status = computeStatus(
      cluster,
      {
        statefulSetReplicas: plan.statefulSet.replicas,
        readyReplicas,
        view,
        plan,
        selector: selectorString(cluster),
        storage: storageCondition(storage),
      },
      deps.now(),
    );
    await applyStatusIfChanged(deps.client, resources.queueCluster, cluster, status);
    // A volume being resized may take minutes (or a pod restart): that is looked at again at the refresh pace.
    const isBusy = plan.progress || plan.action || storage.kind === 'expand';
    return { requeueAfterMs: isBusy ? deps.progressMs : deps.refreshMs };
  };
}
