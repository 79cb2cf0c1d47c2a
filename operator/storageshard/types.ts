import type { Condition } from '../runtime/conditions';
import type { KubeObject } from '../runtime/kube';
import type { ResourceRequirements } from '../queuecluster/types';

export interface StorageShardSpec {
  index: number;
  count: number;
  partitions: number;
  queueCluster: string;
  image?: string;
  retention?: string;
  storage?: { size?: string; storageClassName?: string };
  resources?: ResourceRequirements;
}

export interface StorageShardStatus {
  observedGeneration?: number;
  shard?: string;
  readyReplicas?: number;
  url?: string;
  partitions?: number[];
  conditions?: Condition[];
}

export interface StorageShard extends KubeObject {
  spec: StorageShardSpec;
  status?: StorageShardStatus;
}
