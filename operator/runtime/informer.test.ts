import { Informer, type InformerEvent } from './informer';
import { resources, type KubeClient, type KubeObject, type WatchEventType } from './kube';
import { ManualScheduler } from './scheduler';

const object = (name: string, resourceVersion: string): KubeObject => ({
  metadata: { name, namespace: 'ns', resourceVersion },
});

/** A scripted API: each list answers the current items; each watch is captured so the test can drive it. */
function fakeApi() {
  let items: KubeObject[] = [];
  let listVersion = '10';
  const watches: {
    query: Record<string, unknown>;
    send(type: WatchEventType, object: KubeObject): void;
    end(error?: unknown): void;
    isAborted: boolean;
  }[] = [];
  let lists = 0;
  const client = {
    async list() {
      lists++;
      return { items: items.map((item) => structuredClone(item)), resourceVersion: listVersion };
    },
    async watch(
      _resource: unknown,
      _namespace: unknown,
      query: Record<string, unknown>,
      onEvent: (type: WatchEventType, object: KubeObject) => void,
      onDone: (error?: unknown) => void,
    ) {
      const watch = { query, send: onEvent, end: onDone, isAborted: false };
      watches.push(watch);
      return { abort: () => (watch.isAborted = true) };
    },
  } as unknown as KubeClient;
  return {
    client,
    watches,
    lists: () => lists,
    setItems(next: KubeObject[], version: string) {
      items = next;
      listVersion = version;
    },
  };
}

const flush = async () => {
  for (let round = 0; round < 5; round++) await new Promise((resolve) => setImmediate(resolve));
};

function start(api: ReturnType<typeof fakeApi>, scheduler: ManualScheduler) {
  const informer = new Informer(api.client, {
    resource: resources.queueCluster,
    scheduler,
    relistMs: 60_000,
    silenceMs: 10_000,
    retryMs: 1_000,
  });
  const seen: string[] = [];
  informer.on((event: InformerEvent, changed) => seen.push(`${event} ${changed.metadata.name}`));
  const synced = informer.start();
  return { informer, seen, synced };
}

describe('Informer', () => {
  test('lists, then watches from the list resourceVersion with bookmarks', async () => {
    const api = fakeApi();
    api.setItems([object('a', '5')], '10');
    const { informer, seen, synced } = start(api, new ManualScheduler());
    await synced;
    await flush();
    expect(seen).toEqual(['added a']);
    expect(api.watches[0].query).toMatchObject({ resourceVersion: '10', allowWatchBookmarks: true });
    api.watches[0].send('MODIFIED', object('a', '11'));
    api.watches[0].send('ADDED', object('b', '12'));
    api.watches[0].send('DELETED', object('a', '13'));
    expect(seen).toEqual(['added a', 'updated a', 'added b', 'deleted a']);
    expect(informer.list().map((item) => item.metadata.name)).toEqual(['b']);
    expect(informer.get('ns/b')?.metadata.resourceVersion).toBe('12');
  });

  test('a watch that ends cleanly resumes from the last resourceVersion seen, bookmarks included', async () => {
    const api = fakeApi();
    const { synced } = start(api, new ManualScheduler());
    await synced;
    await flush();
    api.watches[0].send('BOOKMARK', object('', '42'));
    api.watches[0].end();
    await flush();
    expect(api.watches).toHaveLength(2);
    expect(api.watches[1].query.resourceVersion).toBe('42');
    expect(api.lists()).toBe(1);
  });

  test('a silent watch is abandoned by the watchdog and the cache is rebuilt from a fresh list', async () => {
    const api = fakeApi();
    api.setItems([object('a', '5'), object('b', '6')], '10');
    const scheduler = new ManualScheduler();
    const { seen, synced } = start(api, scheduler);
    await synced;
    await flush();
    scheduler.advance(9_000);
    api.watches[0].send('BOOKMARK', object('', '11'));
    scheduler.advance(9_000);
    expect(api.lists()).toBe(1);
    // Meanwhile a deletion and an update happened that the dead watch never delivered.
    api.setItems([object('a', '20')], '21');
    scheduler.advance(10_000);
    await flush();
    expect(api.watches[0].isAborted).toBe(true);
    expect(api.lists()).toBe(2);
    expect(seen).toEqual(['added a', 'added b', 'updated a', 'deleted b']);
    expect(api.watches[1].query.resourceVersion).toBe('21');
  });

  test('410 Gone leads to a relist; other failures retry after a delay', async () => {
    const api = fakeApi();
    const scheduler = new ManualScheduler();
    const { synced } = start(api, scheduler);
    await synced;
    await flush();
    api.watches[0].send('ERROR', { metadata: { name: '' }, code: 410 } as unknown as KubeObject);
    await flush();
    expect(api.lists()).toBe(2);
    api.watches[1].end(Object.assign(new Error('reset'), { statusCode: 500 }));
    await flush();
    expect(api.lists()).toBe(2);
    scheduler.advance(1_000);
    await flush();
    expect(api.lists()).toBe(3);
  });

  test('the periodic relist re-delivers unchanged objects as resyncs', async () => {
    const api = fakeApi();
    api.setItems([object('a', '5')], '10');
    const scheduler = new ManualScheduler();
    const { seen, synced } = start(api, scheduler);
    await synced;
    await flush();
    for (let elapsed = 0; elapsed < 60_000; elapsed += 5_000) {
      scheduler.advance(5_000);
      api.watches[api.watches.length - 1].send('BOOKMARK', object('', '10'));
    }
    await flush();
    expect(seen).toEqual(['added a', 'resynced a']);
  });
});
