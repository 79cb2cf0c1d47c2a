import { createHash } from 'node:crypto';
import { apiVersionOf, resources, type KubeObject, type OwnerReference } from '../runtime/kube';
import { quantityBytes } from '../runtime/quantity';
import { dataVolumeClaim, podSecurityContext, scratchVolumes, serviceContainerDefaults } from '../runtime/pod';
import type { QueueCluster } from './types';

export const queuePort = 8081;
export const defaultStorageSize = '10Gi';
export const configHashAnnotation = 'metricstream.io/config-hash';

export interface BuildOptions {
  /** Image used when the QueueCluster does not name one. */
  defaultImage: string;
}

export const peersServiceName = (cluster: QueueCluster) => `${cluster.metadata.name}-peers`;
export const configMapName = (cluster: QueueCluster) => `${cluster.metadata.name}-config`;
export const peerId = (cluster: QueueCluster, ordinal: number) => `${cluster.metadata.name}-${ordinal}`;
export const peerOrdinal = (cluster: QueueCluster, id: string): number | undefined => {
  const prefix = `${cluster.metadata.name}-`;
  const ordinal = id.startsWith(prefix) ? Number(id.slice(prefix.length)) : NaN;
  return Number.isInteger(ordinal) && ordinal >= 0 ? ordinal : undefined;
};
/** The address peers use for each other: stable DNS through the headless Service. */
export const peerUrl = (cluster: QueueCluster, ordinal: number) =>
  `http://${peerId(cluster, ordinal)}.${peersServiceName(cluster)}.${cluster.metadata.namespace}.svc:${queuePort}`;

export function selectorLabels(cluster: QueueCluster): Record<string, string> {
  return { 'app.kubernetes.io/name': 'metricstream-queue', 'app.kubernetes.io/instance': cluster.metadata.name };
}

export const selectorString = (cluster: QueueCluster) =>
  Object.entries(selectorLabels(cluster))
    .map(([key, value]) => `${key}=${value}`)
    .join(',');

export function commonLabels(cluster: QueueCluster): Record<string, string> {
  return {
    ...selectorLabels(cluster),
    'app.kubernetes.io/component': 'queue',
    'app.kubernetes.io/part-of': 'metricstream',
    'app.kubernetes.io/managed-by': 'metricstream-operator',
  };
}

export function ownerReference(cluster: QueueCluster): OwnerReference {
  return {
    apiVersion: apiVersionOf(resources.queueCluster),
    kind: 'QueueCluster',
    name: cluster.metadata.name,
    uid: cluster.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

function metadata(cluster: QueueCluster, name: string) {
  return {
    name,
    namespace: cluster.metadata.namespace,
    labels: commonLabels(cluster),
    ownerReferences: [ownerReference(cluster)],
  };
}

/**
 * Settings a running peer reads only at start-up (the queue's environment variables, services/queue/API.md): a
 * change to them must restart (roll) the peers.
 */
export function restartSettings(cluster: QueueCluster): Record<string, string> {
  const { spec } = cluster;
  return {
    QUEUE_TOPICS: `metrics.inbound:${spec.partitions}`,
    QUEUE_FSYNC: spec.fsyncPolicy ?? 'group',
    QUEUE_RETENTION: spec.retention?.duration ?? '7d',
    ...(spec.retention?.bytes && { QUEUE_RETENTION_BYTES: String(quantityBytes(spec.retention.bytes)) }),
  };
}

export const configHash = (settings: Record<string, string>) =>
  createHash('sha256')
    .update(JSON.stringify(Object.entries(settings).sort(([a], [b]) => a.localeCompare(b))))
    .digest('hex')
    .slice(0, 16);

/**
 * The ConfigMap the peers load as environment. QUEUE_PEERS lists every peer the StatefulSet may run so a new peer can find
 * the others; it is left out of the config hash because running peers learn membership changes through Raft (the
 * operator's admin calls), so a scale must not restart them.
 */
export function makeConfigMap(
  cluster: QueueCluster,
  replicas: number,
  urlOf: (ordinal: number) => string = (ordinal) => peerUrl(cluster, ordinal),
): KubeObject {
  const peers = Array.from({ length: replicas }, (_, ordinal) => `${peerId(cluster, ordinal)}=${urlOf(ordinal)}`);
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: metadata(cluster, configMapName(cluster)),
    data: { ...restartSettings(cluster), QUEUE_PEERS: peers.join(',') },
  };
}

export function makePeersService(cluster: QueueCluster): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(cluster, peersServiceName(cluster)),
    spec: {
      clusterIP: 'None',
      // Peers must resolve each other before they are Ready, or a new cluster could never elect a leader.
      publishNotReadyAddresses: true,
      selector: selectorLabels(cluster),
      ports: [{ name: 'http', port: queuePort, targetPort: 'http' }],
    },
  };
}

export function makeClientService(cluster: QueueCluster): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(cluster, cluster.metadata.name),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(cluster),
      ports: [{ name: 'http', port: queuePort, targetPort: 'http' }],
    },
  };
}

export function makePodDisruptionBudget(cluster: QueueCluster): KubeObject {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: metadata(cluster, cluster.metadata.name),
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(cluster) } },
  };
}

export interface StatefulSetShape {
  replicas: number;
  /** Pods with an ordinal at or above this run the new template (the rolling restart's progress). */
  partition: number;
}

/**
 * The peers' StatefulSet. `claimTemplates` are the live StatefulSet's, when it exists: they cannot change, so a new
 * `spec.storage` reaches the volumes by expansion (runtime/volume-expansion.ts), never through the template.
 */
export function makeStatefulSet(
  cluster: QueueCluster,
  shape: StatefulSetShape,
  options: BuildOptions,
  claimTemplates?: unknown[],
): KubeObject {
  const { spec } = cluster;
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: metadata(cluster, cluster.metadata.name),
    spec: {
      replicas: shape.replicas,
      serviceName: peersServiceName(cluster),
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: selectorLabels(cluster) },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: shape.partition } },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      template: {
        metadata: {
          labels: commonLabels(cluster),
          annotations: { [configHashAnnotation]: configHash(restartSettings(cluster)) },
        },
        spec: {
          securityContext: podSecurityContext(),
          terminationGracePeriodSeconds: 60,
          containers: [
            {
              name: 'queue',
              image: spec.image ?? options.defaultImage,
              args: ['queue'],
              ports: [{ name: 'http', containerPort: queuePort }],
              env: [
                { name: 'QUEUE_NODE_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'HOST', value: '0.0.0.0' },
                { name: 'PORT', value: String(queuePort) },
                { name: 'QUEUE_DATA_DIR', value: '/data' },
              ],
              envFrom: [{ configMapRef: { name: configMapName(cluster) } }],
              ...(spec.resources && { resources: spec.resources }),
              ...serviceContainerDefaults(),
            },
          ],
          volumes: scratchVolumes(),
        },
      },
      volumeClaimTemplates: claimTemplates ?? [
        dataVolumeClaim(selectorLabels(cluster), spec.storage, defaultStorageSize),
      ],
    },
  };
}
