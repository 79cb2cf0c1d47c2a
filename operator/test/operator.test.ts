/* eslint-disable @typescript-eslint/no-explicit-any -- Kubernetes objects and HTTP bodies are read as untyped JSON in tests. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  cliPath,
  freePort,
  spawnProcess,
  startService,
  waitFor,
  type ManagedProcess,
} from '../../services/kit/testing/processes';
import { resources, resourcePath, type KubeObject, type Resource } from '../runtime/kube';
import { findTools, startEnvTest, type EnvTest } from './envtest';
import { membersOf } from '../queuecluster/plan';
import type { ClusterView } from '../queuecluster/types';
import { startAdminRecorder, startAlertingDouble, startQueueAdminDouble } from './doubles';

/**
 * The operator against a real kube-apiserver and etcd (no kubelet, no controller-manager): objects, ownerReferences,
 * CEL validation and the Lease are the API server's; pods never run, so tests patch StatefulSet status where they
 * need readiness. The queue admin API and the alerting rules API are recording doubles of docs/CONTRACTS.md.
 */

const { tools, missing } = findTools();
if (!tools) process.stdout.write(`operator envtest suite skipped: ${missing}\n`);
const describeEnvTest = tools ? describe : describe.skip;
const namespace = 'default';
jest.setTimeout(90_000);

