import http from 'node:http';
import type net from 'node:net';
import prom from 'prom-client';
import { createLogger } from '../../kit/logger';
import { waitFor } from '../../kit/testing/processes';
import type { Message } from '../raft/types';
import { createQueueMetrics } from './metrics';
import { RaftStreamServer } from './stream-server';
import { PeerTransport } from './transport';
import type { MessageBatch } from './wire';

const logger = createLogger('queue-test', 'error');
const heartbeat = (to: string, commit: number): Message => ({ type: 'heartbeat', from: 'a', to, term: 1, commit });

async function listenOn(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

describe('PeerTransport over Raft streams', () => {
  const servers: http.Server[] = [];
  const transports: PeerTransport[] = [];
  afterEach(async () => {
    transports.splice(0).forEach((transport) => transport.close());
    await Promise.all(
      servers.splice(0).map((server) => {
        server.closeAllConnections();
        return new Promise((resolve) => server.close(resolve));
      }),
    );
  });

  function transportTo(url: string, timeoutMs = 2_000) {
    const unreachable: Array<{ peer: string; groups: string[] }> = [];
    const transport = new PeerTransport(
      'a',
      'http://a.invalid',
      new Map([['b', url]]),
      (peer, groups) => unreachable.push({ peer, groups: [...groups].sort() }),
      createQueueMetrics(new prom.Registry()),
      logger,
      timeoutMs,
    );
    transports.push(transport);
    return { transport, unreachable };
  }

  it('delivers every group message in order over one stream', async () => {
    const received: MessageBatch[] = [];
    const server = http.createServer((_request, response) => response.writeHead(404).end());
    servers.push(server);
    const streams = new RaftStreamServer((batch) => received.push(batch), logger);
    streams.attach(server);
    const { transport, unreachable } = transportTo(await listenOn(server));
    for (let commit = 0; commit < 50; commit++) transport.send(`group-${commit % 3}`, heartbeat('b', commit));
    await waitFor(() => received.flatMap((batch) => batch.messages).length === 50 || undefined, 5_000, 'delivery');
    const messages = received.flatMap((batch) => batch.messages);
    expect(messages.map((item) => (item.message as { commit: number }).commit)).toEqual([...Array(50).keys()]);
    expect(messages[4].group).toBe('group-1');
    expect(received.every((batch) => batch.from === 'a')).toBe(true);
    await waitFor(() => transport.isReachable('b') || undefined, 5_000, 'reachable');
    expect(unreachable).toEqual([]);
    streams.close();
  });

  it('reports the groups of a stream that stops acknowledging', async () => {
    const server = http.createServer();
    servers.push(server);
    server.on('upgrade', (_request, socket: net.Socket) => {
      socket.on('end', () => socket.destroy());
      socket.write('HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: metricstream-raft/1\r\n\r\n');
      socket.resume();
    });
    const { transport, unreachable } = transportTo(await listenOn(server), 200);
    transport.send('group-1', heartbeat('b', 1));
    transport.send('group-2', heartbeat('b', 2));
    await waitFor(() => unreachable.length > 0 || undefined, 5_000, 'stall noticed');
    expect(unreachable[0]).toEqual({ peer: 'b', groups: ['group-1', 'group-2'] });
    expect(transport.isReachable('b')).toBe(false);
  });

  it('reports the groups waiting for a peer that refuses the upgrade', async () => {
    const server = http.createServer((_request, response) => response.writeHead(404).end());
    servers.push(server);
    const { transport, unreachable } = transportTo(await listenOn(server));
    transport.send('group-7', heartbeat('b', 1));
    await waitFor(() => unreachable.length > 0 || undefined, 5_000, 'refusal noticed');
    expect(unreachable[0]).toEqual({ peer: 'b', groups: ['group-7'] });
  });
});
