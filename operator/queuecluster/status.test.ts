import type { Plan } from './plan';
import { computeStatus } from './status';
import type { ClusterView, QueueCluster } from './types';

const cluster: QueueCluster = {
  metadata: { name: 'q', namespace: 'ns', generation: 4 },
  spec: { replicas: 3, partitions: 2 },
};

const view = (leaders: (string | null)[], unreachable: string[] = []): ClusterView => ({
  peers: ['q-0', 'q-1', 'q-2'].map((id) => ({ id, url: id, reachable: !unreachable.includes(id) })),
  partitions: leaders.map((leader, partition) => ({
    topic: 'metrics.inbound',
    partition,
    leader,
    term: 1,
    commit_index: 1,
    members: ['q-0', 'q-1', 'q-2'],
  })),
});

const settled: Plan = { statefulSet: { replicas: 3, partition: 0 } };
const now = Date.UTC(2026, 10, 1);
const observed = (overrides: object) => ({
  statefulSetReplicas: 3,
  readyReplicas: 3,
  view: view(['q-0', 'q-1']),
  plan: settled,
  selector: 'a=b',
  storage: { type: 'StorageSynced', status: 'True' as const, reason: 'Synced', message: 'every volume requests 10Gi' },
  ...overrides,
});
const conditionsOf = (status: ReturnType<typeof computeStatus>) =>
  Object.fromEntries(
    (status.conditions ?? []).map((condition) => [condition.type, `${condition.status} ${condition.reason}`]),
  );

describe('computeStatus', () => {
  test('a healthy cluster is Ready, stable and not degraded, with members and leaders per peer', () => {
    const status = computeStatus(cluster, observed({}), now);
    expect(status).toMatchObject({
      observedGeneration: 4,
      members: ['q-0', 'q-1', 'q-2'],
      memberCount: 3,
      partitionLeaders: { 'q-0': 1, 'q-1': 1 },
      selector: 'a=b',
    });
    expect(conditionsOf(status)).toEqual({
      Ready: 'True AllPeersReady',
      Progressing: 'False Stable',
      Degraded: 'False Healthy',
      StorageSynced: 'True Synced',
    });
    expect(status.conditions?.every((condition) => condition.observedGeneration === 4)).toBe(true);
  });

  test('a leaderless partition, an unreachable member and a refusal each show', () => {
    const refused: Plan = { ...settled, refusal: { reason: 'QuorumAtRisk', message: 'no' } };
    expect(conditionsOf(computeStatus(cluster, observed({ view: view(['q-0', null], ['q-2']) }), now))).toEqual({
      Ready: 'False NoLeader',
      Progressing: 'False Stable',
      Degraded: 'True MembersUnreachable',
      StorageSynced: 'True Synced',
    });
    expect(conditionsOf(computeStatus(cluster, observed({ plan: refused }), now))).toMatchObject({
      Progressing: 'False QuorumAtRisk',
      Degraded: 'True QuorumAtRisk',
    });
    expect(conditionsOf(computeStatus(cluster, observed({ view: undefined }), now)).Ready).toBe(
      'False ClusterUnreachable',
    );
  });

  test('recomputing an unchanged status gives an identical object (no write)', () => {
    const first = computeStatus(cluster, observed({}), now);
    const again = computeStatus({ ...cluster, status: first }, observed({}), now + 60_000);
    expect(again).toEqual(first);
  });
});
