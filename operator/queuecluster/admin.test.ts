import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpQueueAdmin } from './admin';

/** The admin client against a scripted queue on loopback: what it sends, in order, for each action. */
async function scriptedQueue(transferAnswer: object) {
  const calls: string[] = [];
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      calls.push(`${req.method} ${req.url} ${Buffer.concat(parts).toString()}`.trim());
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(req.url === '/v1/cluster/transfer-leadership' ? transferAnswer : { ok: true }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { calls, url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('httpQueueAdmin', () => {
  test('a removal hands leadership over once more right before the DELETE', async () => {
    const queue = await scriptedQueue({ from: 'q-4', remaining: 0 });
    try {
      await httpQueueAdmin().perform(queue.url, { kind: 'removeMember', id: 'q-4' });
      expect(queue.calls).toEqual([
        'POST /v1/cluster/transfer-leadership {"from":"q-4"}',
        'DELETE /v1/cluster/members/q-4',
      ]);
    } finally {
      await queue.close();
    }
  });

  test('a peer that still leads after the hand-over is not removed', async () => {
    const queue = await scriptedQueue({ from: 'q-4', remaining: 2 });
    try {
      await expect(httpQueueAdmin().perform(queue.url, { kind: 'removeMember', id: 'q-4' })).rejects.toThrow(
        'q-4 still leads 2 partitions after handing them over; its removal waits',
      );
      expect(queue.calls).toEqual(['POST /v1/cluster/transfer-leadership {"from":"q-4"}']);
    } finally {
      await queue.close();
    }
  });
});
