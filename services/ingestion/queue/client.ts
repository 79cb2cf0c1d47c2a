import http from 'node:http';

/**
 * A small client for the queue's batch produce API (docs/CONTRACTS.md):
 *   POST /v1/produce {"topic", "records": [{"key", "value"}, ...]} → 200 {"results": [{"partition", "offset"}, ...]}
 * A 200 means every record is committed. Callers pass the records already serialised as a JSON array.
 */
const CLOSING_BRACE = Buffer.from('}');

export class QueueUnavailableError extends Error {
  override readonly name = 'QueueUnavailableError';
}

/** The queue answered but refused the batch (4xx other than 429): retrying the same bytes cannot help. */
export class QueueRejectedError extends Error {
  override readonly name = 'QueueRejectedError';

  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(`queue refused the batch with ${status}: ${detail}`);
  }
}

export interface QueueClientOptions {
  url: string;
  topic: string;
  timeoutMs: number;
  maxSockets: number;
}

export class QueueClient {
  private readonly agent: http.Agent;
  private readonly target: URL;
  private readonly bodyPrefix: Buffer;

  constructor(private readonly options: QueueClientOptions) {
    this.target = new URL('/v1/produce', options.url);
    if (this.target.protocol !== 'http:') throw new Error(`queue url must be http://, got ${options.url}`);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets });
    this.bodyPrefix = Buffer.from(`{"topic":${JSON.stringify(options.topic)},"records":`);
  }

  /** Sends `records` (a JSON array of `{"key", "value"}` holding `count` records); resolves once all are committed. */
  produce(records: Buffer, count: number): Promise<void> {
    // One buffer, one write: headers and body leave in a single writev instead of small segments.
    const body = Buffer.concat([this.bodyPrefix, records, CLOSING_BRACE]);
    return new Promise((resolve, reject) => {
      const request = http.request(
        {
          agent: this.agent,
          host: this.target.hostname,
          port: this.target.port || 80,
          path: this.target.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': body.length },
          timeout: this.options.timeoutMs,
        },
        (response) => {
          const parts: Buffer[] = [];
          response.on('data', (part: Buffer) => parts.push(part));
          response.on('error', (error) => reject(new QueueUnavailableError(error.message, { cause: error })));
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            const text = Buffer.concat(parts).toString('utf8');
            if (status === 200) {
              const results = parseResults(text);
              if (results === count) resolve();
              else reject(new QueueUnavailableError(`queue acknowledged ${results} of ${count} records`));
            } else if (status === 429 || status >= 500)
              reject(new QueueUnavailableError(`queue answered ${status}: ${text.slice(0, 200)}`));
            else reject(new QueueRejectedError(status, text.slice(0, 500)));
          });
        },
      );
      request.on('timeout', () => request.destroy(new Error(`no answer within ${this.options.timeoutMs} ms`)));
      request.on('error', (error) => reject(new QueueUnavailableError(error.message, { cause: error })));
      request.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function parseResults(text: string): number {
  try {
    const results = (JSON.parse(text) as { results?: unknown }).results;
    return Array.isArray(results) ? results.length : -1;
  } catch {
    return -1;
  }
}
