/** The part of the queue's API a storage shard uses (docs/CONTRACTS.md, "Queue"). */
export interface QueueMessage {
  offset: number;
  key: string;
  value: unknown;
  timestamp: number;
}

export interface ConsumeResult {
  messages: QueueMessage[];
  next_offset: number;
}

export interface QueueClient {
  consume(topic: string, partition: number, offset: number, count: number, waitMs: number): Promise<ConsumeResult>;
  commit(group: string, topic: string, partition: number, offset: number): Promise<void>;
  /** Committed next offsets by partition; partitions never committed are absent. */
  offsets(group: string, topic: string): Promise<Map<number, number>>;
}

/** The queue answered `offset_out_of_range`: the offset is below what it retains. */
export class OffsetOutOfRangeError extends Error {
  override readonly name = 'OffsetOutOfRangeError';

  constructor(readonly earliestOffset: number) {
    super(`offset below the queue's earliest retained offset ${earliestOffset}`);
  }
}

/** The queue could not be reached or answered an error. */
export class QueueUnavailableError extends Error {
  override readonly name = 'QueueUnavailableError';
}

export class HttpQueueClient implements QueueClient {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 10_000,
  ) {}

  private async request(method: string, path: string, body?: unknown, waitMs = 0): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs + waitMs),
      });
    } catch (error) {
      throw new QueueUnavailableError(`queue ${this.baseUrl} unreachable: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new QueueUnavailableError(`queue answered ${response.status} with a body that is not JSON`);
    }
    if (response.ok) return parsed;
    const error = (parsed as { error?: { code?: string; message?: string; earliest_offset?: number } })?.error;
    if (response.status === 400 && error?.code === 'offset_out_of_range' && typeof error.earliest_offset === 'number')
      throw new OffsetOutOfRangeError(error.earliest_offset);
    throw new QueueUnavailableError(
      `queue answered ${response.status} ${error?.code ?? ''}: ${error?.message ?? text}`,
    );
  }

  async consume(
    topic: string,
    partition: number,
    offset: number,
    count: number,
    waitMs: number,
  ): Promise<ConsumeResult> {
    const query = new URLSearchParams({
      topic,
      partition: String(partition),
      offset: String(offset),
      count: String(count),
      wait_ms: String(waitMs),
    });
    const result = (await this.request('GET', `/consume?${query}`, undefined, waitMs)) as ConsumeResult;
    if (!Array.isArray(result?.messages) || typeof result.next_offset !== 'number')
      throw new QueueUnavailableError('queue answered /consume without messages and next_offset');
    return result;
  }

  async commit(group: string, topic: string, partition: number, offset: number): Promise<void> {
    await this.request('POST', '/commit', { group, topic, partition, offset });
  }

  async offsets(group: string, topic: string): Promise<Map<number, number>> {
    const result = (await this.request('GET', `/offsets?${new URLSearchParams({ group, topic })}`)) as {
      offsets?: Record<string, number>;
    };
    return new Map(Object.entries(result?.offsets ?? {}).map(([partition, offset]) => [Number(partition), offset]));
  }
}
