/**
 * Queue benchmark: ~200-byte JSON metric messages.
 *   1. one peer, batched produce (1,000 records per request): messages/s, request latency p50/p99;
 *   2. three peers, replicated: throughput, then latency at a fixed rate (open loop);
 *   3. consume throughput from the log;
 *   4. the same messages through NATS JetStream (file storage, 1 and 3 replicas) and Redis Streams (AOF, fsync always).
 * `node dist/bench/queue.js [--full] [--rate N] [--only single,cluster,jetstream,redis] [--profile DIR]`
 * (npm run bench:queue). Prints a markdown table. `--profile` writes each queue peer's CPU profile to DIR.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { BATCH_CONTENT_TYPE, encodeProduceBatch } from '../services/queue/api/produce-batch';
import { canConnect, freePort, spawnProcess, waitFor, type ManagedProcess } from '../services/kit/testing/processes';

const isFull = process.argv.includes('--full');
const PHASE_MS = isFull ? 30_000 : 6_000;
const BATCH = 1_000;
const CONCURRENCY = 4;
/** `--rate N`: the open-loop rate of the replicated latency case (the example is 20,000/s). */
const rateFlag = process.argv.indexOf('--rate');
const FIXED_RATE = rateFlag > 0 ? Number(process.argv[rateFlag + 1]) : 2_000;
const onlyFlag = process.argv.indexOf('--only');
const phases = new Set(
  onlyFlag > 0 ? process.argv[onlyFlag + 1].split(',') : ['single', 'cluster', 'jetstream', 'redis'],
);
const profileFlag = process.argv.indexOf('--profile');
const profileDirectory = profileFlag > 0 ? path.resolve(process.argv[profileFlag + 1]) : undefined;
const cliPath = path.resolve(__dirname, '../services/cli/metricstream.js');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-queue-'));

function metricValue(sequence: number): Record<string, unknown> {
  return {
    tenant: 'default',
    client: `client_${sequence % 100}`,
    metrics: [
      {
        name: 'cpu_usage',
        value: 75.5,
        type: 'gauge',
        tags: { host: `server${sequence % 50}`, region: 'eu-west-1' },
        timestamp: 1696789234567,
      },
    ],
  };
}
const sampleBytes = Buffer.byteLength(JSON.stringify(metricValue(0)));

interface Result {
  system: string;
  case: string;
  messagesPerSecond: number;
  p50Ms?: number;
  p99Ms?: number;
  note?: string;
}
const results: Result[] = [];

/** Prints one row at once (a long run shows its figures as they come), with the ratio to our matching case. */
function record(result: Result): void {
  results.push(result);
  const isReplicated = /R3/.test(result.case);
  const reference = results.find(
    (ours) =>
      ours.system.startsWith('metricstream') &&
      /R3/.test(ours.case) === isReplicated &&
      !/consume|fixed/.test(ours.case),
  );
  const ratio =
    result.system.startsWith('metricstream') || !reference
      ? ''
      : (reference.messagesPerSecond / result.messagesPerSecond).toFixed(2);
  console.log(
    `| ${result.system} | ${result.case} | ${Math.round(result.messagesPerSecond).toLocaleString('en-US')} | ${result.p50Ms?.toFixed(1) ?? ''} | ${result.p99Ms?.toFixed(1) ?? ''} | ${ratio} |`,
  );
}

const percentile = (sorted: number[], fraction: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A produce request body: the JSON contract, or the binary batch form (API.md) carrying the same JSON values. */
type BodyForm = 'json' | 'binary';
interface ProduceBody {
  contentType: string;
  body: string | Buffer;
}

function batchBody(batchNumber: number, size = BATCH, form: BodyForm = 'json'): ProduceBody {
  const records = Array.from({ length: size }, (_, index) => ({
    key: `client_${(batchNumber * size + index) % 100}`,
    value: metricValue(index),
  }));
  if (form === 'binary')
    return {
      contentType: BATCH_CONTENT_TYPE,
      body: encodeProduceBatch(
        records.map((record) => ({ key: record.key, value: Buffer.from(JSON.stringify(record.value)) })),
      ),
    };
  return { contentType: 'application/json', body: JSON.stringify({ topic: 'metrics.inbound', records }) };
}

async function startQueue(id: string, port: number, peers: string): Promise<ManagedProcess> {
  return spawnProcess(
    `queue-${id}`,
    process.execPath,
    [
      ...(profileDirectory ? ['--cpu-prof', `--cpu-prof-dir=${profileDirectory}`] : []),
      cliPath,
      'queue',
      '--port',
      String(port),
      '--node-id',
      id,
      '--data-dir',
      path.join(root, id),
      ...(peers ? ['--peers', peers] : []),
    ],
    {
      env: { LOG_LEVEL: 'warn' },
      waitUntilReady: () =>
        waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok || undefined, 30_000, `${id} ready`),
    },
  );
}

