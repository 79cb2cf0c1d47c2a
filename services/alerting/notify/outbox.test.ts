import { createLogger } from '../../kit/logger';
import { createRegistry } from '../../kit/metrics';
import { seededRandom } from '../../kit/clock';
import { createAlertingMetrics } from '../metrics';
import { emptyData, type AlertingStore, type StoreChange } from '../store/store';
import { validateChannel } from './channel';
import type { Message } from './message';
import { Outbox } from './outbox';
import { DeliveryError } from './senders';

/** The outbox with a virtual clock, an in-memory store and a send function the test completes by hand. */
function setUp(channelBody: Record<string, unknown>) {
  let now = 0;
  const data = emptyData();
  const applied: StoreChange[][] = [];
  const store: AlertingStore = {
    load: async () => data,
    loadCollection: async (collection) => data[collection],
    apply: async (changes) => {
      applied.push([...changes]);
      for (const change of changes)
        if (change.value === undefined) data[change.collection].delete(change.key);
        else data[change.collection].set(change.key, change.value);
    },
    configurationVersion: async () => 0,
    close: async () => undefined,
  };
  const calls: { id: string; finish(error?: Error): void }[] = [];
  const channel = validateChannel({
    name: 'hook',
    type: 'webhook',
    settings: { url: 'http://127.0.0.1:1/x' },
    ...channelBody,
  });
  const logger = createLogger('test', 'error');
  logger.silent = true;
  const outbox = new Outbox({
    store,
    clock: { now: () => now },
    random: seededRandom(3),
    send: (_channel, message) =>
      new Promise<void>((resolve, reject) =>
        calls.push({ id: message.id, finish: (error) => (error ? reject(error) : resolve()) }),
      ),
    channelOf: (name) => (name === 'hook' ? channel : undefined),
    logger,
    metrics: createAlertingMetrics(createRegistry('test').registry, () => ({})),
    retryBaseMs: 1000,
    retryMaxMs: 60_000,
    maxAttempts: 3,
    maxAgeMs: 3_600_000,
    historySize: 100,
    pollMs: 1_000_000,
    onOutcome: () => undefined,
  });
  const message = (index: number): Message => ({
    id: `rule/${index}/hook`,
    rule: 'rule',
    channel: 'hook',
    severity: 'warning',
    createdAt: 0,
    alerts: [],
  });
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return { outbox, calls, data, applied, message, settle, advance: (ms: number) => (now += ms) };
}

afterEach(() => jest.restoreAllMocks());

test('no more than `concurrency` deliveries are in flight to one channel', async () => {
  const { outbox, calls, message, settle } = setUp({ concurrency: 2, rate_per_second: 1000 });
  outbox.start();
  outbox.accept(Array.from({ length: 5 }, (_, index) => message(index)));
  expect(calls.map((call) => call.id)).toEqual(['rule/0/hook', 'rule/1/hook']);
  calls[0].finish();
  await settle();
  expect(calls).toHaveLength(3);
  calls[1].finish();
  calls[2].finish();
  await settle();
  expect(calls).toHaveLength(5);
  calls[3].finish();
  calls[4].finish();
  await outbox.stop();
  expect(outbox.recent().map((record) => record.status)).toEqual(Array(5).fill('delivered'));
  expect(outbox.pending()).toEqual([]);
});

test('the rate limit spaces deliveries out', async () => {
  const { outbox, calls, message, settle, advance } = setUp({ concurrency: 10, rate_per_second: 2 });
  outbox.start();
  outbox.accept(Array.from({ length: 5 }, (_, index) => message(index)));
  expect(calls).toHaveLength(2);
  advance(499);
  outbox.deliverDue();
  expect(calls).toHaveLength(2);
  advance(1);
  outbox.deliverDue();
  expect(calls).toHaveLength(3);
  for (const call of calls) call.finish();
  await settle();
  advance(1000);
  outbox.deliverDue();
  expect(calls).toHaveLength(5);
  for (const call of calls.slice(3)) call.finish();
  await outbox.stop();
});

test('a retryable failure is retried after the backoff, recorded durably, and delivered once', async () => {
  const { outbox, calls, data, message, settle, advance } = setUp({});
  outbox.start();
  outbox.accept([message(0)]);
  calls[0].finish(new DeliveryError('receiver answered 503', true));
  await settle();
  const [entry] = outbox.pending();
  expect(entry).toMatchObject({ attempts: 1, lastError: 'receiver answered 503' });
  expect(entry.nextAttemptAt).toBeGreaterThanOrEqual(500);
  expect(entry.nextAttemptAt).toBeLessThanOrEqual(1000);
  expect(data.outbox.get('rule/0/hook')).toEqual(entry);
  advance(entry.nextAttemptAt - 1);
  outbox.deliverDue();
  expect(calls).toHaveLength(1);
  advance(1);
  outbox.deliverDue();
  expect(calls).toHaveLength(2);
  calls[1].finish();
  await settle();
  advance(10_000);
  outbox.deliverDue();
  expect(calls).toHaveLength(2);
  expect(data.outbox.size).toBe(0);
  expect([...data.deliveries.values()].map((record) => (record as { status: string }).status)).toEqual([
    'retrying',
    'delivered',
  ]);
  await outbox.stop();
});

test('after the last attempt the notification is dropped as failed', async () => {
  const { outbox, calls, data, message, settle, advance } = setUp({});
  outbox.start();
  outbox.accept([message(0)]);
  for (let attempt = 0; attempt < 3; attempt++) {
    calls[attempt].finish(new DeliveryError('connection refused', true));
    await settle();
    advance(60_000);
    outbox.deliverDue();
  }
  expect(calls).toHaveLength(3);
  expect(outbox.recent().map((record) => record.status)).toEqual(['retrying', 'retrying', 'failed']);
  expect(data.outbox.size).toBe(0);
  await outbox.stop();
});
