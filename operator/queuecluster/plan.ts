import type { ClusterView } from './types';

/** What the StatefulSet looks like now, as far as planning is concerned. */
export interface ObservedStatefulSet {
  replicas: number;
  partition: number;
  readyReplicas: number;
  updatedReplicas: number;
  /** The config hash on the StatefulSet's current pod template. */
  configHash?: string;
}

export interface PlanInput {
  clusterName: string;
  desiredReplicas: number;
  desiredConfigHash: string;
  statefulSet?: ObservedStatefulSet;
  /** The queue's `GET /cluster`; undefined when it could not be reached. */
  view?: ClusterView;
  /** A restarted peer counts as caught up once it is at most this many entries behind on every partition. */
  maxCatchUpLag: number;
  peerUrl(ordinal: number): string;
}

export type AdminAction =
  | { kind: 'addMember'; id: string; url: string }
  | { kind: 'removeMember'; id: string }
  | { kind: 'transferLeadership'; from: string };

export type ProgressReason =
  | 'Creating'
  | 'ScalingUp'
  | 'AddingMember'
  | 'WaitingForPeer'
  | 'MovingLeadership'
  | 'RemovingMember'
  | 'ScalingDown'
  | 'RollingRestart';

export type RefusalReason = 'QuorumAtRisk' | 'ClusterUnreachable';

export interface Plan {
  statefulSet: { replicas: number; partition: number };
  action?: AdminAction;
  progress?: { reason: ProgressReason; message: string };
  refusal?: { reason: RefusalReason; message: string };
}

const majority = (size: number) => Math.floor(size / 2) + 1;

/** Voters: every peer that is a member of some partition's Raft group. */
export function membersOf(view: ClusterView): string[] {
  return [...new Set(view.partitions.flatMap((partition) => partition.members))].sort();
}

/**
 * Peers that are members of every partition's group. A membership change is committed partition by partition, so
 * an interrupted add leaves a peer in some groups only; it is added again until it is in all of them.
 */
export function fullMembersOf(view: ClusterView): Set<string> {
  const [first, ...rest] = view.partitions;
  return new Set(
    (first?.members ?? []).filter((member) => rest.every((partition) => partition.members.includes(member))),
  );
}

export const leadsAnyPartition = (view: ClusterView, id: string) =>
  view.partitions.some((partition) => partition.leader === id);

export function isCaughtUp(view: ClusterView, id: string, maxLag: number): boolean {
  return view.partitions.every((partition) => (partition.lag?.[id] ?? 0) <= maxLag && partition.leader !== null);
}

/**
 * One step towards the desired QueueCluster, computed from what was observed: the StatefulSet's shape and at most one
 * membership call. Scaling up grows the StatefulSet first and then adds each new, ready peer as a voter (one at a
 * time). Scaling down moves leadership off the highest peer, removes it from the Raft groups, and only then shrinks the
 * StatefulSet; it is refused when the remaining members would not hold a reachable majority. A config change rolls the
 * peers one at a time (highest first) through the StatefulSet's partition, moving leadership away before each and
 * waiting until the previous one has caught up.
 */
