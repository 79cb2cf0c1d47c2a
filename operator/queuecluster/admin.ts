import type { AdminAction } from './plan';
import type { ClusterView } from './types';

/** The queue's admin API (docs/CONTRACTS.md, "Admin (operator)"). */
export interface QueueAdmin {
  cluster(baseUrl: string): Promise<ClusterView>;
  perform(baseUrl: string, action: AdminAction): Promise<void>;
}

export class QueueAdminError extends Error {
  override readonly name = 'QueueAdminError';

  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function call(url: string, init: RequestInit, timeoutMs: number): Promise<unknown> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  const text = await response.text();
  if (!response.ok)
    throw new QueueAdminError(
      response.status,
      `${init.method ?? 'GET'} ${url}: ${response.status} ${text.slice(0, 300)}`,
    );
  return text ? JSON.parse(text) : undefined;
}

export function httpQueueAdmin(timeoutMs = 5000): QueueAdmin {
  const json = (body: unknown): RequestInit => ({
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return {
    cluster: async (baseUrl) => (await call(`${baseUrl}/cluster`, { method: 'GET' }, timeoutMs)) as ClusterView,
    async perform(baseUrl, action) {
      switch (action.kind) {
        case 'addMember':
          await call(`${baseUrl}/v1/cluster/members`, json({ id: action.id, url: action.url }), timeoutMs);
          return;
        case 'removeMember': {
          // Leadership can come back to the peer after /cluster was read (an election, the queue's balancing): it is
          // handed over once more right before the removal, which also keeps the queue from giving it any again.
          const moved = (await call(
            `${baseUrl}/v1/cluster/transfer-leadership`,
            json({ from: action.id }),
            timeoutMs,
          )) as { remaining?: number } | undefined;
          if ((moved?.remaining ?? 0) > 0)
            throw new QueueAdminError(
              409,
              `${action.id} still leads ${moved?.remaining} partitions after handing them over; its removal waits`,
            );
          await call(`${baseUrl}/v1/cluster/members/${encodeURIComponent(action.id)}`, { method: 'DELETE' }, timeoutMs);
          return;
        }
        case 'transferLeadership':
          await call(`${baseUrl}/v1/cluster/transfer-leadership`, json({ from: action.from }), timeoutMs);
          return;
        default: {
          const exhaustive: never = action;
          return exhaustive;
        }
      }
    },
  };
}
