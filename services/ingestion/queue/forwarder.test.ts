import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../kit/logger';
import { createRegistry } from '../../kit/metrics';
import { QueueDouble } from '../testing/queue-double';
import { Spool, SpoolFullError } from '../spool/spool';
import { QueueClient, QueueRejectedError } from './client';
import { createForwarderMetrics, Forwarder } from './forwarder';

const logger = createLogger('test', 'error');
logger.silent = true;

const options = {
  maxRecords: 3,
  maxBytes: 1 << 20,
  lingerMs: 2,
  maxInFlight: 2,
  maxReplayRecords: 4,
  maxReplayBytes: 1 << 20,
  retryMinMs: 10,
  retryMaxMs: 50,
};

const record = (n: number) => JSON.stringify({ key: `client_${n % 4}`, value: { n } });

describe('Forwarder', () => {
  let dir: string;
  let queue: QueueDouble;
  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'forwarder-'));
    queue = await new QueueDouble().start();
  });
  afterEach(async () => {
    await queue.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const build = async (spoolMaxBytes = 1 << 20, lingerMs = options.lingerMs) => {
    const spool = await Spool.open({ dir, maxBytes: spoolMaxBytes, segmentBytes: 4096 }, logger);
    const client = new QueueClient({ url: queue.url, topic: 'metrics.inbound', timeoutMs: 1000, maxSockets: 4 });
    const metrics = createForwarderMetrics(createRegistry('test').registry);
    const forwarder = new Forwarder(client, spool, { ...options, lingerMs }, metrics, logger);
    return {
      forwarder,
      spool,
      close: async () => {
        await forwarder.close();
        await spool.close();
        client.close();
      },
    };
  };
  const values = () => queue.records.map((produced) => (produced.value as { n: number }).n).sort((a, b) => a - b);

  it.each([0, 2])(
    'batches records by count and by linger time (%i ms), answering once acknowledged',
    async (linger) => {
      const { forwarder, close } = await build(1 << 20, linger);
      await Promise.all(Array.from({ length: 7 }, (_, n) => forwarder.submit(record(n))));
      expect(values()).toEqual([0, 1, 2, 3, 4, 5, 6]);
      expect(queue.produceCalls).toBe(3);
      expect(queue.records[0]).toMatchObject({ topic: 'metrics.inbound', key: 'client_0' });
      await close();
    },
  );

  it('spools while the queue is down, then replays in order without loss or duplicates', async () => {
    const { forwarder, spool, close } = await build();
    await queue.stop();
    await Promise.all(Array.from({ length: 10 }, (_, n) => forwarder.submit(record(n))));
    expect(forwarder.isSpooling).toBe(true);
    expect(spool.bytes).toBeGreaterThan(0);
    queue.isRefusing = true;
    await queue.start();
    await Promise.all(Array.from({ length: 5 }, (_, n) => forwarder.submit(record(10 + n))));
    expect(queue.records).toHaveLength(0);
    queue.isRefusing = false;
    for (let attempt = 0; attempt < 200 && forwarder.isSpooling; attempt++) await new Promise((r) => setTimeout(r, 10));
    expect(forwarder.isSpooling).toBe(false);
    expect(queue.records.map((produced) => (produced.value as { n: number }).n)).toEqual(
      Array.from({ length: 15 }, (_, n) => n),
    );
    await forwarder.submit(record(15));
    expect(values()).toHaveLength(16);
    expect(spool.bytes).toBe(0);
    await close();
  });

  it('answers SpoolFullError when the queue is down and the spool is full', async () => {
    const { forwarder, close } = await build(64 * 3);
    await queue.stop();
    const results = await Promise.allSettled(Array.from({ length: 12 }, (_, n) => forwarder.submit(record(n))));
    const rejected = results.filter((result) => result.status === 'rejected');
    expect(rejected.length).toBeGreaterThan(0);
    for (const result of rejected) expect((result as PromiseRejectedResult).reason).toBeInstanceOf(SpoolFullError);
    await close();
  });

  it('passes a queue refusal (4xx) to the caller instead of spooling it', async () => {
    const { forwarder, spool, close } = await build();
    await expect(forwarder.submit('{"key":"a"}')).rejects.toBeInstanceOf(QueueRejectedError);
    expect(spool.bytes).toBe(0);
    await close();
  });
});
