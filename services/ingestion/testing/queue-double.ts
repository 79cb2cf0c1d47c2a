import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A contract double of the queue's produce API (docs/CONTRACTS.md), for ingestion tests and the benchmark:
 * `POST /v1/produce` (batch) and `POST /produce` (single), FNV-1a partitioning over 12 partitions, offsets per
 * partition. It can be stopped and restarted on the same port, or told to answer 503 `no_quorum`.
 * `GET /stats` answers `{"produce_calls", "records"}` for a double running in another process.
 */
export interface ProducedRecord {
  topic: string;
  partition: number;
  offset: number;
  key: string;
  value: unknown;
}

export const PARTITIONS = 12;

export function partitionOf(key: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(key, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % PARTITIONS;
}

export interface QueueDoubleOptions {
  /** Keep every record for assertions (off in the benchmark). */
  isRecording?: boolean;
  port?: number;
}

export class QueueDouble {
  readonly records: ProducedRecord[] = [];
  produceCalls = 0;
  recordCount = 0;
  /** When set, produce answers 503 no_quorum. */
  isRefusing = false;
  private readonly nextOffsets = new Map<string, number>();
  private server: http.Server | undefined;
  private port: number;

  constructor(private readonly options: QueueDoubleOptions = {}) {
    this.port = options.port ?? 0;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    const server = http.createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  /** Closes the port and every connection, as a crashed queue would. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      const answer = (status: number, body: unknown) => {
        const text = JSON.stringify(body);
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      };
      if (req.method === 'GET' && req.url === '/stats')
        return answer(200, { produce_calls: this.produceCalls, records: this.recordCount });
      if (req.method !== 'POST' || (req.url !== '/v1/produce' && req.url !== '/produce'))
        return answer(404, { error: { code: 'not_found', message: `no route for ${req.method} ${req.url}` } });
      if (this.isRefusing) {
        res.setHeader('Retry-After', '1');
        return answer(503, { error: { code: 'no_quorum', message: 'no quorum' } });
      }
      let body: { topic?: unknown; records?: unknown; key?: unknown; value?: unknown };
      try {
        body = JSON.parse(Buffer.concat(parts).toString('utf8'));
      } catch {
        return answer(400, { error: { code: 'invalid_json', message: 'not JSON' } });
      }
      const isBatch = req.url === '/v1/produce';
      const records = isBatch ? body.records : [{ key: body.key, value: body.value }];
      if (typeof body.topic !== 'string' || !Array.isArray(records) || records.length === 0 || records.length > 10_000)
        return answer(400, { error: { code: 'invalid_request', message: 'topic and 1..10000 records required' } });
      const results = [];
      for (const record of records as { key?: unknown; value?: unknown }[]) {
        if (typeof record?.key !== 'string' || record.value === undefined)
          return answer(400, { error: { code: 'invalid_record', message: 'each record needs key and value' } });
      }
      this.produceCalls++;
      for (const record of records as { key: string; value: unknown }[]) {
        const partition = partitionOf(record.key);
        const slot = `${body.topic}/${partition}`;
        const offset = this.nextOffsets.get(slot) ?? 0;
        this.nextOffsets.set(slot, offset + 1);
        this.recordCount++;
        if (this.options.isRecording !== false)
          this.records.push({ topic: body.topic, partition, offset, key: record.key, value: record.value });
        results.push({ partition, offset });
      }
      answer(200, isBatch ? { results } : results[0]);
    });
  }
}