/** Closed loop: CONCURRENCY clients each send batches back to back. */
async function produceClosedLoop(
  urls: string[],
  durationMs: number,
  form: BodyForm = 'json',
): Promise<{ rate: number; latencies: number[] }> {
  const bodies = Array.from({ length: 8 }, (_, number) => batchBody(number, BATCH, form));
  const latencies: number[] = [];
  let messages = 0;
  const end = Date.now() + durationMs;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, client) => {
      for (let round = 0; Date.now() < end; round++) {
        const sent = performance.now();
        const { contentType, body } = bodies[(client + round) % bodies.length];
        const response = await fetch(`${urls[(client + round) % urls.length]}/v1/produce`, {
          method: 'POST',
          headers: { 'content-type': contentType },
          body,
        });
        await response.arrayBuffer();
        if (response.ok) {
          latencies.push(performance.now() - sent);
          messages += BATCH;
        }
      }
    }),
  );
  return { rate: (messages * 1000) / (Date.now() - started), latencies: latencies.sort((a, b) => a - b) };
}

/** Open loop at a fixed rate: a batch of 100 every 100/rate seconds, whatever the answers take. */
async function produceFixedRate(
  urls: string[],
  rate: number,
  durationMs: number,
): Promise<{ rate: number; latencies: number[] }> {
  const perBatch = 100;
  const { body } = batchBody(0, perBatch);
  const intervalMs = (perBatch * 1000) / rate;
  const latencies: number[] = [];
  const pending: Array<Promise<void>> = [];
  let messages = 0;
  const started = Date.now();
  for (let sent = 0; Date.now() - started < durationMs; sent++) {
    const due = started + sent * intervalMs;
    if (due > Date.now()) await sleep(due - Date.now());
    const begin = performance.now();
    pending.push(
      fetch(`${urls[sent % urls.length]}/v1/produce`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      })
        .then(async (response) => {
          await response.arrayBuffer();
          if (response.ok) {
            latencies.push(performance.now() - begin);
            messages += perBatch;
          }
        })
        .catch(() => undefined),
    );
  }
  await Promise.all(pending);
  return { rate: (messages * 1000) / (Date.now() - started), latencies: latencies.sort((a, b) => a - b) };
}

async function consumeAll(url: string): Promise<number> {
  let messages = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: 12 }, async (_, partition) => {
      for (let offset = 0; ;) {
        const response = await fetch(`${url}/consume?partition=${partition}&offset=${offset}&count=10000`);
        const page = (await response.json()) as { messages: unknown[]; next_offset: number };
        if (page.messages.length === 0) return;
        messages += page.messages.length;
        offset = page.next_offset;
      }
    }),
  );
  return (messages * 1000) / (Date.now() - started);
}

const rssMegabytes = (pid: number | undefined) => {
  if (pid === undefined) return 0;
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
};

async function benchSinglePeer(): Promise<string> {
  const port = await freePort();
  const single = await startQueue('single', port, '');
  try {
    const url = `http://127.0.0.1:${port}`;
    const closed = await produceClosedLoop([url], PHASE_MS);
    record({
      system: 'metricstream queue',
      case: '1 peer, batches of 1,000',
      messagesPerSecond: closed.rate,
      p50Ms: percentile(closed.latencies, 0.5),
      p99Ms: percentile(closed.latencies, 0.99),
    });
    const binary = await produceClosedLoop([url], PHASE_MS, 'binary');
    record({
      system: 'metricstream queue',
      case: '1 peer, batches of 1,000, binary batch form',
      messagesPerSecond: binary.rate,
      p50Ms: percentile(binary.latencies, 0.5),
      p99Ms: percentile(binary.latencies, 0.99),
    });
    const consumeRate = await consumeAll(url);
    record({
      system: 'metricstream queue',
      case: '1 peer, consume (count=10000)',
      messagesPerSecond: consumeRate,
    });
    return `one peer RSS after the run: ${rssMegabytes(single.child.pid).toFixed(0)} MB`;
  } finally {
    await single.stop();
  }
}

