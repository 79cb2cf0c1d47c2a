import { apiVersionOf, resources, type KubeObject, type OwnerReference } from '../runtime/kube';
import { dataVolumeClaim, podSecurityContext, scratchVolumes, serviceContainerDefaults } from '../runtime/pod';
import { queuePort } from '../queuecluster/resources';
import type { StorageShard } from './types';

export const storagePort = 8082;
export const defaultStorageSize = '20Gi';

export interface BuildOptions {
  defaultImage: string;
}

export const selectorLabels = (shard: StorageShard): Record<string, string> => ({
  'app.kubernetes.io/name': 'metricstream-storage',
  'app.kubernetes.io/instance': shard.metadata.name,
});

export const commonLabels = (shard: StorageShard): Record<string, string> => ({
  ...selectorLabels(shard),
  'app.kubernetes.io/component': 'storage',
  'app.kubernetes.io/part-of': 'metricstream',
  'app.kubernetes.io/managed-by': 'metricstream-operator',
});

export const shardUrl = (shard: StorageShard) =>
  `http://${shard.metadata.name}.${shard.metadata.namespace}.svc:${storagePort}`;

/** Shard i of N consumes the partitions p with p mod N = i (docs/CONTRACTS.md). */
export const shardPartitions = (index: number, count: number, partitions: number) =>
  Array.from({ length: partitions }, (_, partition) => partition).filter((partition) => partition % count === index);

function ownerReference(shard: StorageShard): OwnerReference {
  return {
    apiVersion: apiVersionOf(resources.storageShard),
    kind: 'StorageShard',
    name: shard.metadata.name,
    uid: shard.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

const metadata = (shard: StorageShard) => ({
  name: shard.metadata.name,
  namespace: shard.metadata.namespace,
  labels: commonLabels(shard),
  ownerReferences: [ownerReference(shard)],
});

export function makeService(shard: StorageShard): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(shard),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(shard),
      ports: [{ name: 'http', port: storagePort, targetPort: 'http' }],
    },
  };
}

/** The shard's StatefulSet; `claimTemplates` are the live StatefulSet's when it exists (they cannot change). */
export function makeStatefulSet(shard: StorageShard, options: BuildOptions, claimTemplates?: unknown[]): KubeObject {
  const { spec } = shard;
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: metadata(shard),
    spec: {
      replicas: 1,
      serviceName: shard.metadata.name,
      selector: { matchLabels: selectorLabels(shard) },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      template: {
        metadata: { labels: commonLabels(shard) },
        spec: {
          securityContext: podSecurityContext(),
          terminationGracePeriodSeconds: 60,
          containers: [
            {
              name: 'storage',
              image: spec.image ?? options.defaultImage,
              args: ['storage'],
              ports: [{ name: 'http', containerPort: storagePort }],
              env: [
                { name: 'HOST', value: '0.0.0.0' },
                { name: 'PORT', value: String(storagePort) },
                { name: 'DATA_DIR', value: '/data' },
                { name: 'SHARD_INDEX', value: String(spec.index) },
                { name: 'SHARD_COUNT', value: String(spec.count) },
                {
                  name: 'QUEUE_URL',
                  value: `http://${spec.queueCluster}.${shard.metadata.namespace}.svc:${queuePort}`,
                },
                { name: 'RETENTION', value: spec.retention ?? '30d' },
              ],
              ...(spec.resources && { resources: spec.resources }),
              ...serviceContainerDefaults(),
            },
          ],
          volumes: scratchVolumes(),
        },
      },
      volumeClaimTemplates: claimTemplates ?? [
        dataVolumeClaim(selectorLabels(shard), spec.storage, defaultStorageSize),
      ],
    },
  };
}

export interface ShardEntry {
  index: number;
  count: number;
  url: string;
  isReady: boolean;
}

/**
 * The query engine's shards file (`{"shards": [url, ...]}`, docs/CONTRACTS.md) for one namespace: the ready shards in
 * index order. Shards of another count than the most common one are left out, since the query engine cannot merge
 * two different splits of the partitions.
 */
export function shardsDocument(entries: readonly ShardEntry[]): { shards: string[] } {
  const countVotes = new Map<number, number>();
  for (const entry of entries) countVotes.set(entry.count, (countVotes.get(entry.count) ?? 0) + 1);
  const [count] = [...countVotes].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0] ?? [0];
  const chosen = new Map<number, string>();
  for (const entry of [...entries].sort((a, b) => a.url.localeCompare(b.url)))
    if (entry.isReady && entry.count === count && !chosen.has(entry.index)) chosen.set(entry.index, entry.url);
  return { shards: [...chosen].sort((a, b) => a[0] - b[0]).map(([, url]) => url) };
}

export function makeShardsConfigMap(namespace: string, name: string, entries: readonly ShardEntry[]): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      namespace,
      labels: {
        'app.kubernetes.io/name': 'metricstream-query',
        'app.kubernetes.io/component': 'query-shards',
        'app.kubernetes.io/part-of': 'metricstream',
        'app.kubernetes.io/managed-by': 'metricstream-operator',
      },
    },
    data: { 'shards.json': JSON.stringify(shardsDocument(entries)) },
  };
}
