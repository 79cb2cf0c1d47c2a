import fs from 'node:fs';
import path from 'node:path';
import { freePort, startService, waitFor, type ManagedProcess } from '../../kit/testing/processes';
import { BATCH_CONTENT_TYPE, encodeProduceBatch } from '../api/produce-batch';
import { partitionOf } from '../topics/partitioner';
import { FAST_RAFT, getJson, postJson, readPartition, temporaryDirectory } from './helpers';

/** One peer as the local platform runs it: the whole client API, bad input, restart and torn-write recovery. */
describe('queue, one peer', () => {
  let dataDir: string;
  let port: number;
  let url: string;
  let peer: ManagedProcess;
  const args = () => ['--data-dir', dataDir, '--topics', 'events:2', '--max-value-bytes', '1000', ...FAST_RAFT];
  const start = async () => {
    peer = await startService('queue', port, args());
    await waitReady();
  };
  const waitReady = async () => {
    for (let attempt = 0; attempt < 200; attempt++) {
      if ((await fetch(`${url}/readyz`)).ok) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error('peer not ready');
  };

  beforeAll(async () => {
    dataDir = temporaryDirectory('queue-single-');
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    await start();
  }, 30_000);

  afterAll(async () => {
    await peer?.kill9();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("produces to the key's partition and consumes in order", async () => {
    const partition = partitionOf('client_123', 12);
    const first = await postJson(`${url}/produce`, {
      topic: 'metrics.inbound',
      key: 'client_123',
      value: { cpu: 75.5 },
    });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ partition, offset: 0 });
    const batch = await postJson(`${url}/v1/produce`, {
      records: [
        { key: 'client_123', value: 1 },
        { key: 'client_123', value: 'two' },
        { key: 'other', value: [3] },
      ],
    });
    expect(batch.body.results).toEqual([
      { partition, offset: 1 },
      { partition, offset: 2 },
      { partition: partitionOf('other', 12), offset: partitionOf('other', 12) === partition ? 3 : 0 },
    ]);
    const page = await getJson<{
      messages: Array<{ offset: number; key: string; value: unknown; timestamp: number }>;
      next_offset: number;
    }>(`${url}/consume?partition=${partition}&offset=1&count=2`);
    expect(page.messages.map((message) => [message.offset, message.key, message.value])).toEqual([
      [1, 'client_123', 1],
      [2, 'client_123', 'two'],
    ]);
    expect(page.next_offset).toBe(3);
    expect(typeof page.messages[0].timestamp).toBe('number');
    const pastEnd = await getJson(`${url}/consume?partition=${partition}&offset=500`);
    expect(pastEnd).toEqual({ messages: [], next_offset: 500 });
  });

  it('accepts the binary batch form and serves its values verbatim', async () => {
    const key = 'binary-client';
    const partition = partitionOf(key, 12);
    const values = ['{"cpu": 1.5,\n "tags": {"é": true}}', '[1,2]', '"text"'];
    const response = await fetch(`${url}/v1/produce?topic=metrics.inbound`, {
      method: 'POST',
      headers: { 'content-type': BATCH_CONTENT_TYPE },
      body: encodeProduceBatch(values.map((value) => ({ key, value: Buffer.from(value) }))),
    });
    const answer = (await response.json()) as { results: Array<{ partition: number; offset: number }> };
    expect(response.status).toBe(200);
    expect(answer.results.map((result) => result.partition)).toEqual([partition, partition, partition]);
    const page = await getJson<{ messages: Array<{ offset: number; value: unknown }> }>(
      `${url}/consume?partition=${partition}&offset=${answer.results[0].offset}&count=3`,
    );
    expect(page.messages.map((message) => message.value)).toEqual(values.map((value) => JSON.parse(value)));
    const invalid = await fetch(`${url}/v1/produce`, {
      method: 'POST',
      headers: { 'content-type': BATCH_CONTENT_TYPE },
      body: encodeProduceBatch([{ key, value: Buffer.from('{not json') }]),
    });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
  });

  it('long-polls until a message arrives', async () => {
    const key = 'poller';
    const partition = partitionOf(key, 2);
    const started = Date.now();
    const polled = getJson<{ messages: Array<{ value: unknown }> }>(
      `${url}/consume?topic=events&partition=${partition}&offset=0&wait_ms=5000`,
    );
    await new Promise((resolve) => setTimeout(resolve, 150));
    await postJson(`${url}/produce`, { topic: 'events', key, value: 'woken' });
    const page = await polled;
    expect(page.messages.map((message) => message.value)).toEqual(['woken']);
    expect(Date.now() - started).toBeLessThan(4000);
    const empty = Date.now();
    await getJson(`${url}/consume?topic=events&partition=${partition}&offset=1&wait_ms=200`);
    expect(Date.now() - empty).toBeGreaterThanOrEqual(190);
  });

  it('stores consumer offsets', async () => {
    const commit = await postJson(`${url}/commit`, {
      group: 'storage-0',
      topic: 'metrics.inbound',
      partition: 3,
      offset: 12,
    });
    expect(commit).toMatchObject({ status: 200, body: { ok: true } });
    await postJson(`${url}/commit`, { group: 'storage-0', topic: 'metrics.inbound', partition: 5, offset: 7 });
    await postJson(`${url}/commit`, { group: 'storage-0', topic: 'metrics.inbound', partition: 3, offset: 20 });
    expect(await getJson(`${url}/offsets?group=storage-0&topic=metrics.inbound`)).toEqual({
      group: 'storage-0',
      topic: 'metrics.inbound',
      offsets: { '3': 20, '5': 7 },
    });
    expect(await getJson(`${url}/offsets?group=nobody&topic=metrics.inbound`)).toMatchObject({ offsets: {} });
  });

  it('lists topics and the cluster', async () => {
    expect(await getJson(`${url}/topics`)).toEqual({
      topics: [
        { name: 'metrics.inbound', partitions: 12 },
        { name: 'events', partitions: 2 },
      ],
    });
    const cluster = await getJson<{ peers: unknown[]; partitions: Array<{ leader: string; members: string[] }> }>(
      `${url}/cluster`,
    );
    expect(cluster.peers).toEqual([{ id: 'q0', url, reachable: true }]);
    expect(cluster.partitions).toHaveLength(15);
    expect(cluster.partitions.every((partition) => partition.leader === 'q0')).toBe(true);
  });

  it('answers bad input with the documented errors', async () => {
    const expectError = async (response: Promise<Response>, status: number, code: string) => {
      const answer = await response;
      expect(answer.status).toBe(status);
      expect(((await answer.json()) as { error: { code: string } }).error.code).toBe(code);
    };
    const post = (path: string, body: string) =>
      fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await expectError(post('/produce', '{"key": "a", "value": '), 400, 'invalid_json');
    await expectError(post('/produce', '{"key": "a"}'), 400, 'invalid_request');
    await expectError(post('/produce', '[1]'), 400, 'invalid_request');
    await expectError(post('/produce', JSON.stringify({ key: 'a', value: 'x'.repeat(2000) })), 413, 'value_too_large');
    await expectError(post('/produce', JSON.stringify({ topic: 'nope', key: 'a', value: 1 })), 404, 'unknown_topic');
    await expectError(
      post('/produce', JSON.stringify({ topic: '__consumer_offsets', key: 'a', value: 1 })),
      404,
      'unknown_topic',
    );
    await expectError(post('/v1/produce', JSON.stringify({ records: [] })), 400, 'invalid_request');
    await expectError(post('/v1/produce', 'x'.repeat(17 * 1024 * 1024)), 413, 'payload_too_large');
    await expectError(fetch(`${url}/consume?partition=3&offset=-1`), 400, 'invalid_request');
    await expectError(fetch(`${url}/consume?partition=3&offset=abc`), 400, 'invalid_request');
    await expectError(fetch(`${url}/consume?partition=3&offset=0&count=-5`), 400, 'invalid_request');
    await expectError(fetch(`${url}/consume?partition=3&offset=0&count=1.5`), 400, 'invalid_request');
    await expectError(fetch(`${url}/consume?partition=x&offset=0`), 400, 'invalid_request');
    await expectError(fetch(`${url}/consume?partition=12&offset=0`), 404, 'unknown_partition');
    await expectError(fetch(`${url}/consume?topic=nope&partition=0&offset=0`), 404, 'unknown_topic');
    await expectError(
      post('/commit', JSON.stringify({ group: 'g', partition: -1, offset: 0 })),
      400,
      'invalid_request',
    );
    await expectError(
      post('/commit', JSON.stringify({ group: 'g', partition: 99, offset: 0 })),
      404,
      'unknown_partition',
    );
    await expectError(fetch(`${url}/offsets?topic=metrics.inbound`), 400, 'invalid_request');
  });

  it('keeps acknowledged messages across kill -9, and recovers from a torn tail', async () => {
    const key = 'durable';
    const partition = partitionOf(key, 12);
    const records = Array.from({ length: 50 }, (_, index) => ({ key, value: { index } }));
    const produced = await postJson(`${url}/v1/produce`, { records });
    expect(produced.status).toBe(200);
    const last = (produced.body.results as Array<{ offset: number }>).at(-1)!.offset;
    await peer.kill9();
    await start();
    // A restarted peer serves what it knows committed; its new term's first entry commits the rest.
    const afterCrash = await waitFor(async () => {
      const messages = await readPartition(url, partition);
      return messages.at(-1)?.offset === last ? messages : undefined;
    });
    expect(afterCrash.slice(-50).map((message) => message.value)).toEqual(records.map((record) => record.value));

    // The segment now ends with the no-op entry of the restarted peer's term: tear that frame.
    await peer.kill9();
    const directory = path.join(dataDir, 'metrics.inbound', String(partition));
    const segment = fs
      .readdirSync(directory)
      .filter((name) => name.endsWith('.log'))
      .sort()
      .at(-1)!;
    const file = path.join(directory, segment);
    fs.truncateSync(file, fs.statSync(file).size - 7);
    await start();
    const next = await postJson(`${url}/produce`, { key, value: 'after the tear' });
    expect(next.body).toEqual({ partition, offset: last + 1 });
    const afterTear = await readPartition(url, partition);
    expect(afterTear.map((message) => message.offset)).toEqual(afterTear.map((_message, index) => index));
    expect(afterTear.slice(-51).map((message) => message.value)).toEqual([
      ...records.map((record) => record.value),
      'after the tear',
    ]);
  }, 30_000);

  it('loses nothing acknowledged when the segment files lose all that was never synced (power loss)', async () => {
    const inboundSegments = () =>
      fs.readdirSync(path.join(dataDir, 'metrics.inbound')).flatMap((partition) => {
        const directory = path.join(dataDir, 'metrics.inbound', partition);
        return fs
          .readdirSync(directory)
          .filter((name) => name.endsWith('.log'))
          .map((name) => path.join(directory, name));
      });
    // After a restart the peer checkpoints its WAL: every segment synced, the older WAL files deleted.
    await waitFor(() => fs.readdirSync(path.join(dataDir, '__wal')).length === 1 || undefined);
    const syncedSizes = new Map(inboundSegments().map((file) => [file, fs.statSync(file).size]));
    const records = Array.from({ length: 120 }, (_, index) => ({ key: `power-${index}`, value: { index } }));
    const produced = await postJson(`${url}/v1/produce`, { records });
    expect(produced.status).toBe(200);
    await peer.kill9();
    for (const file of inboundSegments()) fs.truncateSync(file, syncedSizes.get(file) ?? 0);
    await start();
    const results = produced.body.results as Array<{ partition: number; offset: number }>;
    for (const partition of new Set(results.map((result) => result.partition))) {
      const messages = await readPartition(url, partition);
      results.forEach((result, index) => {
        if (result.partition !== partition) return;
        expect(messages.find((message) => message.offset === result.offset)?.value).toEqual(records[index].value);
      });
    }
  }, 30_000);
});