describeEnvTest('operator against a real kube-apiserver', () => {
  let env: EnvTest;
  let queue: Awaited<ReturnType<typeof startQueueAdminDouble>>;
  let alerting: Awaited<ReturnType<typeof startAlertingDouble>>;
  const operators: ManagedProcess[] = [];
  let firstOperator: Awaited<ReturnType<typeof startOperator>>;

  const get = <T = any>(resource: Resource, name: string) => env.client.get<KubeObject & T>(resource, namespace, name);
  const tryGet = (resource: Resource, name: string) => get(resource, name).catch(() => undefined);
  const create = (resource: Resource, body: unknown) => env.request('POST', resourcePath(resource, namespace), body);
  const mergePatch = (resource: Resource, name: string, patch: unknown, subresource?: 'status' | 'scale') =>
    env.request('PATCH', resourcePath(resource, namespace, name, subresource), patch, 'application/merge-patch+json');
  const condition = (object: any, type: string) =>
    (object?.status?.conditions ?? []).find((candidate: { type: string }) => candidate.type === type);

  async function startOperator(identity: string, extra: string[] = []) {
    const port = await freePort();
    const operator = await spawnProcess(
      identity,
      process.execPath,
      [
        cliPath,
        'operator',
        '--port',
        String(port),
        '--kubeconfig',
        env.kubeconfigPath,
        '--namespace',
        namespace,
        '--identity',
        identity,
        '--queue-admin-url',
        queue.url,
        '--alerting-url',
        alerting.url,
        '--lease-duration',
        '4s',
        '--renew-deadline',
        '3s',
        '--retry-period',
        '500ms',
        '--refresh-period',
        '1s',
        '--finalizer-timeout',
        '3s',
        ...extra,
      ],
      {
        env: { LOG_LEVEL: 'warn' },
        waitUntilReady: () =>
          waitFor(
            async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok || undefined,
            30_000,
            `${identity} ready`,
          ),
      },
    );
    operators.push(operator);
    return { process: operator, metrics: () => fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()) };
  }

  const reconcileErrors = (metrics: string) =>
    metrics
      .split('\n')
      .filter((line) => line.startsWith('metricstream_operator_reconcile_errors_total'))
      .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);

  const reconcileCount = (metrics: string) =>
    metrics
      .split('\n')
      .filter((line) => line.startsWith('metricstream_operator_reconciles_total'))
      .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);

  const events = async (reason: string) => {
    const { body } = await env.request(
      'GET',
      `${resourcePath(resources.event, namespace)}?fieldSelector=reason%3D${reason}`,
    );
    return body.items as { message: string; involvedObject: { name: string } }[];
  };

  beforeAll(async () => {
    if (!fs.existsSync(cliPath)) throw new Error(`${cliPath} is missing: run npx tsc -p tsconfig.json first`);
    env = await startEnvTest(tools!);
    queue = await startQueueAdminDouble(['events-0', 'events-1', 'events-2']);
    alerting = await startAlertingDouble();
  }, 120_000);

  afterAll(async () => {
    for (const operator of operators) await operator.stop();
    await queue?.close();
    await alerting?.close();
    await env?.stop();
  });

  test('the API server refuses bad specs through the CRD schema and CEL rules', async () => {
    const queueCluster = (name: string, spec: object) => ({
      apiVersion: 'metricstream.io/v1alpha1',
      kind: 'QueueCluster',
      metadata: { name },
      spec,
    });
    const even = await create(resources.queueCluster, queueCluster('even', { replicas: 4 }));
    expect(even.status).toBe(422);
    expect(even.body.message).toContain('replicas must be odd');

    expect((await create(resources.queueCluster, queueCluster('fixed', { replicas: 1, partitions: 12 }))).status).toBe(
      201,
    );
    const repartitioned = await mergePatch(resources.queueCluster, 'fixed', { spec: { partitions: 24 } });
    expect(repartitioned.status).toBe(422);
    expect(repartitioned.body.message).toContain('partitions is immutable');
    const scaledEven = await mergePatch(resources.queueCluster, 'fixed', { spec: { replicas: 2 } }, 'scale');
    expect(scaledEven.status).toBe(422);
    await env.request('DELETE', resourcePath(resources.queueCluster, namespace, 'fixed'));

    const badDuration = await create(resources.alertRule, {
      apiVersion: 'metricstream.io/v1alpha1',
      kind: 'AlertRule',
      metadata: { name: 'bad-duration' },
      spec: { query: 'avg(cpu_usage) > 80', duration: '5 minutes' },
    });
    expect(badDuration.status).toBe(422);
    expect(badDuration.body.message).toContain('duration must look like');

    const shard = (spec: object) => ({
      apiVersion: 'metricstream.io/v1alpha1',
      kind: 'StorageShard',
      metadata: { name: 'bad-shard' },
      spec: { queueCluster: 'events', ...spec },
    });
    const outOfRange = await create(resources.storageShard, shard({ index: 2, count: 2 }));
    expect(outOfRange.status).toBe(422);
    expect(outOfRange.body.message).toContain('index must be below count');
    const notDividing = await create(resources.storageShard, shard({ index: 0, count: 5 }));
    expect(notDividing.status).toBe(422);
    expect(notDividing.body.message).toContain('count must divide partitions');
  });

  test('a QueueCluster and a StorageShard yield exactly the expected objects, each owned by its resource', async () => {
    firstOperator = await startOperator('operator-a');
    expect(
      (
        await create(resources.queueCluster, {
          apiVersion: 'metricstream.io/v1alpha1',
          kind: 'QueueCluster',
          metadata: { name: 'events' },
          spec: { replicas: 3 },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await create(resources.storageShard, {
          apiVersion: 'metricstream.io/v1alpha1',
          kind: 'StorageShard',
          metadata: { name: 'shard-0' },
          spec: { index: 0, count: 1, queueCluster: 'events' },
        })
      ).status,
    ).toBe(201);
    const cluster = await waitFor(
      async () => {
        const current = await get(resources.queueCluster, 'events');
        return current.status?.memberCount === 3 ? current : undefined;
      },
      20_000,
      'QueueCluster status with the members',
    );

    const owned = async (resource: Resource) => {
      const { items } = await env.client.list(
        resource,
        namespace,
        'app.kubernetes.io/managed-by=metricstream-operator',
      );
      return items.filter((item) => item.metadata.ownerReferences?.some((owner) => owner.uid === cluster.metadata.uid));
    };
    const names = async (resource: Resource) => (await owned(resource)).map((item) => item.metadata.name).sort();
    expect(await names(resources.statefulSet)).toEqual(['events']);
    expect(await names(resources.service)).toEqual(['events', 'events-peers']);
    expect(await names(resources.configMap)).toEqual(['events-config']);
    expect(await names(resources.podDisruptionBudget)).toEqual(['events']);
    for (const resource of [
      resources.statefulSet,
      resources.service,
      resources.configMap,
      resources.podDisruptionBudget,
    ])
      for (const item of await owned(resource))
        expect(item.metadata.ownerReferences).toEqual([
          {
            apiVersion: 'metricstream.io/v1alpha1',
            kind: 'QueueCluster',
            name: 'events',
            uid: cluster.metadata.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ]);
    const statefulSet = await get<{ spec: any }>(resources.statefulSet, 'events');
    expect(statefulSet.spec.replicas).toBe(3);
    expect(statefulSet.spec.serviceName).toBe('events-peers');
    expect(statefulSet.spec.template.metadata.annotations['metricstream.io/config-hash']).toMatch(/^[0-9a-f]{16}$/);
    expect((await get<{ spec: any }>(resources.podDisruptionBudget, 'events')).spec.maxUnavailable).toBe(1);
    expect(cluster.status.members).toEqual(['events-0', 'events-1', 'events-2']);
    expect(cluster.status.partitionLeaders).toEqual({ 'events-0': 4, 'events-1': 4, 'events-2': 4 });
    expect(condition(cluster, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'PeersNotReady',
      observedGeneration: 1,
    });
    expect(queue.calls).toEqual([]);

    const shard = await waitFor(() => tryGet(resources.statefulSet, 'shard-0'), 10_000, 'shard StatefulSet');
    expect(shard.metadata.ownerReferences?.[0]).toMatchObject({
      kind: 'StorageShard',
      name: 'shard-0',
      controller: true,
    });
    expect(await tryGet(resources.service, 'shard-0')).toBeDefined();
    const shardsFile = async () =>
      JSON.parse(
        (await get<{ data: Record<string, string> }>(resources.configMap, 'metricstream-query-shards')).data[
          'shards.json'
        ],
      );
    expect(
      await waitFor(() => tryGet(resources.configMap, 'metricstream-query-shards'), 10_000, 'shards ConfigMap'),
    ).toBeDefined();
    expect(await shardsFile()).toEqual({ shards: [] });
    await mergePatch(resources.statefulSet, 'shard-0', { status: { replicas: 1, readyReplicas: 1 } }, 'status');
    await waitFor(
      async () => (await shardsFile()).shards.length === 1 || undefined,
      10_000,
      'the ready shard to be listed',
    );
    expect(await shardsFile()).toEqual({ shards: ['http://shard-0.default.svc:8082'] });
    expect(condition(await get(resources.storageShard, 'shard-0'), 'Ready')).toMatchObject({ status: 'True' });
  });

  test('a spec change rolls the peers one at a time and keeps fields another manager owns', async () => {
    await env.request(
      'PATCH',
      `${resourcePath(resources.statefulSet, namespace, 'events')}?fieldManager=someone-else`,
      {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 'events', annotations: { 'example.com/owner': 'team-a' } },
      },
      'application/apply-patch+yaml',
    );
    const before = await get<{ spec: any }>(resources.statefulSet, 'events');
    const hashBefore = before.spec.template.metadata.annotations['metricstream.io/config-hash'];
    await mergePatch(resources.queueCluster, 'events', { spec: { fsyncPolicy: 'always' } });
    const changed = await waitFor(
      async () => {
        const current = await get<{ spec: any }>(resources.statefulSet, 'events');
        return current.spec.template.metadata.annotations['metricstream.io/config-hash'] !== hashBefore
          ? current
          : undefined;
      },
      10_000,
      'the new config hash',
    );
    // The new template arrives frozen: no peer may restart until the operator picks it.
    expect(changed.spec.updateStrategy.rollingUpdate.partition).toBe(3);
    expect(changed.metadata.annotations?.['example.com/owner']).toBe('team-a');
    const managers = (changed.metadata as any).managedFields.map((entry: { manager: string }) => entry.manager);
    expect(managers).toEqual(expect.arrayContaining(['metricstream-operator', 'someone-else']));
    expect((await get<{ data: any }>(resources.configMap, 'events-config')).data.QUEUE_FSYNC).toBe('always');

    // Stand in for the StatefulSet controller: every pod restarted and ready.
    await mergePatch(
      resources.statefulSet,
      'events',
      { status: { replicas: 3, readyReplicas: 3, updatedReplicas: 3 } },
      'status',
    );
    await waitFor(
      async () => {
        const current = await get<{ spec: any }>(resources.statefulSet, 'events');
        return current.spec.updateStrategy.rollingUpdate.partition === 0 || undefined;
      },
      20_000,
      'the rolling restart to finish',
    );
    // Leadership left each peer before it was restarted, highest ordinal first.
    expect(queue.calls.map((call) => `${call.method} ${call.path} ${call.body?.from ?? ''}`.trim())).toEqual([
      'POST /v1/cluster/transfer-leadership events-2',
      'POST /v1/cluster/transfer-leadership events-1',
      'POST /v1/cluster/transfer-leadership events-0',
    ]);

    // The operator may finish the roll with one last write; after that nothing may write again (no fighting).
    let settled = await get(resources.statefulSet, 'events');
    await waitFor(
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const current = await get(resources.statefulSet, 'events');
        const isQuiet = current.metadata.resourceVersion === settled.metadata.resourceVersion;
        settled = current;
        return isQuiet || undefined;
      },
      15_000,
      'the StatefulSet to settle',
    );
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect((await get(resources.statefulSet, 'events')).metadata.resourceVersion).toBe(
      settled.metadata.resourceVersion,
    );
    expect((await get(resources.statefulSet, 'events')).metadata.annotations?.['example.com/owner']).toBe('team-a');
  });

  test('scaling 3 to 5 grows the StatefulSet and then adds each new peer as a Raft member', async () => {
    queue.calls.length = 0;
    expect((await mergePatch(resources.queueCluster, 'events', { spec: { replicas: 5 } }, 'scale')).status).toBe(200);
    await waitFor(
      async () => (await get<{ spec: any }>(resources.statefulSet, 'events')).spec.replicas === 5 || undefined,
      10_000,
      'replicas 5',
    );
    expect(queue.calls).toEqual([]);
    await mergePatch(
      resources.statefulSet,
      'events',
      { status: { replicas: 5, readyReplicas: 5, updatedReplicas: 5 } },
      'status',
    );
    await waitFor(() => queue.state.members.length === 5 || undefined, 15_000, 'five members');
    expect(queue.calls).toEqual([
      {
        method: 'POST',
        path: '/v1/cluster/members',
        body: { id: 'events-3', url: 'http://events-3.events-peers.default.svc:8081' },
      },
      {
        method: 'POST',
        path: '/v1/cluster/members',
        body: { id: 'events-4', url: 'http://events-4.events-peers.default.svc:8081' },
      },
    ]);
    await waitFor(
      async () => (await get(resources.queueCluster, 'events')).status?.memberCount === 5 || undefined,
      10_000,
      'status members',
    );
  });

  test('scaling 5 to 3 moves leadership, removes the members, and only then shrinks the StatefulSet', async () => {
    queue.state.leaders = queue.state.leaders.map((_, index) => `events-${index % 5}`);
    queue.calls.length = 0;
    await mergePatch(resources.queueCluster, 'events', { spec: { replicas: 3 } });
    await waitFor(
      async () => (await get<{ spec: any }>(resources.statefulSet, 'events')).spec.replicas === 3 || undefined,
      20_000,
      'replicas 3',
    );
    expect(queue.state.members).toEqual(['events-0', 'events-1', 'events-2']);
    // Leadership is moved off as soon as the plan sees it, and once more right before the removal.
    expect(queue.calls.map((call) => `${call.method} ${call.path} ${call.body?.from ?? ''}`.trim())).toEqual([
      'POST /v1/cluster/transfer-leadership events-4',
      'POST /v1/cluster/transfer-leadership events-4',
      'DELETE /v1/cluster/members/events-4',
      'POST /v1/cluster/transfer-leadership events-3',
      'POST /v1/cluster/transfer-leadership events-3',
      'DELETE /v1/cluster/members/events-3',
    ]);
    expect((await events('MemberRemoved')).map((event) => event.message)).toEqual(
      expect.arrayContaining(['removed events-4 from the Raft groups', 'removed events-3 from the Raft groups']),
    );
  });

  test('a scale-down that would lose quorum is refused with a condition and an Event, and the rest still reconciles', async () => {
    await mergePatch(
      resources.statefulSet,
      'events',
      { status: { replicas: 3, readyReplicas: 3, updatedReplicas: 3 } },
      'status',
    );
    queue.state.unreachable = new Set(['events-0', 'events-1']);
    queue.calls.length = 0;
    await mergePatch(resources.queueCluster, 'events', { spec: { replicas: 1 } });
    const refused = await waitFor(
      async () => {
        const current = await get(resources.queueCluster, 'events');
        return condition(current, 'Progressing')?.reason === 'QuorumAtRisk' ? current : undefined;
      },
      15_000,
      'the refusal condition',
    );
    expect(condition(refused, 'Progressing')).toMatchObject({
      status: 'False',
      observedGeneration: refused.metadata.generation,
    });
    expect(condition(refused, 'Progressing').message).toContain('0 of 2 remaining members are reachable');
    expect(condition(refused, 'Degraded')).toMatchObject({ status: 'True', reason: 'QuorumAtRisk' });
    expect((await events('ScaleDownRefused')).length).toBe(1);

    await mergePatch(resources.queueCluster, 'events', { spec: { retention: { duration: '3d' } } });
    await waitFor(
      async () =>
        (await get<{ data: any }>(resources.configMap, 'events-config')).data.QUEUE_RETENTION === '3d' || undefined,
      10_000,
      'the retention change to reach the ConfigMap',
    );
    expect((await get<{ spec: any }>(resources.statefulSet, 'events')).spec.replicas).toBe(3);
    expect(queue.calls.filter((call) => call.method === 'DELETE')).toEqual([]);
    expect((await events('ScaleDownRefused')).length).toBe(1);

    queue.state.unreachable = new Set();
    await mergePatch(resources.queueCluster, 'events', { spec: { replicas: 3 } });
    await waitFor(
      async () =>
        condition(await get(resources.queueCluster, 'events'), 'Progressing')?.reason !== 'QuorumAtRisk' || undefined,
      10_000,
      'the refusal to clear',
    );
  });

  test('a larger storage size expands the claims; a shrink, a class change or a fixed class is refused while the rest reconciles', async () => {
    const storageClass = (name: string, allowVolumeExpansion: boolean) =>
      env.request('POST', '/apis/storage.k8s.io/v1/storageclasses', {
        apiVersion: 'storage.k8s.io/v1',
        kind: 'StorageClass',
        metadata: { name },
        provisioner: 'example.com/csi',
        allowVolumeExpansion,
      });
    expect((await storageClass('expandable', true)).status).toBe(201);
    expect((await storageClass('fixed', false)).status).toBe(201);
    const storage = { size: '1Gi', storageClassName: 'expandable' };
    await create(resources.queueCluster, {
      apiVersion: 'metricstream.io/v1alpha1',
      kind: 'QueueCluster',
      metadata: { name: 'sized' },
      spec: { replicas: 1, storage },
    });
    await create(resources.storageShard, {
      apiVersion: 'metricstream.io/v1alpha1',
      kind: 'StorageShard',
      metadata: { name: 'sized-shard' },
      spec: { index: 0, count: 1, queueCluster: 'events', storage },
    });
    const owners = [
      { resource: resources.queueCluster, name: 'sized', claim: 'data-sized-0' },
      { resource: resources.storageShard, name: 'sized-shard', claim: 'data-sized-shard-0' },
    ];
    const claimPath = (name: string) => resourcePath(resources.persistentVolumeClaim, namespace, name);
    // Stand in for the StatefulSet controller and the volume provisioner: one bound claim per pod, from the template.
    for (const owner of owners) {
      const statefulSet = await waitFor(
        () => tryGet(resources.statefulSet, owner.name),
        10_000,
        `StatefulSet ${owner.name}`,
      );
      const [template] = (statefulSet.spec as any).volumeClaimTemplates;
      expect(template.spec.resources.requests.storage).toBe('1Gi');
      const created = await create(resources.persistentVolumeClaim, {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: owner.claim, labels: template.metadata.labels },
        spec: template.spec,
      });
      expect(created.status).toBe(201);
      await mergePatch(
        resources.persistentVolumeClaim,
        owner.claim,
        { status: { phase: 'Bound', capacity: { storage: '1Gi' } } },
        'status',
      );
    }
    const claimRequest = async (name: string) =>
      (await env.request('GET', claimPath(name))).body.spec.resources.requests.storage;
    const storageCondition = async (owner: (typeof owners)[number]) =>
      condition(await get(owner.resource, owner.name), 'StorageSynced');
    const waitForStorage = (reason: string) =>
      Promise.all(
        owners.map((owner) =>
          waitFor(
            async () => ((await storageCondition(owner))?.reason === reason ? storageCondition(owner) : undefined),
            10_000,
            `${owner.name} StorageSynced ${reason}`,
          ),
        ),
      );
    const eventsFor = async (reason: string, name: string) =>
      (await events(reason)).filter((event) => event.involvedObject.name === name).map((event) => event.message);
    await waitForStorage('Synced');
    const errorsBefore = reconcileErrors(await firstOperator.metrics());

    const patchAll = (spec: object) =>
      Promise.all(owners.map((owner) => mergePatch(owner.resource, owner.name, { spec })));
    await patchAll({ storage: { size: '2Gi' } });
    await Promise.all(
      owners.map((owner) =>
        waitFor(async () => (await claimRequest(owner.claim)) === '2Gi' || undefined, 10_000, `${owner.claim} 2Gi`),
      ),
    );
    for (const owner of owners) {
      const expanded = await waitFor(
        async () => {
          const messages = await eventsFor('StorageExpanded', owner.name);
          return messages.length > 0 ? messages : undefined;
        },
        5_000,
        `${owner.name} StorageExpanded`,
      );
      expect(expanded).toEqual([`expanded ${owner.claim} from 1Gi to 2Gi`]);
      // The claim template cannot change: the StatefulSet keeps the size it was created with.
      const statefulSet = await get<{ spec: any }>(resources.statefulSet, owner.name);
      expect(statefulSet.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('1Gi');
    }
    const resizing = await waitForStorage('Resizing');
    expect(resizing[0].message).toBe('waiting for the storage provider to resize data-sized-0 to 2Gi');
    for (const owner of owners)
      await mergePatch(
        resources.persistentVolumeClaim,
        owner.claim,
        { status: { capacity: { storage: '2Gi' } } },
        'status',
      );
    await waitForStorage('Synced');

    await patchAll({ storage: { size: '1Gi' } });
    const shrinks = await waitForStorage('StorageShrinkRefused');
    expect(shrinks[0]).toMatchObject({
      status: 'False',
      message: 'storage size 1Gi refused: the volumes already hold 2Gi and a volume cannot shrink',
    });
    await patchAll({ image: 'metricstream:0.2.0' });
    for (const owner of owners) {
      await waitFor(
        async () =>
          (await get<{ spec: any }>(resources.statefulSet, owner.name)).spec.template.spec.containers[0].image ===
            'metricstream:0.2.0' || undefined,
        10_000,
        `${owner.name} image`,
      );
      expect(await claimRequest(owner.claim)).toBe('2Gi');
      expect(await eventsFor('StorageShrinkRefused', owner.name)).toHaveLength(1);
    }

    await patchAll({ storage: { size: '2Gi', storageClassName: 'fixed' } });
    const moves = await waitForStorage('StorageClassChangeRefused');
    expect(moves[1].message).toContain('refused: the volumes stay in "expandable"');

    // A class that stops allowing expansion: the API server's admission refuses the patch, and so does the operator.
    expect(
      (
        await env.request(
          'PATCH',
          '/apis/storage.k8s.io/v1/storageclasses/expandable',
          { allowVolumeExpansion: false },
          'application/merge-patch+json',
        )
      ).status,
    ).toBe(200);
    await patchAll({ storage: { size: '3Gi', storageClassName: 'expandable' } });
    const unsupported = await waitForStorage('StorageExpansionUnsupported');
    expect(unsupported[0].message).toContain('expanding data-sized-0 to 3Gi was refused by the API server');
    for (const owner of owners) {
      expect(await claimRequest(owner.claim)).toBe('2Gi');
      expect(await eventsFor('StorageClassChangeRefused', owner.name)).toHaveLength(1);
      expect(await eventsFor('StorageExpansionUnsupported', owner.name)).toHaveLength(1);
    }
    expect(reconcileErrors(await firstOperator.metrics())).toBe(errorsBefore);
  });

  test('scaling 3 to 5 and back to 3 drives membership on real queue peers; every acknowledged message stays', async () => {
    const realNamespace = 'queue-real';
    await env.request('POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: realNamespace },
    });
    const ids = [0, 1, 2, 3, 4].map((ordinal) => `real-${ordinal}`);
    const ports = await Promise.all(ids.map(() => freePort()));
    const urlOf = (ordinal: number) => `http://127.0.0.1:${ports[ordinal]}`;
    const peerList = (count: number) =>
      ids
        .slice(0, count)
        .map((id, ordinal) => `${id}=${urlOf(ordinal)}`)
        .join(',');
    const dataRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'operator-queue-'));
    const peers: (ManagedProcess | undefined)[] = [];
    // As services/queue/API.md ("How a peer boots") has it, with the default --bootstrap auto: the first three create
    // the cluster from the same --peers; a new peer starts with --peers listing all five (the StatefulSet's
    // ConfigMap), is Ready as a non-member, and waits for the operator to add it.
    const startPeer = async (ordinal: number, peersFlag: string) => {
      peers[ordinal] = await startService('queue', ports[ordinal], [
        '--node-id',
        ids[ordinal],
        '--peers',
        peersFlag,
        '--data-dir',
        path.join(dataRoot, ids[ordinal]),
        // Elections after 0.5-1 s of silence: quick, yet rare on a loaded 2-core machine.
        '--tick-ms',
        '50',
        '--election-ticks',
        '10',
        '--heartbeat-ticks',
        '2',
      ]);
    };
    const clusterView = async (ordinal = 0) => {
      const response = await fetch(`${urlOf(ordinal)}/cluster`);
      if (!response.ok) throw new Error(`GET /cluster on ${ids[ordinal]}: ${response.status} ${await response.text()}`);
      return (await response.json()) as ClusterView;
    };
    const describeCalls = (calls: typeof admin.calls) =>
      calls
        .map((call) =>
          call.method === 'DELETE'
            ? `remove ${call.path.split('/').pop()} ${call.status}`
            : call.path === '/v1/cluster/members'
              ? `add ${call.body.id} ${call.status}`
              : `move ${call.body.from} ${call.status} ${call.status === 200 ? JSON.parse(call.answer).remaining : ''}`,
        )
        .join(', ');
    const memberCounts = (view: ClusterView) => [...new Set(view.partitions.map((item) => item.members.length))];
    const isReady = async (ordinal: number) => (await fetch(`${urlOf(ordinal)}/readyz`).catch(() => undefined))?.ok;
    const admin = await startAdminRecorder(urlOf(0));

    const acknowledged = new Set<string>();
    const produce = async (keys: string[], ordinal = 0) => {
      const response = await fetch(`${urlOf(ordinal)}/v1/produce`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ records: keys.map((key) => ({ key, value: { key } })) }),
      }).catch(() => undefined);
      if (response?.ok) for (const key of keys) acknowledged.add(key);
      return response?.status;
    };
    // A 503 (a leader change) leaves the outcome unknown: the batch is sent again (at least once).
    const produceUntilAcknowledged = (keys: string[]) =>
      waitFor(async () => (await produce(keys)) === 200 || undefined, 15_000, 'the batch to be acknowledged');
    // A producer that runs through both scalings, spreading its batches over the three lasting peers.
    let isProducing = false;
    let producer = Promise.resolve();
    const startProducing = () => {
      isProducing = true;
      producer = (async () => {
        for (let batch = 0; isProducing; batch++) {
          await produce(
            Array.from({ length: 10 }, (_, index) => `during-${batch}-${index}`),
            batch % 3,
          );
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
      })();
    };
    const statefulSetPath = resourcePath(resources.statefulSet, realNamespace, 'real');
    const clusterPath = resourcePath(resources.queueCluster, realNamespace, 'real');
    const readStatefulSet = async () => (await env.request('GET', statefulSetPath)).body;
    const readCluster = async () => (await env.request('GET', clusterPath)).body;
    // Stand in for the kubelet: the StatefulSet's readiness is what the real peers' /readyz answer.
    const reportReadiness = async (replicas: number) => {
      let ready = 0;
      while (ready < replicas && (await isReady(ready))) ready++;
      await env.request(
        'PATCH',
        `${statefulSetPath}/status`,
        { status: { replicas, readyReplicas: ready, updatedReplicas: replicas } },
        'application/merge-patch+json',
      );
      return ready;
    };
    const dump = async () =>
      `admin calls: ${JSON.stringify(admin.calls)}\ncluster: ${JSON.stringify(await clusterView().catch(String))}\n` +
      `status: ${JSON.stringify((await readCluster()).status)}\n` +
      peers.map((peer) => `--- ${peer?.name}\n${peer?.output.join('').slice(-2000)}`).join('\n');

    let operator: Awaited<ReturnType<typeof startOperator>> | undefined;
    try {
      await Promise.all([0, 1, 2].map((ordinal) => startPeer(ordinal, peerList(3))));
      await waitFor(
        async () => (await Promise.all([0, 1, 2].map(isReady))).every(Boolean) || undefined,
        20_000,
        'three peers ready',
      );
      await produceUntilAcknowledged(Array.from({ length: 200 }, (_, index) => `before-${index}`));

      operator = await startOperator('operator-real-queue', [
        '--namespace',
        realNamespace,
        '--lease-name',
        'operator-real-queue',
        '--queue-admin-url',
        admin.url,
        '--queue-peer-urls',
        ids.map((id, ordinal) => `${id}=${urlOf(ordinal)}`).join(','),
      ]);
      expect(
        (
          await env.request('POST', resourcePath(resources.queueCluster, realNamespace), {
            apiVersion: 'metricstream.io/v1alpha1',
            kind: 'QueueCluster',
            metadata: { name: 'real' },
            spec: { replicas: 3 },
          })
        ).status,
      ).toBe(201);
      await waitFor(async () => (await readStatefulSet()).spec?.replicas === 3 || undefined, 10_000, 'StatefulSet');
      await waitFor(async () => (await reportReadiness(3)) === 3 || undefined, 20_000, 'three peers ready');
      await waitFor(
        async () => condition(await readCluster(), 'Ready')?.status === 'True' || undefined,
        15_000,
        'QueueCluster Ready with three real members',
      );
      expect(admin.calls).toEqual([]);

      // 3 -> 5: the operator grows the StatefulSet; the "StatefulSet controller" starts the two new peers.
      startProducing();
      await env.request('PATCH', `${clusterPath}/scale`, { spec: { replicas: 5 } }, 'application/merge-patch+json');
      await waitFor(async () => (await readStatefulSet()).spec.replicas === 5 || undefined, 10_000, 'StatefulSet 5');
      expect(admin.calls).toEqual([]);
      await Promise.all([3, 4].map((ordinal) => startPeer(ordinal, peerList(5))));
      await waitFor(
        async () => ((await reportReadiness(5)) === 5 ? true : undefined),
        20_000,
        'the new peers to answer /readyz',
      ).catch(async (error: Error) => {
        throw new Error(`${error.message}\n${await dump()}`);
      });
      await waitFor(
        async () => {
          // The recorder keeps a call once its answer is back, which may be just after the change is visible.
          const counts = memberCounts(await clusterView());
          const added = admin.calls.filter((call) => call.body?.id === 'real-4' && call.status === 200);
          return counts.length === 1 && counts[0] === 5 && added.length > 0 ? true : undefined;
        },
        60_000,
        'five members in every partition',
      ).catch(async (error: Error) => {
        throw new Error(`${error.message}\n${await dump()}`);
      });
      // Lowest first, each announced at its loopback URL; a call the queue answers with an error is retried.
      for (const call of admin.calls) {
        expect(`${call.method} ${call.path}`).toBe('POST /v1/cluster/members');
        expect(call.body.url).toBe(urlOf(ids.indexOf(call.body.id)));
      }
      expect(describeCalls(admin.calls)).toMatch(
        /^(add real-3 \d+, )*add real-3 200, (add real-4 \d+, )*add real-4 200$/,
      );
      // Followers learn the committed change with the next heartbeat.
      for (const ordinal of [1, 2, 3, 4])
        await waitFor(
          async () => String(memberCounts(await clusterView(ordinal))) === '5' || undefined,
          10_000,
          `${ids[ordinal]} to see five members everywhere`,
        );
      await waitFor(async () => (await readCluster()).status?.memberCount === 5 || undefined, 10_000, 'status 5');

      // 5 -> 3: leadership off, removal, and the StatefulSet shrinks only once the members are gone.
      admin.calls.length = 0;
      await env.request('PATCH', clusterPath, { spec: { replicas: 3 } }, 'application/merge-patch+json');
      const membersAtShrink = await waitFor(
        async () => {
          const [statefulSet, view] = await Promise.all([readStatefulSet(), clusterView()]);
          return statefulSet.spec.replicas === 3 ? view : undefined;
        },
        60_000,
        'the StatefulSet to shrink to 3',
      ).catch(async (error: Error) => {
        throw new Error(`${error.message}\n${await dump()}`);
      });
      expect(memberCounts(membersAtShrink)).toEqual([3]);
      expect(membersOf(membersAtShrink)).toEqual(['real-0', 'real-1', 'real-2']);
      // Highest first; every removal is sent right after the leaving peer answered that it leads no partition any
      // more (a call the queue answers with an error is retried).
      expect(describeCalls(admin.calls)).toMatch(
        /^(move real-4 \d+ \d*, |remove real-4 (?!200)\d+, )*move real-4 200 0, remove real-4 200, (move real-3 \d+ \d*, |remove real-3 (?!200)\d+, )*move real-3 200 0, remove real-3 200$/,
      );
      for (const ordinal of [3, 4]) {
        await peers[ordinal]?.stop();
        peers[ordinal] = undefined;
      }
      await reportReadiness(3);
      await waitFor(async () => (await readCluster()).status?.memberCount === 3 || undefined, 10_000, 'status 3');

      isProducing = false;
      await producer;
      await produceUntilAcknowledged(Array.from({ length: 50 }, (_, index) => `after-${index}`));
      const consumed = new Set<string>();
      for (const partition of (await clusterView()).partitions.filter((item) => item.topic === 'metrics.inbound'))
        for (let offset = 0; ;) {
          const response = await fetch(
            `${urlOf(0)}/consume?partition=${partition.partition}&offset=${offset}&count=10000`,
          );
          expect(response.status).toBe(200);
          const page = (await response.json()) as { messages: { key: string }[]; next_offset: number };
          if (page.messages.length === 0) break;
          for (const message of page.messages) consumed.add(message.key);
          offset = page.next_offset;
        }
      const missing = [...acknowledged].filter((key) => !consumed.has(key));
      expect(missing).toEqual([]);
      expect([...acknowledged].filter((key) => key.startsWith('during-')).length).toBeGreaterThan(0);
    } finally {
      isProducing = false;
      await producer;
      if (operator) {
        await operator.process.stop();
        operators.splice(operators.indexOf(operator.process), 1);
      }
      for (const peer of peers) await peer?.kill9();
      await admin.close();
      fs.rmSync(dataRoot, { recursive: true, force: true });
    }
  }, 170_000);

  test('an AlertRule is synced, reports the alert state, shows the validation error, and is removed through its finalizer', async () => {
    const rule = (query: string) => ({
      apiVersion: 'metricstream.io/v1alpha1',
      kind: 'AlertRule',
      metadata: { name: 'high-cpu' },
      spec: { query, duration: '5m', severity: 'critical', channels: ['slack'] },
    });
    expect((await create(resources.alertRule, rule('avg(cpu_usage) > 80'))).status).toBe(201);
    const synced = await waitFor(
      async () => {
        const current = await get(resources.alertRule, 'high-cpu');
        return condition(current, 'Synced')?.status === 'True' ? current : undefined;
      },
      15_000,
      'Synced=True',
    );
    expect(synced.metadata.finalizers).toEqual(['metricstream.io/alerting-rule']);
    expect(synced.status).toMatchObject({ ruleName: 'default-high-cpu', state: 'inactive' });
    expect(alerting.rules.get('default-high-cpu')).toMatchObject({
      name: 'default-high-cpu',
      query: 'avg(cpu_usage) > 80',
      duration: '5m',
      channels: ['slack'],
      severity: 'critical',
    });

    alerting.alerts.push({ rule: 'default-high-cpu', state: 'firing', value: 91.5 });
    await waitFor(
      async () => {
        const current = await get(resources.alertRule, 'high-cpu');
        return current.status?.state === 'firing' && current.status?.value === 91.5 ? current : undefined;
      },
      10_000,
      'state firing from /alerts',
    );
    alerting.alerts.length = 0;

    await mergePatch(resources.alertRule, 'high-cpu', { spec: { query: 'avg((cpu_usage) > 80' } });
    const invalid = await waitFor(
      async () => {
        const current = await get(resources.alertRule, 'high-cpu');
        return condition(current, 'Synced')?.status === 'False' ? current : undefined;
      },
      10_000,
      'Synced=False',
    );
    expect(condition(invalid, 'Synced')).toMatchObject({
      reason: 'InvalidRule',
      message: 'parse_error: unexpected "(" (at position 3)',
      observedGeneration: invalid.metadata.generation,
    });

    await mergePatch(resources.alertRule, 'high-cpu', { spec: { query: 'avg(cpu_usage) > 90' } });
    await waitFor(
      async () => alerting.rules.get('default-high-cpu')?.query === 'avg(cpu_usage) > 90' || undefined,
      10_000,
      'update',
    );
    await env.request('DELETE', resourcePath(resources.alertRule, namespace, 'high-cpu'));
    await waitFor(
      async () => (await tryGet(resources.alertRule, 'high-cpu')) === undefined || undefined,
      10_000,
      'deletion',
    );
    expect(alerting.rules.has('default-high-cpu')).toBe(false);
  });

  test('an AlertRule round trip against the real alerting and query processes', async () => {
    const realNamespace = 'alerts-real';
    await env.request('POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: realNamespace },
    });
    const [queryPort, alertingPort] = [await freePort(), await freePort()];
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'operator-alerting-'));
    const services = [
      await startService('query', queryPort, ['--storage-urls', `http://127.0.0.1:${await freePort()}`]),
      await startService('alerting', alertingPort, [
        '--query-url',
        `http://127.0.0.1:${queryPort}`,
        '--data-dir',
        dataDir,
      ]),
    ];
    const alertingUrl = `http://127.0.0.1:${alertingPort}`;
    const operator = await startOperator('operator-real-alerting', [
      '--namespace',
      realNamespace,
      '--lease-name',
      'operator-real-alerting',
      '--alerting-url',
      alertingUrl,
    ]);
    const rulePath = resourcePath(resources.alertRule, realNamespace, 'high-cpu');
    const read = async () => (await env.request('GET', rulePath)).body;
    const remoteRule = async () => {
      const response = await fetch(`${alertingUrl}/rules/alerts-real-high-cpu`);
      return response.status === 200 ? ((await response.json()) as { query: string; duration: string }) : undefined;
    };
    try {
      const created = await env.request('POST', resourcePath(resources.alertRule, realNamespace), {
        apiVersion: 'metricstream.io/v1alpha1',
        kind: 'AlertRule',
        metadata: { name: 'high-cpu' },
        spec: { query: 'avg(cpu_usage) > 80', duration: '5m', severity: 'critical', labels: { team: 'infra' } },
      });
      expect(created.status).toBe(201);
      await waitFor(async () => condition(await read(), 'Synced')?.status === 'True' || undefined, 15_000, 'synced');
      expect(await remoteRule()).toMatchObject({ query: 'avg(cpu_usage) > 80', duration: '5m' });
      expect((await read()).status).toMatchObject({ state: 'inactive', ruleName: 'alerts-real-high-cpu' });

      await env.request('PATCH', rulePath, { spec: { query: 'avg((cpu_usage) > 80' } }, 'application/merge-patch+json');
      const invalid = await waitFor(
        async () => {
          const current = await read();
          return condition(current, 'Synced')?.status === 'False' ? current : undefined;
        },
        15_000,
        'Synced=False from the real alerting service',
      );
      expect(condition(invalid, 'Synced').reason).toBe('InvalidRule');
      expect(condition(invalid, 'Synced').message).toMatch(/^parse_error: .+ \(at position \d+\)$/);

      await env.request('PATCH', rulePath, { spec: { query: 'avg(cpu_usage) > 95' } }, 'application/merge-patch+json');
      await waitFor(
        async () => (await remoteRule())?.query === 'avg(cpu_usage) > 95' || undefined,
        15_000,
        'the update',
      );
      await env.request('DELETE', rulePath);
      await waitFor(async () => (await env.request('GET', rulePath)).status === 404 || undefined, 15_000, 'deletion');
      expect(await remoteRule()).toBeUndefined();
    } finally {
      await operator.process.stop();
      operators.splice(operators.indexOf(operator.process), 1);
      for (const service of services) await service.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('a restarted operator changes no object', async () => {
    await create(resources.alertRule, {
      apiVersion: 'metricstream.io/v1alpha1',
      kind: 'AlertRule',
      metadata: { name: 'error-rate' },
      spec: { query: 'sum(http_errors) > 5' },
    });
    await waitFor(
      async () => condition(await get(resources.alertRule, 'error-rate'), 'Synced')?.status === 'True' || undefined,
      10_000,
      'synced',
    );
    const snapshot = async () => {
      const versions: Record<string, string> = {};
      for (const resource of [
        resources.queueCluster,
        resources.storageShard,
        resources.alertRule,
        resources.statefulSet,
        resources.service,
        resources.configMap,
        resources.podDisruptionBudget,
      ]) {
        const { items } = await env.client.list(resource, namespace);
        for (const item of items) versions[`${resource.kind}/${item.metadata.name}`] = item.metadata.resourceVersion!;
      }
      return versions;
    };
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const before = await snapshot();
    await operators[0].stop();
    const restarted = await startOperator('operator-a-restarted');
    await waitFor(
      async () => reconcileCount(await restarted.metrics()) >= 6 || undefined,
      20_000,
      'reconciles after restart',
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await snapshot()).toEqual(before);
  });

  test('of two operator processes only the Lease holder acts; the standby takes over when it stops', async () => {
    const leader = operators[operators.length - 1];
    const standby = await startOperator('operator-b');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const lease = await env.client.get<{ spec: any } & KubeObject>(resources.lease, namespace, 'metricstream-operator');
    expect(lease.spec.holderIdentity).toBe('operator-a-restarted');
    await create(resources.alertRule, {
      apiVersion: 'metricstream.io/v1alpha1',
      kind: 'AlertRule',
      metadata: { name: 'latency' },
      spec: { query: 'avg(latency_ms) > 250' },
    });
    await waitFor(
      async () => condition(await get(resources.alertRule, 'latency'), 'Synced')?.status === 'True' || undefined,
      10_000,
      'synced by the leader',
    );
    const standbyMetrics = await standby.metrics();
    expect(reconcileCount(standbyMetrics)).toBe(0);
    expect(standbyMetrics).toMatch(/^metricstream_operator_leader\{[^}]*\} 0$/m);

    await leader.stop();
    await waitFor(
      async () => /^metricstream_operator_leader\{[^}]*\} 1$/m.test(await standby.metrics()) || undefined,
      10_000,
      'takeover',
    );
    expect(
      (await env.client.get<{ spec: any } & KubeObject>(resources.lease, namespace, 'metricstream-operator')).spec
        .holderIdentity,
    ).toBe('operator-b');
    await waitFor(
      async () => reconcileCount(await standby.metrics()) > 0 || undefined,
      10_000,
      'the new leader reconciling',
    );
  });

  test('a deleted AlertRule does not hang when the alerting service is gone: the finalizer is released with an Event', async () => {
    await alerting.close();
    await env.request('DELETE', resourcePath(resources.alertRule, namespace, 'latency'));
    await waitFor(
      async () => (await tryGet(resources.alertRule, 'latency')) === undefined || undefined,
      20_000,
      'release',
    );
    const released = await events('FinalizerReleased');
    expect(released.map((event) => event.involvedObject.name)).toEqual(['latency']);
  });
});
