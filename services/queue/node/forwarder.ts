import http from 'node:http';
import { ApiError } from '../../kit/errors';
import { postToPeer, type PeerAnswer } from './peer-request';
import { BATCH_CONTENT_TYPE, encodeForwardedParts, encodeProduceBatch } from '../api/produce-batch';
import type { ProduceRecord } from '../api/requests';

/**
 * Sends produce batches to the peer leading their partition. The batches bound for one leader during one turn of the
 * event loop (the partitions of one client request, and of every other request arriving meanwhile) leave in a single
 * binary request over a kept-alive connection, so a peer forwarding a 12-partition batch makes one or two requests,
 * not twelve. Each batch still succeeds or fails on its own (the answer lists one result per batch).
 */
interface Pending {
  topic: string;
  partition: number;
  deadline: number;
  batch: Buffer;
  resolve(baseOffset: number): void;
  reject(error: Error): void;
}

export type ForwardResult = { base_offset: number } | { status: number; error: { code: string; message: string } };

const MAX_SOCKETS_PER_PEER = 4;

export class AppendForwarder {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS_PER_PEER });
  private readonly queues = new Map<string, Pending[]>();
  private isFlushScheduled = false;

  constructor(private readonly now: () => number = Date.now) {}

  /** Resolves with the batch's first offset; rejects with the leader's ApiError, or the network error as it was. */
  append(
    url: string,
    topic: string,
    partition: number,
    records: readonly ProduceRecord[],
    deadline: number,
  ): Promise<number> {
    return new Promise((resolve, reject) => {
      const pending = { topic, partition, deadline, batch: encodeProduceBatch(records), resolve, reject };
      const queue = this.queues.get(url);
      if (queue) queue.push(pending);
      else this.queues.set(url, [pending]);
      if (!this.isFlushScheduled) {
        this.isFlushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  close(): void {
    this.agent.destroy();
  }

  private flush(): void {
    this.isFlushScheduled = false;
    const queues = [...this.queues];
    this.queues.clear();
    for (const [url, parts] of queues) this.send(url, parts);
  }

  private send(url: string, parts: Pending[]): void {
    const body = encodeForwardedParts(parts);
    const timeoutMs = Math.max(1, Math.max(...parts.map((part) => part.deadline)) - this.now());
    postToPeer(this.agent, `${url}/v1/internal/append`, body, BATCH_CONTENT_TYPE, timeoutMs).then(
      (answer) => this.settle(parts, answer),
      (error: Error) => failAll(parts, error),
    );
  }

  private settle(parts: Pending[], { status, body }: PeerAnswer): void {
    let answer: { results?: ForwardResult[]; error?: { code: string; message: string } };
    try {
      answer = JSON.parse(body.toString('utf8')) as typeof answer;
    } catch {
      failAll(parts, new ApiError(502, 'forward_failed', `leader answered ${status} without JSON`));
      return;
    }
    if (status !== 200 || answer.results?.length !== parts.length) {
      const code = answer.error?.code ?? 'forward_failed';
      failAll(parts, new ApiError(status || 502, code, answer.error?.message ?? `leader answered ${status}`));
      return;
    }
    answer.results.forEach((result, index) => {
      if ('base_offset' in result) parts[index].resolve(result.base_offset);
      else parts[index].reject(new ApiError(result.status, result.error.code, result.error.message));
    });
  }
}

function failAll(parts: readonly Pending[], error: Error): void {
  for (const part of parts) part.reject(error);
}
