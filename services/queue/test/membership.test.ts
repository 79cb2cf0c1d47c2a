import fs from 'node:fs';
import path from 'node:path';
import { freePort, sleep, startService, waitFor, type ManagedProcess } from '../../kit/testing/processes';
import { FAST_RAFT, getJson, postJson, readPartition, temporaryDirectory, type Message } from './helpers';

/**
 * Scaling a running cluster 3 → 5 → 3 the way the operator does, with real processes and a producer running
 * throughout: the new peers start with `--peers` listing all five (the StatefulSet's ConfigMap), wait as non-members,
 * are added one at a time (once through the new peer itself, as the client Service may route it), catch up from
 * segment files the leaders' retention already trimmed, then have leadership moved off them and are removed. No
 * acknowledged record is lost, offsets stay contiguous, every peer holds the same records at the same offsets, and
 * consumer offsets (whose partition is compacted behind checkpoints) read the same everywhere.
 */
interface ClusterView {
  peers: Array<{ id: string; url: string; reachable: boolean }>;
  partitions: Array<{
    topic: string;
    partition: number;
    leader: string | null;
    commit_index: number;
    members: string[];
  }>;
}

interface Peer {
  id: string;
  port: number;
  url: string;
  process?: ManagedProcess;
}

const PARTITIONS = 12;
const ARGS = [
  ...FAST_RAFT,
  '--segment-bytes',
  '4096',
  '--retention-bytes',
  '8192',
  '--retention-check-interval',
  '200ms',
  '--request-timeout',
  '4s',
];

const send = async (method: string, url: string, body?: unknown) => {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};
/** As the operator calls: a 503 (no leader yet, deadline passed) is retried after `Retry-After`. */
const asOperator = (method: string, url: string, body?: unknown) =>
  waitFor(
    async () => {
      const answer = await send(method, url, body);
      if (answer.status !== 503) return answer;
      expect(errorCode(answer.body)).toBe('no_quorum');
      return undefined;
    },
    30_000,
    `${method} ${url} to be answered`,
  );
const errorCode = (body: Record<string, unknown>) => (body.error as { code?: string } | undefined)?.code;

