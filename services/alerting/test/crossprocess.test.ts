import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, startRedis, startService, waitFor, type ManagedProcess } from '../../kit/testing/processes';
import { startQueryEngineDouble, type QueryEngineDouble } from '../testing/query-engine-double';
import { startHttpReceiver, type HttpReceiver } from '../testing/receivers';

/**
 * The compiled service as its own process (run `npx tsc -p tsconfig.json` first): kill -9 while an alert fires and
 * restart; two replicas sharing Redis, where only the leader notifies and a follower takes over from the persisted
 * state.
 */
jest.setTimeout(60_000);

let engine: QueryEngineDouble;
let receiver: HttpReceiver;
let dataDir: string;
const processes: ManagedProcess[] = [];

beforeEach(async () => {
  engine = await startQueryEngineDouble();
  receiver = await startHttpReceiver();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'alerting-x-'));
});

afterEach(async () => {
  for (const managed of processes.splice(0)) await managed.kill9();
  await Promise.all([engine.close(), receiver.close()]);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const fastFlags = ['--evaluation-interval', '200ms', '--schedule-resolution', '20ms', '--retry-base', '50ms'];
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const getJson = async (url: string): Promise<any> => (await fetch(url)).json();
const webhooks = () => receiver.received.filter((request) => request.path === '/webhook');
const statuses = () => webhooks().map((request) => (request.body as { status: string }).status);

async function post(base: string, url: string, body: unknown) {
  const response = await fetch(base + url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(201);
}

async function setUp(base: string) {
  await post(base, '/channels', { name: 'hook', type: 'webhook', settings: { url: `${receiver.url}/webhook` } });
  await post(base, '/rules', {
    name: 'cpu',
    query: 'avg(cpu_usage) by (host) > 80',
    duration: '0s',
    channels: ['hook'],
  });
}

test('kill -9 while firing, restart: no duplicate firing notification, then resolved', async () => {
  const port = await freePort();
  const args = ['--query-url', engine.url, '--data-dir', dataDir, ...fastFlags];
  let alerting = await startService('alerting', port, args);
  processes.push(alerting);
  const base = `http://127.0.0.1:${port}`;
  engine.set('cpu_usage', { host: 'a' }, 95);
  await setUp(base);
  await waitFor(() => webhooks().length === 1, 10_000, 'the firing notification');
  await waitFor(async () => {
    const { notifications } = await getJson(`${base}/notifications`);
    return notifications.length === 1;
  });
  await alerting.kill9();
  alerting = await alerting.restart();
  processes.push(alerting);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  expect(statuses()).toEqual(['firing']);
  const { alerts } = await getJson(`${base}/alerts`);
  expect(alerts).toMatchObject([{ rule: 'cpu', state: 'firing', labels: { host: 'a' } }]);
  engine.set('cpu_usage', { host: 'a' }, 10);
  await waitFor(() => webhooks().length === 2, 10_000, 'the resolved notification');
  expect(statuses()).toEqual(['firing', 'resolved']);
});

test('two replicas on Redis: only the leader notifies; the follower takes over after kill -9', async () => {
  const redis = await startRedis();
  processes.push(redis);
  const flags = [...fastFlags, '--query-url', engine.url, '--leader-lease', '1s'];
  const env = { REDIS_URL: redis.url, REDIS_PREFIX: 'test:alerting' };
  const [portA, portB] = [await freePort(), await freePort()];
  const first = await startService('alerting', portA, [...flags, '--replica-id', 'a'], env);
  processes.push(first);
  await waitFor(async () => (await getJson(`http://127.0.0.1:${portA}/readyz`)).reason === 'leader');
  const second = await startService('alerting', portB, [...flags, '--replica-id', 'b'], env);
  processes.push(second);
  expect((await getJson(`http://127.0.0.1:${portB}/readyz`)).reason).toBe('follower');

  // Rules written through the follower reach the leader through Redis.
  engine.set('cpu_usage', { host: 'a' }, 95);
  await setUp(`http://127.0.0.1:${portB}`);
  await waitFor(() => webhooks().length === 1, 10_000, 'the firing notification');
  await waitFor(async () => {
    const { notifications } = await getJson(`http://127.0.0.1:${portB}/notifications`);
    return notifications.length === 1;
  });
  const followerView = await getJson(`http://127.0.0.1:${portB}/alerts`);
  expect(followerView.alerts).toMatchObject([{ rule: 'cpu', state: 'firing' }]);

  await first.kill9();
  await waitFor(async () => (await getJson(`http://127.0.0.1:${portB}/readyz`)).reason === 'leader', 10_000);
  await new Promise((resolve) => setTimeout(resolve, 800));
  expect(statuses()).toEqual(['firing']);
  engine.set('cpu_usage', { host: 'a' }, 10);
  await waitFor(() => webhooks().length === 2, 10_000, 'the resolved notification from the new leader');
  expect(statuses()).toEqual(['firing', 'resolved']);
});
