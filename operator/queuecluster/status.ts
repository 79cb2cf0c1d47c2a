import { mergeConditions, type Condition } from '../runtime/conditions';
import { membersOf, type Plan } from './plan';
import type { ClusterView, QueueCluster, QueueClusterStatus } from './types';

export interface ObservedState {
  statefulSetReplicas: number;
  readyReplicas: number;
  view?: ClusterView;
  plan: Plan;
  selector: string;
  /** The `StorageSynced` condition (runtime/volumes.ts). */
  storage: Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;
}

/** The QueueCluster's status from what was observed; compared with the stored status before any write. */
export function computeStatus(cluster: QueueCluster, observed: ObservedState, now: number): QueueClusterStatus {
  const generation = cluster.metadata.generation;
  const { view, plan } = observed;
  const members = view ? membersOf(view) : (cluster.status?.members ?? []);
  const partitionLeaders: Record<string, number> = {};
  for (const partition of view?.partitions ?? [])
    if (partition.leader) partitionLeaders[partition.leader] = (partitionLeaders[partition.leader] ?? 0) + 1;
  const leaderless = view?.partitions.filter((partition) => !partition.leader).length ?? 0;
  const unreachable =
    view?.peers.filter((peer) => !peer.reachable && members.includes(peer.id)).map((peer) => peer.id) ?? [];

  const ready: Omit<Condition, 'lastTransitionTime'> = !view
    ? { type: 'Ready', status: 'False', reason: 'ClusterUnreachable', message: "the queue's /cluster did not answer" }
    : observed.readyReplicas < cluster.spec.replicas
      ? {
          type: 'Ready',
          status: 'False',
          reason: 'PeersNotReady',
          message: `${observed.readyReplicas} of ${cluster.spec.replicas} peers ready`,
        }
      : leaderless > 0
        ? { type: 'Ready', status: 'False', reason: 'NoLeader', message: `${leaderless} partitions have no leader` }
        : {
            type: 'Ready',
            status: 'True',
            reason: 'AllPeersReady',
            message: `${members.length} members, every partition led`,
          };
  const progressing: Omit<Condition, 'lastTransitionTime'> = plan.refusal
    ? { type: 'Progressing', status: 'False', reason: plan.refusal.reason, message: plan.refusal.message }
    : plan.progress
      ? { type: 'Progressing', status: 'True', reason: plan.progress.reason, message: plan.progress.message }
      : { type: 'Progressing', status: 'False', reason: 'Stable', message: 'the cluster matches its spec' };
  const degraded: Omit<Condition, 'lastTransitionTime'> = plan.refusal
    ? { type: 'Degraded', status: 'True', reason: plan.refusal.reason, message: plan.refusal.message }
    : unreachable.length > 0
      ? {
          type: 'Degraded',
          status: 'True',
          reason: 'MembersUnreachable',
          message: `unreachable: ${unreachable.join(', ')}`,
        }
      : { type: 'Degraded', status: 'False', reason: 'Healthy', message: 'every member is reachable' };

  return {
    observedGeneration: generation,
    replicas: observed.statefulSetReplicas,
    readyReplicas: observed.readyReplicas,
    selector: observed.selector,
    members,
    memberCount: members.length,
    partitionLeaders,
    conditions: mergeConditions(
      cluster.status?.conditions,
      [ready, progressing, degraded, observed.storage].map((condition) => ({
        ...condition,
        observedGeneration: generation,
      })),
      now,
    ),
  };
}
