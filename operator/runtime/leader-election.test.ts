import { decideLease, LeaderElector, microTime, type Lease } from './leader-election';
import { KubeError, type KubeClient, type KubeObject } from './kube';
import { ManualScheduler } from './scheduler';

describe('decideLease', () => {
  const lease = { holderIdentity: 'b', leaseDurationSeconds: 15, leaseTransitions: 2 };

  test('takes a Lease nobody holds', () => {
    expect(decideLease(undefined, 'a', 1000, 1000, 15_000)).toMatchObject({
      kind: 'acquire',
      spec: { holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0 },
    });
    expect(decideLease({ ...lease, holderIdentity: '' }, 'a', 0, 0, 15_000).kind).toBe('acquire');
  });

  test("follows another holder until the Lease expires by this replica's own observation", () => {
    expect(decideLease(lease, 'a', 14_999, 0, 15_000)).toEqual({ kind: 'follow', holder: 'b' });
    expect(decideLease(lease, 'a', 15_000, 0, 15_000)).toMatchObject({
      kind: 'acquire',
      spec: { leaseTransitions: 3 },
    });
  });

  test('renews its own Lease', () => {
    expect(decideLease({ ...lease, holderIdentity: 'a' }, 'a', 5000, 0, 15_000)).toMatchObject({
      kind: 'renew',
      spec: { holderIdentity: 'a', renewTime: microTime(5000) },
    });
  });
});

/** An in-memory Lease store with the API server's optimistic concurrency. */
function leaseStore() {
  let stored: Lease | undefined;
  let version = 0;
  let isDown = false;
  const client = {
    async get() {
      if (isDown) throw new Error('connection refused');
      if (!stored) throw new KubeError(404, 'NotFound', 'not found');
      return structuredClone(stored);
    },
    async create(_resource: unknown, object: KubeObject) {
      if (stored) throw new KubeError(409, 'AlreadyExists', 'exists');
      stored = { ...(object as Lease), metadata: { ...object.metadata, resourceVersion: String(++version) } };
      return structuredClone(stored);
    },
    async replace(_resource: unknown, object: KubeObject) {
      if (isDown) throw new Error('connection refused');
      if (object.metadata.resourceVersion !== stored?.metadata.resourceVersion)
        throw new KubeError(409, 'Conflict', 'stale');
      stored = { ...(object as Lease), metadata: { ...object.metadata, resourceVersion: String(++version) } };
      return structuredClone(stored);
    },
  } as unknown as KubeClient;
  return { client, lease: () => stored, setDown: (down: boolean) => (isDown = down) };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('LeaderElector', () => {
  function elector(client: KubeClient, scheduler: ManualScheduler, identity: string, log: string[]) {
    return new LeaderElector(client, {
      namespace: 'default',
      name: 'lock',
      identity,
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      scheduler,
      onStartedLeading: () => log.push(`${identity} leads`),
      onStoppedLeading: () => log.push(`${identity} stopped`),
    });
  }

  async function tick(scheduler: ManualScheduler, ms: number) {
    for (let elapsed = 0; elapsed < ms; elapsed += 1000) {
      scheduler.advance(1000);
      await flush();
    }
  }

  test('exactly one of two replicas leads; the other takes over after the leader stops', async () => {
    const store = leaseStore();
    const scheduler = new ManualScheduler(1_000_000);
    const log: string[] = [];
    const first = elector(store.client, scheduler, 'a', log);
    const second = elector(store.client, scheduler, 'b', log);
    first.start();
    await flush();
    second.start();
    await tick(scheduler, 30_000);
    expect(log).toEqual(['a leads']);
    expect(first.isLeader && !second.isLeader).toBe(true);
    await first.stop();
    expect(store.lease()?.spec?.holderIdentity).toBe('');
    await tick(scheduler, 4_000);
    expect(log).toEqual(['a leads', 'b leads']);
    expect(store.lease()?.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  });

  test('a leader that cannot renew before the deadline steps down', async () => {
    const store = leaseStore();
    const scheduler = new ManualScheduler(0);
    const log: string[] = [];
    elector(store.client, scheduler, 'a', log).start();
    await flush();
    await flush();
    expect(log).toEqual(['a leads']);
    store.setDown(true);
    await tick(scheduler, 9_000);
    expect(log).toEqual(['a leads']);
    await tick(scheduler, 4_000);
    expect(log).toEqual(['a leads', 'a stopped']);
  });
});