async function benchCluster(): Promise<string> {
  const ports = await Promise.all([0, 1, 2].map(() => freePort()));
  const peers = ports.map((peerPort, number) => `q${number}=http://127.0.0.1:${peerPort}`).join(',');
  const cluster = await Promise.all(ports.map((peerPort, number) => startQueue(`q${number}`, peerPort, peers)));
  try {
    const urls = ports.map((peerPort) => `http://127.0.0.1:${peerPort}`);
    await sleep(4_000); // leadership settles on the preferred peers
    const closed = await produceClosedLoop(urls, PHASE_MS);
    record({
      system: 'metricstream queue',
      case: '3 peers R3, batches of 1,000',
      messagesPerSecond: closed.rate,
      p50Ms: percentile(closed.latencies, 0.5),
      p99Ms: percentile(closed.latencies, 0.99),
    });
    const binary = await produceClosedLoop(urls, PHASE_MS, 'binary');
    record({
      system: 'metricstream queue',
      case: '3 peers R3, batches of 1,000, binary batch form',
      messagesPerSecond: binary.rate,
      p50Ms: percentile(binary.latencies, 0.5),
      p99Ms: percentile(binary.latencies, 0.99),
    });
    const fixed = await produceFixedRate(urls, FIXED_RATE, PHASE_MS);
    record({
      system: 'metricstream queue',
      case: `3 peers R3, fixed ${FIXED_RATE} msg/s, batches of 100`,
      messagesPerSecond: fixed.rate,
      p50Ms: percentile(fixed.latencies, 0.5),
      p99Ms: percentile(fixed.latencies, 0.99),
    });
    return `three peers RSS after the run: ${cluster.map((peer) => rssMegabytes(peer.child.pid).toFixed(0)).join(', ')} MB`;
  } finally {
    await Promise.all(cluster.map((peer) => peer.stop()));
  }
}

/** The smallest NATS client that can publish to JetStream and wait for acks (no npm client is installed here). */
class NatsConnection {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly waiting = new Map<string, (payload: Buffer) => void>();
  private sequence = 0;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  static async connect(port: number): Promise<NatsConnection> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const connection = new NatsConnection(socket);
    socket.write('CONNECT {"verbose":false,"pedantic":false,"headers":false,"protocol":1}\r\nSUB _INBOX.bench.* 1\r\n');
    return connection;
  }

  /** Publishes with a reply inbox; resolves with the reply, or undefined after `timeoutMs` without one. */
  request(subject: string, payload: Buffer | string, timeoutMs = 0): Promise<Buffer | undefined> {
    const inbox = `_INBOX.bench.${this.sequence++}`;
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
    return new Promise((resolve) => {
      this.waiting.set(inbox, resolve);
      if (timeoutMs > 0)
        setTimeout(() => {
          this.waiting.delete(inbox);
          resolve(undefined);
        }, timeoutMs);
      this.socket.write(`PUB ${subject} ${inbox} ${bytes.length}\r\n`);
      this.socket.write(bytes);
      this.socket.write('\r\n');
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const lineEnd = this.buffer.indexOf('\r\n');
      if (lineEnd < 0) return;
      const line = this.buffer.toString('utf8', 0, lineEnd);
      if (line.startsWith('MSG ')) {
        const parts = line.split(' ');
        const size = Number(parts.at(-1));
        if (this.buffer.length < lineEnd + 2 + size + 2) return;
        const payload = this.buffer.subarray(lineEnd + 2, lineEnd + 2 + size);
        this.buffer = this.buffer.subarray(lineEnd + 2 + size + 2);
        const resolve = this.waiting.get(parts[1]);
        this.waiting.delete(parts[1]);
        resolve?.(payload);
        continue;
      }
      this.buffer = this.buffer.subarray(lineEnd + 2);
      if (line === 'PING') this.socket.write('PONG\r\n');
    }
  }
}