export function planQueueCluster(input: PlanInput): Plan {
  const { statefulSet, view, desiredReplicas, clusterName } = input;
  const id = (ordinal: number) => `${clusterName}-${ordinal}`;
  if (!statefulSet)
    return {
      statefulSet: { replicas: desiredReplicas, partition: 0 },
      progress: { reason: 'Creating', message: `creating ${desiredReplicas} peers` },
    };
  const current = statefulSet.replicas;
  // A new pod template must never reach the StatefulSet with a low partition: its controller would restart every
  // peer at once. Until the rolling restart below picks peers one by one, the partition stays at the top.
  const isTemplateChanging = statefulSet.configHash !== undefined && statefulSet.configHash !== input.desiredConfigHash;
  const keep = {
    replicas: current,
    partition: isTemplateChanging ? current : Math.min(statefulSet.partition, current),
  };

  if (desiredReplicas > current)
    return {
      statefulSet: { replicas: desiredReplicas, partition: isTemplateChanging ? desiredReplicas : keep.partition },
      progress: { reason: 'ScalingUp', message: `growing the StatefulSet from ${current} to ${desiredReplicas} peers` },
    };

  if (view) {
    const members = fullMembersOf(view);
    for (let ordinal = 0; ordinal < current; ordinal++) {
      if (members.has(id(ordinal)) || ordinal >= desiredReplicas) continue;
      if (ordinal >= statefulSet.readyReplicas)
        return {
          statefulSet: keep,
          progress: {
            reason: 'WaitingForPeer',
            message: `waiting for peer ${id(ordinal)} to be ready before adding it`,
          },
        };
      return {
        statefulSet: keep,
        action: { kind: 'addMember', id: id(ordinal), url: input.peerUrl(ordinal) },
        progress: { reason: 'AddingMember', message: `adding ${id(ordinal)} as a Raft voter` },
      };
    }
  }

  if (desiredReplicas < current) {
    if (!view)
      return {
        statefulSet: keep,
        refusal: {
          reason: 'ClusterUnreachable',
          message: `scale-down to ${desiredReplicas} waits: the queue's /cluster cannot be read to check quorum`,
        },
      };
    const members = membersOf(view);
    const leaving = members
      .map((member) => ({ member, ordinal: Number(member.slice(clusterName.length + 1)) }))
      .filter(({ member, ordinal }) => member.startsWith(`${clusterName}-`) && ordinal >= desiredReplicas)
      .sort((a, b) => b.ordinal - a.ordinal)[0];
    if (!leaving)
      return {
        statefulSet: { replicas: desiredReplicas, partition: Math.min(keep.partition, desiredReplicas) },
        progress: {
          reason: 'ScalingDown',
          message: `shrinking the StatefulSet from ${current} to ${desiredReplicas} peers`,
        },
      };
    const remaining = members.filter((member) => member !== leaving.member);
    const reachable = new Set(view.peers.filter((peer) => peer.reachable).map((peer) => peer.id));
    const healthy = remaining.filter((member) => reachable.has(member)).length;
    if (healthy < majority(remaining.length))
      return {
        statefulSet: keep,
        refusal: {
          reason: 'QuorumAtRisk',
          message:
            `scale-down to ${desiredReplicas} refused: without ${leaving.member}, ${healthy} of ${remaining.length} ` +
            `remaining members are reachable and a majority needs ${majority(remaining.length)}`,
        },
      };
    if (leadsAnyPartition(view, leaving.member))
      return {
        statefulSet: keep,
        action: { kind: 'transferLeadership', from: leaving.member },
        progress: { reason: 'MovingLeadership', message: `moving leadership off ${leaving.member} before removing it` },
      };
    return {
      statefulSet: keep,
      action: { kind: 'removeMember', id: leaving.member },
      progress: { reason: 'RemovingMember', message: `removing ${leaving.member} from the Raft groups` },
    };
  }

  return planRollingRestart(input, statefulSet);
}

function planRollingRestart(input: PlanInput, statefulSet: ObservedStatefulSet): Plan {
  const current = statefulSet.replicas;
  const id = (ordinal: number) => `${input.clusterName}-${ordinal}`;
  if (statefulSet.configHash !== undefined && statefulSet.configHash !== input.desiredConfigHash)
    return {
      // The new template goes in with the partition at the top, so no peer restarts until this plan picks it.
      statefulSet: { replicas: current, partition: current },
      progress: { reason: 'RollingRestart', message: 'configuration changed; restarting peers one at a time' },
    };
  const partition = Math.min(statefulSet.partition, current);
  if (partition === 0) return { statefulSet: { replicas: current, partition: 0 } };
  const restarted = current - partition;
  const rolling = (message: string): Plan => ({
    statefulSet: { replicas: current, partition },
    progress: { reason: 'RollingRestart', message },
  });
  if (statefulSet.updatedReplicas < restarted || statefulSet.readyReplicas < current)
    return rolling(`waiting for ${id(partition)} to restart and become ready`);
  if (!input.view) return rolling('waiting for the queue to answer /cluster before restarting the next peer');
  if (partition < current && !isCaughtUp(input.view, id(partition), input.maxCatchUpLag))
    return rolling(`waiting for ${id(partition)} to catch up`);
  const next = partition - 1;
  if (leadsAnyPartition(input.view, id(next)))
    return {
      ...rolling(`moving leadership off ${id(next)} before restarting it`),
      action: { kind: 'transferLeadership', from: id(next) },
    };
  return {
    statefulSet: { replicas: current, partition: next },
    progress: { reason: 'RollingRestart', message: `restarting ${id(next)}` },
  };
}
