import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, startService, waitFor, type ManagedProcess } from '../../kit/testing/processes';

/** A TCP proxy in front of one peer, for one direction of one peer pair; `cut()` partitions it away. */
export class TcpProxy {
  private readonly sockets = new Set<net.Socket>();
  private isCut = false;
  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<TcpProxy> {
    const port = await freePort();
    const holder: { proxy?: TcpProxy } = {};
    const server = net.createServer((client) => {
      const proxy = holder.proxy;
      if (!proxy || proxy.isCut) {
        client.destroy();
        return;
      }
      const upstream = net.connect(targetPort, '127.0.0.1');
      for (const socket of [client, upstream]) {
        proxy.sockets.add(socket);
        socket.on('close', () => proxy.sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    holder.proxy = new TcpProxy(server, port);
    return holder.proxy;
  }

  cut(): void {
    this.isCut = true;
    for (const socket of this.sockets) socket.destroy();
  }

  heal(): void {
    this.isCut = false;
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

export interface Peer {
  id: string;
  port: number;
  url: string;
  dataDir: string;
  process: ManagedProcess | undefined;
  args: string[];
}

export const FAST_RAFT = ['--tick-ms', '20', '--election-ticks', '10', '--heartbeat-ticks', '2'];

export function temporaryDirectory(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Three peers on loopback; peer i reaches peer j through its own proxy, so any peer can be cut off. */
export class Cluster {
  readonly proxies = new Map<string, TcpProxy>();

  private constructor(readonly peers: Peer[]) {}

  static async start(count: number, root: string, extraArgs: string[] = []): Promise<Cluster> {
    const ids = Array.from({ length: count }, (_, number) => `q${number}`);
    const ports = await Promise.all(ids.map(() => freePort()));
    const proxies = new Map<string, TcpProxy>();
    for (const from of ids.keys())
      for (const to of ids.keys())
        if (from !== to) proxies.set(`${ids[from]}>${ids[to]}`, await TcpProxy.start(ports[to]));
    const peers: Peer[] = ids.map((id, number) => {
      const peerList = ids
        .map((other) =>
          other === id
            ? `${id}=http://127.0.0.1:${ports[number]}`
            : `${other}=http://127.0.0.1:${proxies.get(`${id}>${other}`)!.port}`,
        )
        .join(',');
      return {
        id,
        port: ports[number],
        url: `http://127.0.0.1:${ports[number]}`,
        dataDir: path.join(root, id),
        process: undefined,
        args: ['--node-id', id, '--peers', peerList, '--data-dir', path.join(root, id), ...FAST_RAFT, ...extraArgs],
      };
    });
    const cluster = new Cluster(peers);
    Object.assign(cluster, { proxies });
    for (const [key, proxy] of proxies) cluster.proxies.set(key, proxy);
    await Promise.all(peers.map((peer) => cluster.startPeer(peer)));
    return cluster;
  }

  async startPeer(peer: Peer): Promise<void> {
    peer.process = await startService('queue', peer.port, peer.args);
  }

  async kill9(peer: Peer): Promise<void> {
    await peer.process?.kill9();
    peer.process = undefined;
  }

  isolate(peer: Peer): void {
    for (const [key, proxy] of this.proxies) if (key.split('>').includes(peer.id)) proxy.cut();
  }

  heal(): void {
    for (const proxy of this.proxies.values()) proxy.heal();
  }

  async stop(): Promise<void> {
    await Promise.all(this.peers.map((peer) => peer.process?.kill9()));
    await Promise.all([...this.proxies.values()].map((proxy) => proxy.close()));
  }

  async waitReady(peers = this.peers, timeoutMs = 20_000): Promise<void> {
    await Promise.all(
      peers.map((peer) =>
        waitFor(async () => (await fetch(`${peer.url}/readyz`)).ok || undefined, timeoutMs, `${peer.id} ready`),
      ),
    );
  }
}

export async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

export async function postJson(
  url: string,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
    headers: response.headers,
  };
}

export interface Message {
  offset: number;
  key: string;
  value: unknown;
  timestamp: number;
}

/** Every retained committed message of one partition on one peer (served from that peer's own log). */
export async function readPartition(url: string, partition: number, topic = 'metrics.inbound'): Promise<Message[]> {
  const messages: Message[] = [];
  for (let offset = 0; ;) {
    const response = await fetch(
      `${url}/consume?topic=${topic}&partition=${partition}&offset=${offset}&count=10000&local=1`,
    );
    if (response.status === 400 && messages.length === 0) {
      offset = ((await response.json()) as { error: { earliest_offset: number } }).error.earliest_offset;
      continue;
    }
    if (!response.ok) throw new Error(`consume answered ${response.status}: ${await response.text()}`);
    const page = (await response.json()) as { messages: Message[]; next_offset: number };
    messages.push(...page.messages);
    if (page.messages.length === 0) return messages;
    offset = page.next_offset;
  }
}
