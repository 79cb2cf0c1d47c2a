import http from 'node:http';
import type net from 'node:net';
import type { Logger } from '../../kit/logger';
import type { Message } from '../raft/types';
import type { QueueMetrics } from './metrics';
import type { PeerInfo } from './replication';
import {
  decodeAck,
  encodeFrame,
  FrameError,
  FrameKind,
  FrameReader,
  STREAM_PATH,
  STREAM_PROTOCOL,
} from './stream-frames';
import { encodeBatch, type GroupMessage } from './wire';

/**
 * Raft messages to other peers: one ordered stream per peer (a TCP connection opened by an HTTP upgrade on the peer's
 * API port, see stream-frames.ts). Every group's messages to a peer produced during one turn of the event loop leave
 * in one frame, so heartbeats of all groups are coalesced and a busy stream batches by itself: while the socket needs
 * draining, messages wait and leave together. Nothing is retried here: when a stream fails, or stops acknowledging
 * frames for `timeoutMs`, the groups whose messages may be lost are told (the Raft core resends from its progress).
 */
const MAX_FRAME_PAYLOAD_BYTES = 4 * 1024 * 1024;
/** After a failed connection, messages to that peer are dropped (and reported) for this long before trying again. */
const RECONNECT_DELAY_MS = 100;
const LIVENESS_CHECK_MS = 250;

interface SentFrame {
  sentAt: number;
  groups: ReadonlySet<string>;
}

interface Link {
  state: 'connecting' | 'open';
  request: http.ClientRequest;
  socket: net.Socket | undefined;
  /** Frames written and not yet acknowledged, oldest first. */
  unacknowledged: SentFrame[];
  /** The receiver's last count of frames taken (modulo 2^32). */
  acknowledged: number;
  reader: FrameReader;
}

export class PeerTransport {
  private readonly outboxes = new Map<string, GroupMessage[]>();
  private readonly links = new Map<string, Link>();
  private readonly retryAt = new Map<string, number>();
  private readonly reachable = new Map<string, boolean>();
  private readonly livenessTimer: NodeJS.Timeout;
  private isFlushScheduled = false;
  private isClosed = false;

  constructor(
    private readonly selfId: string,
    private readonly selfUrl: string,
    private readonly urls: Map<string, string>,
    private readonly onUnreachable: (peer: string, groups: ReadonlySet<string>) => void,
    private readonly metrics: QueueMetrics,
    private readonly logger: Logger,
    private readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.livenessTimer = setInterval(() => this.failStalledLinks(), LIVENESS_CHECK_MS);
    this.livenessTimer.unref();
  }

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

  /** The operator named this peer's URL (a member added at run time): a stream to the old address is closed. */
  setUrl(id: string, url: string): void {
    if (id === this.selfId || this.urls.get(id) === url) return;
    this.urls.set(id, url);
    const link = this.links.get(id);
    if (link) this.fail(id, link, new Error(`peer ${id} moved to ${url}`));
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
    clearInterval(this.livenessTimer);
    this.outboxes.clear();
    for (const link of this.links.values()) destroyLink(link);
    this.links.clear();
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
    const outbox = this.outboxes.get(peer);
    if (this.isClosed || !outbox || outbox.length === 0) return;
    const link = this.links.get(peer);
    if (!link) {
      const url = this.urls.get(peer);
      if (url && (this.retryAt.get(peer) ?? 0) <= this.now()) this.connect(peer, url);
      else this.dropOutbox(peer);
      return;
    }
    const socket = link.socket;
    if (link.state !== 'open' || !socket || socket.writableNeedDrain) return;
    socket.cork();
    while (outbox.length > 0) this.writeFrame(link, socket, takeFrame(outbox));
    process.nextTick(() => socket.uncork());
  }

  private writeFrame(link: Link, socket: net.Socket, messages: GroupMessage[]): void {
    socket.write(encodeFrame(FrameKind.Batch, encodeBatch({ from: this.selfId, url: this.selfUrl, messages })));
    link.unacknowledged.push({ sentAt: this.now(), groups: new Set(messages.map((item) => item.group)) });
    this.metrics.peerFrames.inc();
    this.metrics.peerMessages.inc(messages.length);
  }

