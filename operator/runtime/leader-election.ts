import { isConflict, isNotFound, resources, type KubeClient, type KubeObject } from './kube';
import type { Scheduler } from './scheduler';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
export const microTime = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export type LeaseDecision =
  { kind: 'acquire'; spec: LeaseSpec } | { kind: 'renew'; spec: LeaseSpec } | { kind: 'follow'; holder: string };

/**
 * Decides what to do with the Lease as last read. Expiry is judged from when this process saw the record change
 * (`observedAt`), not from the timestamps inside it, so clock skew between replicas cannot shorten a lease (as
 * client-go's leaderelection does).
 */
export function decideLease(
  current: LeaseSpec | undefined,
  identity: string,
  now: number,
  observedAt: number,
  leaseDurationMs: number,
): LeaseDecision {
  const leaseDurationSeconds = Math.ceil(leaseDurationMs / 1000);
  const holder = current?.holderIdentity ?? '';
  if (holder === identity && current)
    return { kind: 'renew', spec: { ...current, leaseDurationSeconds, renewTime: microTime(now) } };
  const heldForMs = (current?.leaseDurationSeconds ?? 0) * 1000;
  const isExpired = holder === '' || observedAt + heldForMs <= now;
  if (!isExpired) return { kind: 'follow', holder };
  return {
    kind: 'acquire',
    spec: {
      holderIdentity: identity,
      leaseDurationSeconds,
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: (current?.leaseTransitions ?? 0) + (current ? 1 : 0),
    },
  };
}

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  /** A leader that cannot renew for this long steps down (shorter than the lease, so it stops before others start). */
  renewDeadlineMs: number;
  retryPeriodMs: number;
  scheduler: Scheduler;
  onStartedLeading(): void;
  onStoppedLeading(): void;
  onNewLeader?(holder: string): void;
  onError?(error: unknown): void;
}

/** Lease-based leader election on coordination.k8s.io/v1, with optimistic concurrency on the Lease's resourceVersion. */
export class LeaderElector {
  private observed: { resourceVersion?: string; spec?: LeaseSpec; observedAt: number } | undefined;
  private lastRenewAt = 0;
  private isLeaderNow = false;
  private isStopped = false;
  private cancelTimer: (() => void) | undefined;
  private lastKnownHolder = '';

  constructor(
    private readonly client: KubeClient,
    private readonly options: LeaderElectionOptions,
  ) {}

  get isLeader(): boolean {
    return this.isLeaderNow;
  }

  start(): void {
    void this.cycle();
  }

  /** Stops campaigning; a leader gives the Lease up so a standby takes over without waiting for expiry. */
  async stop(): Promise<void> {
    this.isStopped = true;
    this.cancelTimer?.();
    if (!this.isLeaderNow) return;
    this.isLeaderNow = false;
    try {
      await this.write({
        holderIdentity: '',
        leaseDurationSeconds: 1,
        renewTime: microTime(this.options.scheduler.now()),
        leaseTransitions: this.observed?.spec?.leaseTransitions,
      });
    } catch (error) {
      this.options.onError?.(error);
    }
  }

  private async cycle(): Promise<void> {
    if (this.isStopped) return;
    try {
      await this.tryAcquireOrRenew();
    } catch (error) {
      this.options.onError?.(error);
    }
    if (this.isStopped) return;
    const now = this.options.scheduler.now();
    if (this.isLeaderNow && now - this.lastRenewAt > this.options.renewDeadlineMs) {
      this.isLeaderNow = false;
      this.options.onStoppedLeading();
    }
    this.cancelTimer = this.options.scheduler.schedule(this.options.retryPeriodMs, () => void this.cycle());
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const { scheduler, namespace, name, identity, leaseDurationMs } = this.options;
    let lease: Lease | undefined;
    try {
      lease = await this.client.get<Lease>(resources.lease, namespace, name);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    const now = scheduler.now();
    if (!this.observed || this.observed.resourceVersion !== lease?.metadata.resourceVersion)
      this.observed = { resourceVersion: lease?.metadata.resourceVersion, spec: lease?.spec, observedAt: now };
    const decision = decideLease(lease?.spec, identity, now, this.observed.observedAt, leaseDurationMs);
    if (decision.kind === 'follow') {
      if (this.isLeaderNow) {
        this.isLeaderNow = false;
        this.options.onStoppedLeading();
      }
      if (decision.holder !== this.lastKnownHolder) {
        this.lastKnownHolder = decision.holder;
        this.options.onNewLeader?.(decision.holder);
      }
      return;
    }
    try {
      await this.write(decision.spec, lease);
    } catch (error) {
      if (isConflict(error)) return;
      throw error;
    }
    this.lastRenewAt = now;
    if (!this.isLeaderNow) {
      this.isLeaderNow = true;
      this.lastKnownHolder = identity;
      this.options.onStartedLeading();
    }
  }

  private async write(spec: LeaseSpec, current?: Lease): Promise<void> {
    const { namespace, name } = this.options;
    const body: Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name,
        namespace,
        resourceVersion: current?.metadata.resourceVersion ?? this.observed?.resourceVersion,
      },
      spec,
    };
    const written =
      current || this.observed?.resourceVersion
        ? await this.client.replace<Lease>(resources.lease, body)
        : await this.client.create<Lease>(resources.lease, { ...body, metadata: { name, namespace } });
    this.observed = {
      resourceVersion: written.metadata.resourceVersion,
      spec: written.spec,
      observedAt: this.options.scheduler.now(),
    };
  }
}