describe('queue, membership changes with real processes', () => {
  let root: string;
  let peers: Peer[];

  const start = async (peer: Peer, peerCount: number) => {
    const list = peers
      .slice(0, peerCount)
      .map((other) => `${other.id}=${other.url}`)
      .join(',');
    peer.process = await startService('queue', peer.port, [
      '--node-id',
      peer.id,
      '--peers',
      list,
      '--data-dir',
      path.join(root, peer.id),
      ...ARGS,
    ]);
  };
  const kill = async (peer: Peer) => {
    await peer.process?.kill9();
    peer.process = undefined;
  };
  const view = (peer: Peer) => getJson<ClusterView>(`${peer.url}/cluster`);

  beforeAll(async () => {
    root = temporaryDirectory('queue-membership-');
    const ports = await Promise.all(Array.from({ length: 5 }, () => freePort()));
    peers = ports.map((port, number) => ({ id: `q${number}`, port, url: `http://127.0.0.1:${port}` }));
    await Promise.all(peers.slice(0, 3).map((peer) => start(peer, 3)));
    await Promise.all(
      peers
        .slice(0, 3)
        .map((peer) =>
          waitFor(async () => (await fetch(`${peer.url}/readyz`)).ok || undefined, 20_000, `${peer.id} ready`),
        ),
    );
  }, 40_000);

  afterAll(async () => {
    await Promise.all(peers.map((peer) => kill(peer)));
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('scales 3 → 5 → 3 under load without losing an acknowledged record', async () => {
    const [q0, q1, q2, q3, q4] = peers;
    const acknowledged = new Map<string, { partition: number; offset: number }>();
    let targets = [q0, q1, q2];
    let isProducing = true;
    let sequence = 0;
    const producer = async () => {
      while (isProducing) {
        const ids = Array.from({ length: 40 }, () => `m${sequence++}`);
        const target = targets[sequence % targets.length];
        try {
          const response = await fetch(`${target.url}/v1/produce`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ records: ids.map((id) => ({ key: id, value: { id, pad: 'x'.repeat(300) } })) }),
            signal: AbortSignal.timeout(6_000),
          });
          const body = (await response.json()) as { results?: Array<{ partition: number; offset: number }> };
          if (response.status === 200) ids.forEach((id, index) => acknowledged.set(id, body.results![index]));
          else expect(response.status).toBe(503);
        } catch {
          // a lost answer: those records stay unacknowledged
          await sleep(20);
        }
      }
    };
    const running = Promise.all([producer(), producer()]);
    try {
      await scaleOutAndIn();
    } catch (error) {
      const views = await Promise.all(peers.map((peer) => view(peer).catch(() => undefined)));
      const table = views.map(
        (each, number) =>
          `${peers[number].id}: ${each?.partitions.map((item) => `${item.partition}:${item.leader}:${item.members.length}@${item.commit_index}`).join(' ')}`,
      );
      const logs = peers.map((peer) => `--- ${peer.id}\n${peer.process?.output.join('').slice(-4000)}`);
      throw new Error(`${(error as Error).message}\n${table.join('\n')}\n${logs.join('\n')}`);
    } finally {
      isProducing = false;
      await running;
    }
    await checkEverythingKept();

    async function scaleOutAndIn(): Promise<void> {
      // Consumer offsets committed often enough that their partition is compacted before the new peers join.
      for (let round = 0; round < 120; round += 10) {
        const answers = await Promise.all(
          Array.from({ length: 10 }, (_, step) =>
            send('POST', `${peers[step % 3].url}/commit`, {
              group: `g${(round + step) % 3}`,
              topic: 'metrics.inbound',
              partition: (round + step) % PARTITIONS,
              offset: round + step,
            }),
          ),
        );
        for (const answer of answers) expect([answer.status, answer.body]).toEqual([200, { ok: true }]);
      }
      await waitFor(() => acknowledged.size > 600 || undefined, 20_000, 'records before the scale-up');

      // The StatefulSet grows: both new pods start at once, listing all five peers.
      await Promise.all([start(q3, 5), start(q4, 5)]);
      for (const peer of [q3, q4]) {
        await waitFor(async () => (await fetch(`${peer.url}/readyz`)).ok || undefined, 10_000, `${peer.id} ready`);
        const waiting = await view(peer);
        for (const item of waiting.partitions) expect(item.members).toEqual(['q0', 'q1', 'q2']);
      }
      const metrics = await (await fetch(`${q3.url}/metrics`)).text();
      // Waiting to be added, it has not campaigned nor sent a single Raft message.
      expect(metrics).toMatch(/^queue_raft_elections_total\{[^}]*\} 0$/m);
      expect(metrics).toMatch(/^queue_peer_messages_total\{[^}]*\} 0$/m);

      // Added one at a time; the first call reaches the new peer itself; every call is repeated (operator retries).
      for (const [peer, via] of [
        [q3, q3],
        [q4, q0],
      ] as const) {
        for (let attempt = 0; attempt < 2; attempt++) {
          const added = await asOperator('POST', `${via.url}/v1/cluster/members`, { id: peer.id, url: peer.url });
          expect(added).toEqual({ status: 200, body: { id: peer.id, partitions: PARTITIONS + 1 } });
        }
      }
      targets = peers;
      // Committed on a majority at once; a peer still catching up reports the change once it appended it.
      await waitFor(
        async () => {
          const views = await Promise.all(peers.map(view));
          return (
            views.every((each) => each.partitions.every((item) => item.members.join() === 'q0,q1,q2,q3,q4')) ||
            undefined
          );
        },
        10_000,
        'every peer to report five members',
      );

      // The new peers catch up; each then holds exactly what q0 holds, where both still retain it.
      await waitFor(
        async () => {
          const [reference, ...others] = await Promise.all([q0, q3, q4].map(view));
          return (
            others.every((other) =>
              other.partitions.every((item, index) => item.commit_index >= reference.partitions[index].commit_index),
            ) || undefined
          );
        },
        20_000,
        'new peers to catch up',
      );
      let isTrimmedBeforeJoin = false;
      let compared = 0;
      for (let partition = 0; partition < PARTITIONS; partition++) {
        const [reference, ...joined] = await Promise.all(
          [q0, q3, q4].map((peer) => readPartition(peer.url, partition)),
        );
        for (const messages of joined) {
          // A log caught up from a leader whose retention had just trimmed may hold no record yet.
          if (messages.length > 0 && messages[0].offset > 0) isTrimmedBeforeJoin = true;
          if (messages.length > 0) compared++;
          expectSameWhereBothRetain(reference, messages);
        }
      }
      expect(isTrimmedBeforeJoin).toBe(true);
      expect(compared).toBeGreaterThan(PARTITIONS);
      for (const peer of [q3, q4])
        expect(await getJson(`${peer.url}/offsets?group=g1&topic=metrics.inbound&local=1`)).toEqual(
          await getJson(`${q0.url}/offsets?group=g1&topic=metrics.inbound&local=1`),
        );

      // Scale-down: leadership off the departing peer, then remove it (both repeated), highest first.
      for (const peer of [q4, q3]) {
        for (let attempt = 0; attempt < 2; attempt++) {
          const moved = await asOperator('POST', `${q1.url}/v1/cluster/transfer-leadership`, { from: peer.id });
          expect(moved).toEqual({ status: 200, body: { from: peer.id, remaining: 0 } });
        }
        await waitFor(
          async () => {
            const views = await Promise.all([q0, q1, q2].map(view));
            return views.every((each) => each.partitions.every((item) => item.leader !== peer.id)) || undefined;
          },
          3_000,
          `no partition led by ${peer.id}`,
        );
        targets = targets.filter((target) => target !== peer);
        for (let attempt = 0; attempt < 2; attempt++) {
          const removed = await asOperator('DELETE', `${q2.url}/v1/cluster/members/${peer.id}`);
          expect(removed).toEqual({ status: 200, body: { id: peer.id, partitions: PARTITIONS + 1 } });
        }
      }
      // A removed peer learns of its removal and reports the current members.
      await waitFor(
        async () => (await view(q4)).partitions.every((item) => item.members.join() === 'q0,q1,q2') || undefined,
        5_000,
        'q4 to report the remaining members',
      );
      await Promise.all([kill(q3), kill(q4)]);
      const before = acknowledged.size;
      await waitFor(() => acknowledged.size > before + 400 || undefined, 15_000, 'records after the scale-down');
    }

    async function checkEverythingKept(): Promise<void> {
      let views: ClusterView[] = [];
      await waitFor(
        async () => {
          views = await Promise.all([q0, q1, q2].map(view));
          return (
            views.every((each) =>
              each.partitions.every(
                (item, index) =>
                  item.members.join() === 'q0,q1,q2' &&
                  item.leader !== null &&
                  views.every((other) => other.partitions[index].commit_index === item.commit_index),
              ),
            ) || undefined
          );
        },
        15_000,
        'the three remaining peers to agree',
      );
      const logs = await Promise.all(
        [q0, q1, q2].map((peer) =>
          Promise.all(Array.from({ length: PARTITIONS }, (_, partition) => readPartition(peer.url, partition))),
        ),
      );
      const positions = new Map<string, { partition: number; offset: number }>();
      for (const peerLogs of logs)
        for (const [partition, messages] of peerLogs.entries()) {
          const first = messages[0]?.offset ?? 0;
          expect(messages.map((message) => message.offset)).toEqual(messages.map((_message, index) => first + index));
          expectSameWhereBothRetain(logs[0][partition], messages);
          for (const message of messages)
            positions.set((message.value as { id: string }).id, { partition, offset: message.offset });
        }
      let checked = 0;
      for (const [id, position] of acknowledged) {
        const earliest = Math.max(...logs.map((peerLogs) => peerLogs[position.partition][0]?.offset ?? 0));
        if (position.offset < earliest) continue;
        expect([id, positions.get(id)]).toEqual([id, position]);
        checked++;
      }
      expect(checked).toBeGreaterThan(100);
      const offsets = await Promise.all(
        [q0, q1, q2].map((peer) => getJson(`${peer.url}/offsets?group=g2&topic=metrics.inbound&local=1`)),
      );
      expect(offsets[1]).toEqual(offsets[0]);
      expect(offsets[2]).toEqual(offsets[0]);
      expect(Object.keys((offsets[0] as { offsets: object }).offsets)).toHaveLength(PARTITIONS / 3);
      // Commits kept flowing into 4 KiB segments; the checkpoints keep the partition to a few of them.
      for (const peer of [q0, q1, q2]) {
        const directory = path.join(root, peer.id, '__consumer_offsets', '0');
        const bytes = fs
          .readdirSync(directory)
          .filter((name) => name.endsWith('.log'))
          .reduce((total, name) => total + fs.statSync(path.join(directory, name)).size, 0);
        expect(bytes).toBeLessThan(3 * 4096);
      }
    }
  }, 120_000);

  it('answers bad requests with clear codes', async () => {
    const [q0, q1] = peers;
    expect(await send('DELETE', `${q0.url}/v1/cluster/members/nobody`)).toMatchObject({ status: 404 });
    expect(errorCode((await send('DELETE', `${q0.url}/v1/cluster/members/nobody`)).body)).toBe('unknown_peer');
    const transfer = await send('POST', `${q1.url}/v1/cluster/transfer-leadership`, { from: 'nobody' });
    expect([transfer.status, errorCode(transfer.body)]).toEqual([404, 'unknown_peer']);
    for (const body of [{}, { id: 'q9' }, { id: 'bad id', url: 'http://127.0.0.1:1' }, { id: 'q9', url: 'ftp://x' }]) {
      const answer = await send('POST', `${q0.url}/v1/cluster/members`, body);
      expect([answer.status, errorCode(answer.body)]).toEqual([400, 'invalid_request']);
    }
    const notJson = await send('POST', `${q0.url}/v1/cluster/members`, '{"id":');
    expect([notJson.status, errorCode(notJson.body)]).toEqual([400, 'invalid_json']);
    const badTransfer = await send('POST', `${q0.url}/v1/cluster/transfer-leadership`, { from: 3 });
    expect([badTransfer.status, errorCode(badTransfer.body)]).toEqual([400, 'invalid_request']);
    const nobodyThere = await send('POST', `${q0.url}/v1/cluster/members`, {
      id: 'q9',
      url: `http://127.0.0.1:${await freePort()}`,
    });
    expect([nobodyThere.status, errorCode(nobodyThere.body)]).toEqual([503, 'peer_unreachable']);
  });

  it('moves leadership off a peer on request', async () => {
    const [q0, q1, q2] = peers;
    const moved = await send('POST', `${q2.url}/v1/cluster/transfer-leadership`, { from: 'q0' });
    expect(moved).toEqual({ status: 200, body: { from: 'q0', remaining: 0 } });
    await waitFor(
      async () => {
        const views = await Promise.all([q0, q1, q2].map(view));
        return views.every((each) => each.partitions.every((item) => item.leader !== 'q0')) || undefined;
      },
      3_000,
      'no partition led by q0',
    );
    const produced = await postJson(`${q0.url}/produce`, { key: 'after-transfer', value: 1 });
    expect(produced.status).toBe(200);
  });

  it('refuses a removal that would leave no reachable majority', async () => {
    const [q0, q1, q2] = peers;
    await kill(q2);
    // Reachability comes from Raft traffic, so only a leader (which heartbeats q2) is sure to notice; the check runs
    // on each partition's leader, so those are the views that must have seen q2 down.
    await waitFor(
      async () => {
        const views = new Map([
          ['q0', await view(q0)],
          ['q1', await view(q1)],
        ]);
        const leaders = new Set(views.get('q1')!.partitions.map((item) => item.leader));
        return (
          [...leaders].every(
            (leader) => views.get(leader ?? '')?.peers.find((peer) => peer.id === 'q2')?.reachable === false,
          ) || undefined
        );
      },
      10_000,
      'the leaders to see q2 down',
    );
    // Without q1, the remaining q0 and q2 need both, and q2 is down.
    const refused = await waitFor(
      async () => {
        const answer = await send('DELETE', `${q0.url}/v1/cluster/members/q1`);
        return answer.status === 409 ? answer : undefined;
      },
      10_000,
      'the removal to be refused',
    );
    expect(errorCode(refused.body)).toBe('quorum_at_risk');
    for (const item of (await view(q1)).partitions) expect(item.members).toEqual(['q0', 'q1', 'q2']);
  });

  it('refuses to remove the last member of a single-peer queue', async () => {
    const port = await freePort();
    const alone = await startService('queue', port, ['--node-id', 'solo', '--data-dir', path.join(root, 'solo')]);
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitFor(async () => (await fetch(`${url}/readyz`)).ok || undefined, 10_000, 'solo ready');
      const answer = await send('DELETE', `${url}/v1/cluster/members/solo`);
      expect([answer.status, errorCode(answer.body)]).toEqual([400, 'invalid_config_change']);
    } finally {
      await alone.kill9();
    }
  });
});

/** Where both logs still retain an offset, they hold the same record there. */
function expectSameWhereBothRetain(reference: Message[], other: Message[]): void {
  if (reference.length === 0 || other.length === 0) return;
  const from = Math.max(reference[0].offset, other[0].offset);
  const to = Math.min(reference.at(-1)!.offset, other.at(-1)!.offset);
  const slice = (messages: Message[]) => messages.filter((message) => message.offset >= from && message.offset <= to);
  expect(slice(other)).toEqual(slice(reference));
}
