import { planQueueCluster, type PlanInput } from './plan';
import type { ClusterView } from './types';

function view(
  members: string[],
  options: { leaders?: string[]; unreachable?: string[]; lag?: Record<string, number> } = {},
): ClusterView {
  const leaders = options.leaders ?? members;
  return {
    peers: members.map((id) => ({ id, url: `http://${id}`, reachable: !options.unreachable?.includes(id) })),
    partitions: Array.from({ length: 6 }, (_, partition) => ({
      topic: 'metrics.inbound',
      partition,
      leader: leaders[partition % leaders.length],
      term: 1,
      commit_index: 10,
      members,
      lag: options.lag ?? {},
    })),
  };
}

const peers = (count: number) => Array.from({ length: count }, (_, index) => `q-${index}`);

const input = (overrides: Partial<PlanInput>): PlanInput => ({
  clusterName: 'q',
  desiredReplicas: 3,
  desiredConfigHash: 'h1',
  statefulSet: { replicas: 3, partition: 0, readyReplicas: 3, updatedReplicas: 3, configHash: 'h1' },
  view: view(peers(3)),
  maxCatchUpLag: 0,
  peerUrl: (ordinal) => `http://q-${ordinal}.peers`,
  ...overrides,
});

describe('planQueueCluster', () => {
  test('a new cluster starts every peer at once (they bootstrap from PEERS)', () => {
    expect(planQueueCluster(input({ statefulSet: undefined, view: undefined }))).toMatchObject({
      statefulSet: { replicas: 3, partition: 0 },
      progress: { reason: 'Creating' },
    });
  });

  test('a settled cluster asks for nothing', () => {
    expect(planQueueCluster(input({}))).toEqual({ statefulSet: { replicas: 3, partition: 0 } });
  });

  test('scale-up grows the StatefulSet first, then adds each ready peer as a voter, lowest first', () => {
    const grow = planQueueCluster(input({ desiredReplicas: 5 }));
    expect(grow).toMatchObject({ statefulSet: { replicas: 5 }, progress: { reason: 'ScalingUp' } });
    expect(grow.action).toBeUndefined();
    const grown = { replicas: 5, partition: 0, readyReplicas: 3, updatedReplicas: 5, configHash: 'h1' };
    expect(planQueueCluster(input({ desiredReplicas: 5, statefulSet: grown })).progress?.reason).toBe('WaitingForPeer');
    expect(planQueueCluster(input({ desiredReplicas: 5, statefulSet: { ...grown, readyReplicas: 5 } })).action).toEqual(
      {
        kind: 'addMember',
        id: 'q-3',
        url: 'http://q-3.peers',
      },
    );
    expect(
      planQueueCluster(input({ desiredReplicas: 5, statefulSet: { ...grown, readyReplicas: 5 }, view: view(peers(4)) }))
        .action,
    ).toEqual({ kind: 'addMember', id: 'q-4', url: 'http://q-4.peers' });
  });

  test('scale-down moves leadership off the highest member, removes it, then shrinks', () => {
    const five = { replicas: 5, partition: 0, readyReplicas: 5, updatedReplicas: 5, configHash: 'h1' };
    expect(planQueueCluster(input({ statefulSet: five, view: view(peers(5)) })).action).toEqual({
      kind: 'transferLeadership',
      from: 'q-4',
    });
    const withoutLeadership = view(peers(5), { leaders: ['q-0', 'q-1'] });
    expect(planQueueCluster(input({ statefulSet: five, view: withoutLeadership }))).toMatchObject({
      statefulSet: { replicas: 5 },
      action: { kind: 'removeMember', id: 'q-4' },
    });
    expect(planQueueCluster(input({ statefulSet: five, view: view(peers(3)) }))).toMatchObject({
      statefulSet: { replicas: 3 },
      progress: { reason: 'ScalingDown' },
    });
  });

  test('a scale-down that would leave no reachable majority is refused and the size kept', () => {
    const plan = planQueueCluster(input({ desiredReplicas: 1, view: view(peers(3), { unreachable: ['q-0', 'q-1'] }) }));
    expect(plan.statefulSet).toEqual({ replicas: 3, partition: 0 });
    expect(plan.action).toBeUndefined();
    expect(plan.refusal).toEqual({
      reason: 'QuorumAtRisk',
      message: 'scale-down to 1 refused: without q-2, 0 of 2 remaining members are reachable and a majority needs 2',
    });
    // Losing the unreachable peer itself is safe when the rest hold a majority.
    const five = { replicas: 5, partition: 0, readyReplicas: 5, updatedReplicas: 5, configHash: 'h1' };
    const safe = planQueueCluster(
      input({ statefulSet: five, view: view(peers(5), { unreachable: ['q-4'], leaders: ['q-0'] }) }),
    );
    expect(safe.action).toEqual({ kind: 'removeMember', id: 'q-4' });
  });

  test('a scale-down waits when /cluster cannot be read', () => {
    expect(planQueueCluster(input({ desiredReplicas: 1, view: undefined })).refusal?.reason).toBe('ClusterUnreachable');
  });

  test('a config change freezes the partition, then restarts one peer at a time after catch-up', () => {
    const changed = planQueueCluster(input({ desiredConfigHash: 'h2' }));
    expect(changed).toMatchObject({
      statefulSet: { replicas: 3, partition: 3 },
      progress: { reason: 'RollingRestart' },
    });
    const frozen = { replicas: 3, partition: 3, readyReplicas: 3, updatedReplicas: 0, configHash: 'h2' };
    const leaders = view(peers(3), { leaders: ['q-0'] });
    expect(
      planQueueCluster(input({ desiredConfigHash: 'h2', statefulSet: frozen, view: leaders })).statefulSet.partition,
    ).toBe(2);
    expect(planQueueCluster(input({ desiredConfigHash: 'h2', statefulSet: frozen })).action).toEqual({
      kind: 'transferLeadership',
      from: 'q-2',
    });
    const restarting = { ...frozen, partition: 2, readyReplicas: 2, updatedReplicas: 1 };
    expect(
      planQueueCluster(input({ desiredConfigHash: 'h2', statefulSet: restarting, view: leaders })).progress?.message,
    ).toBe('waiting for q-2 to restart and become ready');
    const behind = view(peers(3), { leaders: ['q-0'], lag: { 'q-2': 50 } });
    const restarted = { ...restarting, readyReplicas: 3 };
    expect(
      planQueueCluster(input({ desiredConfigHash: 'h2', statefulSet: restarted, view: behind })).progress?.message,
    ).toBe('waiting for q-2 to catch up');
    expect(
      planQueueCluster(input({ desiredConfigHash: 'h2', statefulSet: restarted, view: leaders, maxCatchUpLag: 0 }))
        .statefulSet.partition,
    ).toBe(1);
  });

  test('a scale during a config change never lowers the partition', () => {
    const stale = { replicas: 3, partition: 0, readyReplicas: 3, updatedReplicas: 3, configHash: 'h1' };
    expect(
      planQueueCluster(input({ desiredConfigHash: 'h2', desiredReplicas: 5, statefulSet: stale })).statefulSet,
    ).toEqual({
      replicas: 5,
      partition: 5,
    });
    expect(
      planQueueCluster(input({ desiredConfigHash: 'h2', desiredReplicas: 1, statefulSet: stale, view: undefined }))
        .statefulSet,
    ).toEqual({ replicas: 3, partition: 3 });
  });
});

describe('partial membership', () => {
  test('a peer that joined only some partitions is added again', () => {
    const partial = view(peers(4));
    partial.partitions[0].members = peers(3);
    const grown = { replicas: 4, partition: 0, readyReplicas: 4, updatedReplicas: 4, configHash: 'h1' };
    expect(planQueueCluster(input({ desiredReplicas: 4, statefulSet: grown, view: partial })).action).toEqual({
      kind: 'addMember',
      id: 'q-3',
      url: 'http://q-3.peers',
    });
  });

  test('a peer left in some partitions is still removed before the StatefulSet shrinks', () => {
    const partial = view(peers(3), { leaders: ['q-0'] });
    partial.partitions[2].members = peers(4);
    const four = { replicas: 4, partition: 0, readyReplicas: 4, updatedReplicas: 4, configHash: 'h1' };
    expect(planQueueCluster(input({ statefulSet: four, view: partial })).action).toEqual({
      kind: 'removeMember',
      id: 'q-3',
    });
  });
});
