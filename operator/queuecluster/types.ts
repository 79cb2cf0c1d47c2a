import type { Condition } from '../runtime/conditions';
import type { KubeObject } from '../runtime/kube';

export type FsyncPolicy = 'group' | 'always' | 'interval';

export interface ResourceRequirements {
  requests?: Record<string, string | number>;
  limits?: Record<string, string | number>;
}

export interface QueueClusterSpec {
  replicas: number;
  partitions: number;
  image?: string;
  fsyncPolicy?: FsyncPolicy;
  retention?: { duration?: string; bytes?: string };
  storage?: { size?: string; storageClassName?: string };
  resources?: ResourceRequirements;
}

export interface QueueClusterStatus {
  observedGeneration?: number;
  replicas?: number;
  readyReplicas?: number;
  selector?: string;
  members?: string[];
  memberCount?: number;
  partitionLeaders?: Record<string, number>;
  conditions?: Condition[];
}

export interface QueueCluster extends KubeObject {
  spec: QueueClusterSpec;
  status?: QueueClusterStatus;
}

/** The queue's `GET /cluster` answer (docs/CONTRACTS.md). */
export interface ClusterView {
  peers: { id: string; url: string; reachable: boolean }[];
  partitions: {
    topic: string;
    partition: number;
    leader: string | null;
    term: number;
    commit_index: number;
    members: string[];
    lag?: Record<string, number>;
  }[];
}