  private connect(peer: string, url: string): void {
    const request = http.request(`${url}${STREAM_PATH}`, {
      headers: { connection: 'Upgrade', upgrade: STREAM_PROTOCOL },
    });
    const link: Link = {
      state: 'connecting',
      request,
      socket: undefined,
      unacknowledged: [],
      acknowledged: 0,
      reader: new FrameReader(),
    };
    this.links.set(peer, link);
    const timer = setTimeout(
      () => this.fail(peer, link, new Error(`no stream upgrade within ${this.timeoutMs} ms`)),
      this.timeoutMs,
    );
    request.on('error', (error) => this.fail(peer, link, error));
    request.on('response', (response) => {
      response.resume();
      this.fail(peer, link, new Error(`peer answered ${response.statusCode} to the stream upgrade`));
    });
    request.on('upgrade', (_response, socket: net.Socket, head: Buffer) => {
      clearTimeout(timer);
      if (this.links.get(peer) !== link) {
        socket.destroy();
        return;
      }
      this.open(peer, link, socket, head);
    });
    request.on('close', () => clearTimeout(timer));
    request.end();
  }

  private open(peer: string, link: Link, socket: net.Socket, head: Buffer): void {
    link.state = 'open';
    link.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.readAcks(peer, link, chunk));
    socket.on('drain', () => this.flushPeer(peer));
    socket.on('error', (error) => this.fail(peer, link, error));
    socket.on('close', () => this.fail(peer, link, new Error('stream closed')));
    this.metrics.peerStreamsOpened.inc();
    this.retryAt.delete(peer);
    this.reachable.set(peer, true);
    if (head.length > 0) this.readAcks(peer, link, head);
    this.flushPeer(peer);
  }

  private readAcks(peer: string, link: Link, chunk: Buffer): void {
    try {
      for (const frame of link.reader.push(chunk)) {
        if (frame.kind !== FrameKind.Ack) throw new FrameError(`unexpected frame kind ${frame.kind} from the receiver`);
        const acknowledged = decodeAck(frame.payload);
        link.unacknowledged.splice(0, (acknowledged - link.acknowledged) >>> 0);
        link.acknowledged = acknowledged;
      }
    } catch (error) {
      this.fail(peer, link, error as Error);
      return;
    }
    this.reachable.set(peer, true);
  }

  /** A stream whose oldest frame went unacknowledged for `timeoutMs` is stuck (a stopped or cut-off peer). */
  private failStalledLinks(): void {
    const now = this.now();
    for (const [peer, link] of this.links) {
      const oldest = link.unacknowledged[0];
      if (oldest && now - oldest.sentAt > this.timeoutMs)
        this.fail(peer, link, new Error(`no acknowledgement within ${this.timeoutMs} ms`));
    }
  }

  /** Closes a failed stream once: the groups with messages in flight or waiting are told they may be lost. */
  private fail(peer: string, link: Link, error: Error): void {
    if (this.links.get(peer) !== link) return;
    this.links.delete(peer);
    destroyLink(link);
    if (this.isClosed) return;
    if (this.reachable.get(peer) !== false) this.logger.warn('peer unreachable', { peer, error: error.message });
    this.reachable.set(peer, false);
    this.retryAt.set(peer, this.now() + RECONNECT_DELAY_MS);
    const groups = new Set<string>();
    for (const frame of link.unacknowledged) for (const group of frame.groups) groups.add(group);
    for (const item of this.outboxes.get(peer) ?? []) groups.add(item.group);
    this.outboxes.delete(peer);
    if (groups.size > 0) this.onUnreachable(peer, groups);
  }

  /** No stream to the peer and none may be tried yet: what waits for it is reported lost, keeping memory bounded. */
  private dropOutbox(peer: string): void {
    const outbox = this.outboxes.get(peer) ?? [];
    this.outboxes.delete(peer);
    this.onUnreachable(peer, new Set(outbox.map((item) => item.group)));
  }
}

/** Takes the next frame's messages off the front of `outbox`: at least one, then up to the payload bound. */
function takeFrame(outbox: GroupMessage[]): GroupMessage[] {
  let bytes = 0;
  let count = 0;
  while (count < outbox.length && (count === 0 || bytes < MAX_FRAME_PAYLOAD_BYTES)) {
    const message = outbox[count].message;
    if (message.type === 'append') for (const entry of message.entries) bytes += entry.data.length;
    count++;
  }
  return outbox.splice(0, count);
}

function destroyLink(link: Link): void {
  link.socket?.destroy();
  link.request.destroy();
}
