import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { seededRandom } from '../../kit/clock';
import { createLogger } from '../../kit/logger';
import { waitFor } from '../../kit/testing/processes';
import { defaultBlockLayout } from '../block/builder';
import { Engine } from '../engine/engine';
import { tagIndexCodec } from '../engine/index-codec';
import { QueueConsumer, ownedPartitions } from './consumer';
import { HttpQueueClient } from './queue-client';

const logger = createLogger('storage-test', 'error');
const T = 1_696_789_200_000;

/** A contract double of the queue's consumer API (docs/CONTRACTS.md): /consume, /commit, /offsets. */
class QueueDouble {
  readonly partitions = Array.from(
    { length: 12 },
    () => [] as { offset: number; key: string; value: unknown; timestamp: number }[],
  );
  readonly committed = new Map<number, number>();
  readonly consumedFrom: [number, number][] = [];
  isDown = false;
  isCommitFailing = false;
  private server!: http.Server;
  url = '';

  produce(partition: number, value: unknown): void {
    const messages = this.partitions[partition];
    messages.push({ offset: messages.length, key: 'client', value, timestamp: T });
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      const send = (status: number, body: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (this.isDown) return send(503, { error: { code: 'no_quorum', message: 'down' } });
      if (url.pathname === '/consume') {
        const partition = Number(url.searchParams.get('partition'));
        const offset = Number(url.searchParams.get('offset'));
        const count = Number(url.searchParams.get('count'));
        this.consumedFrom.push([partition, offset]);
        const messages = this.partitions[partition].slice(offset, offset + count);
        const answer = () => send(200, { messages, next_offset: offset + messages.length });
        return messages.length > 0 ? answer() : void setTimeout(answer, 20);
      }
      if (url.pathname === '/offsets')
        return send(200, {
          group: url.searchParams.get('group'),
          topic: 'metrics.inbound',
          offsets: Object.fromEntries(this.committed),
        });
      if (url.pathname === '/commit') {
        let text = '';
        req.on('data', (part) => (text += part));
        req.on('end', () => {
          if (this.isCommitFailing) return send(503, { error: { code: 'no_quorum', message: 'down' } });
          const body = JSON.parse(text);
          this.committed.set(body.partition, body.offset);
          send(200, { ok: true });
        });
        return;
      }
      send(404, { error: { code: 'not_found', message: url.pathname } });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

const openEngine = (directory: string) =>
  Engine.open({
    directory,
    blockRangeMs: 7_200_000,
    compactionRangesMs: [],
    retentionMs: 0,
    outOfOrderWindowMs: 600_000,
    walSegmentBytes: 1 << 20,
    isSyncing: true,
    layout: defaultBlockLayout,
    indexCodec: tagIndexCodec,
    createIndex: () => tagIndexCodec.create(),
    clock: { now: () => T },
    random: seededRandom(1),
    logger,
  });

const startConsumer = (engine: Engine, queue: QueueDouble, partitions: number[]) => {
  const consumer = new QueueConsumer({
    engine,
    client: new HttpQueueClient(queue.url, 2000),
    topic: 'metrics.inbound',
    group: 'storage-1',
    partitions,
    batchSize: 7,
    waitMs: 20,
    backoffInitialMs: 10,
    backoffMaxMs: 50,
    logger,
  });
  consumer.start();
  return consumer;
};

const batch = (partition: number, index: number) => ({
  tenant: 'default',
  client: 'c',
  metrics: [{ name: 'cpu', value: index, type: 'gauge', tags: { p: String(partition) }, timestamp: T + index * 1000 }],
});

async function storedPoints(engine: Engine) {
  const series = await engine.query('default', { measurement: 'cpu', field: 'value', matchers: [] }, T, T + 1e9);
  return series.map((entry) => [entry.labels.tags[0][1], entry.samples.timestamps.length]);
}

describe('ownedPartitions', () => {
  it('gives shard i of N the partitions p mod N = i, and only for N dividing 12', () => {
    expect(ownedPartitions(1, 3)).toEqual([1, 4, 7, 10]);
    expect(ownedPartitions(0, 1)).toHaveLength(12);
    expect(() => ownedPartitions(0, 5)).toThrow(RangeError);
    expect(() => ownedPartitions(3, 3)).toThrow(RangeError);
  });
});

describe('QueueConsumer', () => {
  let queue: QueueDouble;
  beforeEach(async () => {
    queue = new QueueDouble();
    await queue.start();
  });
  afterEach(() => queue.stop());

  it('stores its partitions once and commits after the data is durable, resuming without duplicates', async () => {
    for (let partition = 0; partition < 12; partition++)
      for (let index = 0; index < 20; index++) queue.produce(partition, batch(partition, index));
    const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'consumer-test-'));
    queue.isCommitFailing = true;
    let engine = await openEngine(directory);
    let consumer = startConsumer(engine, queue, ownedPartitions(1, 3));
    await waitFor(() => [1, 4, 7, 10].every((partition) => engine.appliedOffsets.get(partition) === 19) || undefined);
    await consumer.close();
    await engine.close();
    expect(queue.committed.size).toBe(0);

    // The commits were lost, as in a crash right after the WAL fsync: the applied offsets in the WAL must win.
    queue.isCommitFailing = false;
    queue.consumedFrom.length = 0;
    for (let index = 20; index < 25; index++) queue.produce(4, batch(4, index));
    engine = await openEngine(directory);
    const write = jest.spyOn(engine, 'write');
    consumer = startConsumer(engine, queue, ownedPartitions(1, 3));
    await waitFor(() => queue.committed.get(4) === 25 || undefined);
    await consumer.close();
    expect(queue.consumedFrom.filter(([partition]) => partition === 1)[0]).toEqual([1, 20]);
    const writtenPoints = write.mock.calls.reduce((total, call) => total + call[1].length, 0);
    expect(writtenPoints).toBe(5);
    expect(await storedPoints(engine)).toEqual([
      ['1', 20],
      ['10', 20],
      ['4', 25],
      ['7', 20],
    ]);
    await engine.close();
  });

  it('reports not ready while the queue is down and recovers with backoff', async () => {
    queue.isDown = true;
    const engine = await openEngine(await fs.mkdtemp(path.join(os.tmpdir(), 'consumer-test-')));
    const consumer = startConsumer(engine, queue, [0]);
    await waitFor(() => (consumer.readiness().reason?.includes('unreachable') ? true : undefined));
    expect(consumer.readiness().ready).toBe(false);
    queue.produce(0, batch(0, 0));
    queue.isDown = false;
    await waitFor(() => consumer.readiness().ready || undefined);
    await waitFor(() => queue.committed.get(0) === 1 || undefined);
    await consumer.close();
    await engine.close();
  });

  it('skips metrics it cannot store instead of stalling the partition', async () => {
    const engine = await openEngine(await fs.mkdtemp(path.join(os.tmpdir(), 'consumer-test-')));
    queue.produce(0, { tenant: 'default', metrics: [{ name: 'cpu', value: 'NaN', tags: { p: '0' }, timestamp: T }] });
    queue.produce(0, 'not a batch');
    queue.produce(0, batch(0, 1));
    const consumer = startConsumer(engine, queue, [0]);
    await waitFor(() => queue.committed.get(0) === 3 || undefined);
    await consumer.close();
    expect(await storedPoints(engine)).toEqual([['0', 1]]);
    await engine.close();
  });
});
