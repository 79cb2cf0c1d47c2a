import { ErrorCode, QueryError } from '../errors';

/** Why a shard call ended early: its own deadline passed. */
const SHARD_DEADLINE = Symbol('shard deadline');

export interface ShardCall {
  shard: string;
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  tenant?: string;
}

/**
 * One HTTP call to one storage shard with its own deadline, also ended by the query's signal (query timeout or the
 * client going away). Failures become `shard_failed` (502) and `shard_timeout` (504) naming the shard.
 */
export async function callShard(call: ShardCall, timeoutMs: number, querySignal: AbortSignal): Promise<string> {
  querySignal.throwIfAborted();
  const controller = new AbortController();
  const deadline = setTimeout(() => controller.abort(SHARD_DEADLINE), timeoutMs);
  const forwardAbort = () => controller.abort(querySignal.reason);
  querySignal.addEventListener('abort', forwardAbort, { once: true });
  const url = call.shard.replace(/\/+$/, '') + call.path;
  try {
    const headers: Record<string, string> = {};
    if (call.body !== undefined) headers['content-type'] = 'application/json';
    if (call.tenant) headers['x-metricstream-tenant'] = call.tenant;
    const response = await fetch(url, {
      method: call.method,
      headers,
      body: call.body === undefined ? undefined : JSON.stringify(call.body),
      signal: controller.signal,
    });
    const text = await response.text();
    if (!response.ok) {
      let reason = `HTTP ${response.status}`;
      try {
        const error = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
        if (error) reason += ` ${error.code ?? ''}: ${error.message ?? ''}`;
      } catch {
        reason += `: ${text.slice(0, 200)}`;
      }
      throw shardFailed(call.shard, reason);
    }
    return text;
  } catch (error) {
    if (querySignal.aborted) throw querySignal.reason;
    if (controller.signal.reason === SHARD_DEADLINE)
      throw new QueryError(
        ErrorCode.ShardTimeout,
        `storage shard ${call.shard} did not answer within ${timeoutMs} ms`,
        {
          shard: call.shard,
        },
      );
    if (error instanceof QueryError) throw error;
    throw shardFailed(call.shard, (error as Error).cause ? String((error as Error).cause) : (error as Error).message);
  } finally {
    clearTimeout(deadline);
    querySignal.removeEventListener('abort', forwardAbort);
  }
}

const shardFailed = (shard: string, reason: string) =>
  new QueryError(ErrorCode.ShardFailed, `storage shard ${shard} failed: ${reason}`, { shard });

/** A shard's 200 body that is not JSON is the shard's failure, not ours. */
export function parseShardJson(shard: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw shardFailed(shard, `answered invalid JSON: ${(error as Error).message}`);
  }
}

export const isShardError = (error: unknown): error is QueryError =>
  error instanceof QueryError && (error.code === ErrorCode.ShardFailed || error.code === ErrorCode.ShardTimeout);
