export type AlertState = 'pending' | 'firing' | 'resolved';

export interface Alert {
  rule: string;
  state: AlertState;
  value: number | null;
  labels: Record<string, string>;
  activeAt: string | null;
  firedAt: string | null;
  resolvedAt: string | null;
  lastNotification: { channel: string; status: string; at: string; attempts?: number } | null;
  severity?: string;
  fingerprint?: string;
}

export interface Rule {
  name: string;
  query: string;
  duration: string;
  channels: string[];
  window?: string;
  interval?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  severity?: string;
  enabled?: boolean;
  [other: string]: unknown;
}

export interface Channel {
  name: string;
  type: string;
  settings: Record<string, unknown>;
  source?: string;
}

export interface QueueCluster {
  peers: { id: string; url: string; reachable: boolean }[];
  partitions: {
    topic: string;
    partition: number;
    leader: string | null;
    term: number;
    commit_index: number;
    members: string[];
  }[];
}

export interface ConsoleConfig {
  services: { alerting: boolean; queue: boolean; ingestion: boolean; storage: number };
}
