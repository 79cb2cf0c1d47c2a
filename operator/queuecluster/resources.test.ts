/* eslint-disable @typescript-eslint/no-explicit-any -- Kubernetes objects and HTTP bodies are read as untyped JSON in tests. */
import { configHash, makeConfigMap, makeStatefulSet, peerOrdinal, restartSettings } from './resources';
import type { QueueCluster } from './types';

const cluster = (spec: Partial<QueueCluster['spec']> = {}): QueueCluster => ({
  apiVersion: 'metricstream.io/v1alpha1',
  kind: 'QueueCluster',
  metadata: { name: 'events', namespace: 'prod', uid: 'uid-1', generation: 1 },
  spec: { replicas: 3, partitions: 12, ...spec },
});

describe('QueueCluster builders', () => {
  test('the StatefulSet names its peers through the headless Service and carries the config hash', () => {
    const statefulSet = makeStatefulSet(
      cluster(),
      { replicas: 3, partition: 0 },
      { defaultImage: 'metricstream:1' },
    ) as any;
    expect(statefulSet.spec.serviceName).toBe('events-peers');
    expect(statefulSet.spec.template.metadata.annotations['metricstream.io/config-hash']).toBe(
      configHash(restartSettings(cluster())),
    );
    expect(statefulSet.spec.template.spec.containers[0]).toMatchObject({
      image: 'metricstream:1',
      args: ['queue'],
      securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
    });
    expect(statefulSet.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'QueueCluster', uid: 'uid-1', controller: true }),
    ]);
  });

  test('a restart setting changes the hash; the peer list does not', () => {
    const hashOf = (spec: Partial<QueueCluster['spec']>) => configHash(restartSettings(cluster(spec)));
    expect(hashOf({ fsyncPolicy: 'always' })).not.toBe(hashOf({}));
    expect(hashOf({ replicas: 5 })).toBe(hashOf({}));
    expect((makeConfigMap(cluster(), 2) as any).data.QUEUE_PEERS).toBe(
      'events-0=http://events-0.events-peers.prod.svc:8081,events-1=http://events-1.events-peers.prod.svc:8081',
    );
  });

  test('peer ids map back to ordinals', () => {
    expect(peerOrdinal(cluster(), 'events-4')).toBe(4);
    expect(peerOrdinal(cluster(), 'other-4')).toBeUndefined();
  });
});
