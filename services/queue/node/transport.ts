import http from 'node:http';
import type { Logger } from '../../kit/logger';
import type { Message } from '../raft/types';
import type { QueueMetrics } from './metrics';
import type { PeerInfo } from './replication';
import { postToPeer } from './peer-request';
import { encodeBatch, type GroupMessage } from './wire';

/**
 * Raft messages between peers: every group's messages to one peer leave together, one HTTP request (keep-alive,
 * node:http) per flush, at most MAX_REQUESTS_IN_FLIGHT per peer; whatever is produced meanwhile rides in the next
 * one. Heartbeats of all groups to a peer are thus coalesced. A failed request is reported to each group that had
 * messages in it (the Raft core retransmits); no message is retried here.
 */
const MAX_BATCH_BYTES = 4 * 1024 * 1024;
/**
 * Requests in flight to one peer, each on its own kept-alive connection. With one, every message waited for the
 * previous request's round trip, which under load cost more than the fdatasync a commit needs; two let messages
 * leave at once while still batching up behind a busy peer. Two requests may arrive out of order, which Raft
 * tolerates (a stale or early append is ignored or rejected and resent from the follower's progress).
 */
const MAX_REQUESTS_IN_FLIGHT = 2;

export class PeerTransport {
  private readonly outboxes = new Map<string, GroupMessage[]>();
  /** Requests in flight to each peer. */
  private readonly inFlight = new Map<string, number>();
  private readonly reachable = new Map<string, boolean>();
  private isFlushScheduled = false;
  private isClosed = false;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: MAX_REQUESTS_IN_FLIGHT });

  constructor(
    private readonly selfId: string,
    private readonly selfUrl: string,
    private readonly urls: Map<string, string>,
    private readonly onUnreachable: (peer: string, groups: ReadonlySet<string>) => void,
    private readonly metrics: QueueMetrics,
    private readonly logger: Logger,
    private readonly timeoutMs: number,
  ) {}

  send(group: string, message: Message): void {
    const outbox = this.outboxes.get(message.to);
    if (outbox) outbox.push({ group, message });
    else this.outboxes.set(message.to, [{ group, message }]);
    this.scheduleFlush();
  }

  /** A peer heard from for the first time (one the operator added); configured URLs are kept as they are. */
  learnUrl(id: string, url: string): void {
    if (id !== this.selfId && !this.urls.has(id)) this.urls.set(id, url);
  }

  /** The operator named this peer's URL (a member added at run time). */
  setUrl(id: string, url: string): void {
    if (id !== this.selfId) this.urls.set(id, url);
  }

  markReachable(id: string): void {
    this.reachable.set(id, true);
  }

  urlOf(id: string): string | undefined {
    return id === this.selfId ? this.selfUrl : this.urls.get(id);
  }

  isReachable(id: string): boolean {
    return id === this.selfId || this.reachable.get(id) === true;
  }

  knownUrls(): Map<string, string> {
    return new Map([...this.urls, [this.selfId, this.selfUrl]]);
  }

  peers(): PeerInfo[] {
    return [...this.knownUrls()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([id, url]) => ({ id, url, reachable: this.isReachable(id) }));
  }

  close(): void {
    this.isClosed = true;
    this.outboxes.clear();
    this.agent.destroy();
  }

  private scheduleFlush(): void {
    if (this.isFlushScheduled || this.isClosed) return;
    this.isFlushScheduled = true;
    setImmediate(() => {
      this.isFlushScheduled = false;
      for (const peer of this.outboxes.keys()) this.flushPeer(peer);
    });
  }

  private flushPeer(peer: string): void {
    const requestsInFlight = this.inFlight.get(peer) ?? 0;
    if (requestsInFlight >= MAX_REQUESTS_IN_FLIGHT || this.isClosed) return;
    const outbox = this.outboxes.get(peer);
    if (!outbox || outbox.length === 0) return;
    const url = this.urls.get(peer);
    if (!url) {
      this.outboxes.delete(peer);
      this.onUnreachable(peer, new Set(outbox.map((item) => item.group)));
      return;
    }
    let bytes = 0;
    let count = 0;
    while (count < outbox.length && (count === 0 || bytes < MAX_BATCH_BYTES)) {
      const message = outbox[count].message;
      if (message.type === 'append') for (const entry of message.entries) bytes += entry.data.length;
      count++;
    }
    const messages = outbox.splice(0, count);
    const body = encodeBatch({ from: this.selfId, url: this.selfUrl, messages });
    this.inFlight.set(peer, requestsInFlight + 1);
    this.metrics.peerRequests.inc();
    this.metrics.peerMessages.inc(messages.length);
    this.post(`${url}/v1/internal/raft`, body)
      .then(() => this.reachable.set(peer, true))
      .catch((error: unknown) => {
        if (this.reachable.get(peer) !== false)
          this.logger.warn('peer unreachable', { peer, error: (error as Error).message });
        this.reachable.set(peer, false);
        // Drop what queued up meanwhile too: the cores resend from their progress, and memory stays bounded.
        const dropped = [...messages, ...(this.outboxes.get(peer) ?? [])];
        this.outboxes.delete(peer);
        this.onUnreachable(peer, new Set(dropped.map((item) => item.group)));
      })
      .finally(() => {
        this.inFlight.set(peer, (this.inFlight.get(peer) ?? 1) - 1);
        if ((this.outboxes.get(peer)?.length ?? 0) > 0) this.scheduleFlush();
      });
  }

  /** Resolves once the peer answered 2xx. */
  private async post(url: string, body: Buffer): Promise<void> {
    const answer = await postToPeer(this.agent, url, body, 'application/octet-stream', this.timeoutMs);
    if (answer.status < 200 || answer.status >= 300) throw new Error(`peer answered ${answer.status}`);
  }
}