async function benchJetStream(replicas: 1 | 3): Promise<string> {
  const count = replicas;
  const clientPorts = await Promise.all(Array.from({ length: count }, () => freePort()));
  const routePorts = await Promise.all(Array.from({ length: count }, () => freePort()));
  const servers: ManagedProcess[] = [];
  try {
    for (let number = 0; number < count; number++) {
      const directory = path.join(root, `nats-${replicas}-${number}`);
      fs.mkdirSync(directory, { recursive: true });
      const routes = routePorts
        .filter((_, other) => other !== number)
        .map((routePort) => `nats-route://127.0.0.1:${routePort}`);
      const config = [
        `server_name: n${number}`,
        `listen: 127.0.0.1:${clientPorts[number]}`,
        `jetstream { store_dir: "${directory}" }`,
        ...(count > 1
          ? [`cluster { name: bench, listen: 127.0.0.1:${routePorts[number]}, routes: [${routes.join(', ')}] }`]
          : []),
      ].join('\n');
      fs.writeFileSync(path.join(directory, 'nats.conf'), config);
      servers.push(
        await spawnProcess(`nats-${number}`, 'nats-server', ['-c', path.join(directory, 'nats.conf')], {
          waitUntilReady: () => waitFor(() => canConnect(clientPorts[number]), 10_000, 'nats-server'),
        }),
      );
    }
    const connections = await Promise.all(clientPorts.map((clientPort) => NatsConnection.connect(clientPort)));
    const streamConfig = JSON.stringify({
      name: 'BENCH',
      subjects: ['metrics.in'],
      storage: 'file',
      num_replicas: replicas,
    });
    await waitFor(
      async () => {
        const reply = await connections[0].request('$JS.API.STREAM.CREATE.BENCH', streamConfig, 2_000);
        const answer = reply ? (JSON.parse(reply.toString()) as { error?: unknown }) : { error: 'no reply yet' };
        if (answer.error) await sleep(250);
        return answer.error ? undefined : true;
      },
      20_000,
      'JetStream stream',
    );
    const payloads = Array.from({ length: BATCH }, (_, index) =>
      Buffer.from(JSON.stringify({ key: `client_${index % 100}`, value: metricValue(index) })),
    );
    const latencies: number[] = [];
    let messages = 0;
    const started = Date.now();
    const end = started + PHASE_MS;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, client) => {
        const connection = connections[client % connections.length];
        while (Date.now() < end) {
          const sent = performance.now();
          await Promise.all(payloads.map((payload) => connection.request('metrics.in', payload)));
          latencies.push(performance.now() - sent);
          messages += BATCH;
        }
      }),
    );
    latencies.sort((a, b) => a - b);
    record({
      system: 'NATS JetStream 2.9 (file)',
      case: `R${replicas}, 1,000 pipelined publishes awaited together`,
      messagesPerSecond: (messages * 1000) / (Date.now() - started),
      p50Ms: percentile(latencies, 0.5),
      p99Ms: percentile(latencies, 0.99),
    });
    connections.forEach((connection) => connection.close());
    return `JetStream R${replicas} RSS: ${servers.map((server) => rssMegabytes(server.child.pid).toFixed(0)).join(', ')} MB`;
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
}

async function benchRedis(): Promise<string> {
  const port = await freePort();
  const directory = path.join(root, 'redis');
  fs.mkdirSync(directory);
  const server = await spawnProcess(
    'redis',
    'redis-server',
    ['--port', String(port), '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', directory],
    {
      waitUntilReady: () => waitFor(() => canConnect(port), 10_000, 'redis-server'),
    },
  );
  try {
    const clients = Array.from({ length: CONCURRENCY }, () => new Redis(port, '127.0.0.1'));
    const values = Array.from({ length: BATCH }, (_, index) => JSON.stringify(metricValue(index)));
    const latencies: number[] = [];
    let messages = 0;
    const started = Date.now();
    const end = started + PHASE_MS;
    await Promise.all(
      clients.map(async (client) => {
        while (Date.now() < end) {
          const sent = performance.now();
          const pipeline = client.pipeline();
          values.forEach((value, index) =>
            pipeline.xadd(`metrics.inbound.${index % 12}`, '*', 'key', `client_${index % 100}`, 'value', value),
          );
          await pipeline.exec();
          latencies.push(performance.now() - sent);
          messages += BATCH;
        }
      }),
    );
    latencies.sort((a, b) => a - b);
    record({
      system: 'Redis 7 Streams (AOF, appendfsync always)',
      case: 'pipelines of 1,000 XADD',
      messagesPerSecond: (messages * 1000) / (Date.now() - started),
      p50Ms: percentile(latencies, 0.5),
      p99Ms: percentile(latencies, 0.99),
    });
    clients.forEach((client) => client.disconnect());
    return `Redis RSS: ${rssMegabytes(server.child.pid).toFixed(0)} MB`;
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  console.log('| system | case | msgs/s | p50 ms | p99 ms | ratio (ours / theirs) |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: |');
  const notes = [
    `message value ~${sampleBytes} bytes of JSON; ${CONCURRENCY} concurrent clients; ${PHASE_MS / 1000} s per phase`,
  ];
  if (phases.has('single')) notes.push(await benchSinglePeer());
  if (phases.has('cluster')) notes.push(await benchCluster());
  const peers = [
    ...(phases.has('jetstream') ? [() => benchJetStream(1), () => benchJetStream(3)] : []),
    ...(phases.has('redis') ? [() => benchRedis()] : []),
  ];
  for (const peer of peers) {
    try {
      notes.push(await peer());
    } catch (error) {
      notes.push(`peer skipped: ${(error as Error).message}`);
    }
  }
  for (const note of notes) console.log(`- ${note}`);
  fs.rmSync(root, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  fs.rmSync(root, { recursive: true, force: true });
  process.exit(1);
});
