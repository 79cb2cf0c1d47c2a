import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { startRedis, type ManagedProcess } from '../../kit/testing/processes';
import { FILE_NAME, FileStore } from './file';
import { RedisStore } from './redis';
import type { AlertingStore } from './store';

/** The same contract checked against both stores: durable after `apply`, reloaded by a fresh instance. */
let directory: string;
let redisServer: ManagedProcess & { url: string };
const clients: Redis[] = [];

beforeAll(async () => {
  redisServer = await startRedis();
});

afterAll(async () => {
  for (const client of clients) client.disconnect();
  await redisServer.kill9();
});

beforeEach(() => {
  directory = fs.mkdtempSync(path.join(os.tmpdir(), 'alerting-store-'));
});

afterEach(() => fs.rmSync(directory, { recursive: true, force: true }));

const stores: [string, () => Promise<AlertingStore>][] = [
  ['file', () => FileStore.open(directory)],
  [
    'redis',
    async () => {
      const client = new Redis(redisServer.url);
      clients.push(client);
      return new RedisStore(client, `test-${path.basename(directory)}`);
    },
  ],
];

describe.each(stores)('%s store', (_name, open) => {
  test('applied changes survive a reopen; deletes remove; configuration changes bump the version', async () => {
    const store = await open();
    const version = await store.configurationVersion();
    await store.apply([
      { collection: 'rules', key: 'cpu', value: { name: 'cpu' } },
      { collection: 'alerts', key: 'f1', value: { phase: 'firing' } },
      { collection: 'outbox', key: 'm1', value: { attempts: 0 } },
    ]);
    expect(await store.configurationVersion()).toBeGreaterThan(version);
    const afterRules = await store.configurationVersion();
    await store.apply([
      { collection: 'outbox', key: 'm1' },
      { collection: 'deliveries', key: '1', value: { id: 'm1' } },
    ]);
    expect(await store.configurationVersion()).toBe(afterRules);
    const reopened = await open();
    const data = await reopened.load();
    expect(Object.fromEntries(data.rules)).toEqual({ cpu: { name: 'cpu' } });
    expect(Object.fromEntries(data.alerts)).toEqual({ f1: { phase: 'firing' } });
    expect(data.outbox.size).toBe(0);
    expect(Object.fromEntries(await reopened.loadCollection('deliveries'))).toEqual({ '1': { id: 'm1' } });
  });

  test('concurrent applies all become durable', async () => {
    const store = await open();
    await Promise.all(
      Array.from({ length: 50 }, (_, index) => store.apply([{ collection: 'alerts', key: `k${index}`, value: index }])),
    );
    expect((await (await open()).loadCollection('alerts')).size).toBe(50);
  });
});

test('the file store removes a torn temporary file at start-up and keeps the last complete state', async () => {
  const store = await FileStore.open(directory);
  await store.apply([{ collection: 'rules', key: 'a', value: 1 }]);
  fs.writeFileSync(path.join(directory, `${FILE_NAME}.tmp`), '{"format":1,"colle');
  const reopened = await FileStore.open(directory);
  expect(fs.existsSync(path.join(directory, `${FILE_NAME}.tmp`))).toBe(false);
  expect(Object.fromEntries(await reopened.loadCollection('rules'))).toEqual({ a: 1 });
});
