import fs from 'node:fs';
import { waitFor } from '../../kit/testing/processes';
import { Cluster, getJson, postJson, readPartition, temporaryDirectory } from './helpers';

/**
 * A follower that was down while retention deleted the segments it needs is caught up from the leader's segment
 * files, then replicates normally: its log starts where the leader's does and matches it record for record.
 */
interface ClusterView {
  partitions: Array<{ topic: string; partition: number; leader: string | null; commit_index: number }>;
}

describe('queue, catch-up from segment files', () => {
  let root: string;
  let cluster: Cluster;

  beforeAll(async () => {
    root = temporaryDirectory('queue-catch-up-');
    cluster = await Cluster.start(3, root, [
      '--topics',
      'events:1',
      '--segment-bytes',
      '4096',
      '--retention-bytes',
      '16384',
      '--retention-check-interval',
      '200ms',
    ]);
    await cluster.waitReady();
  }, 30_000);

  afterAll(async () => {
    await cluster?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  const eventsOf = (view: ClusterView) => view.partitions.find((item) => item.topic === 'events')!;

  it('streams the retained log to a follower the leader can no longer serve from entries', async () => {
    const first = cluster.peers[0];
    const leaderId = eventsOf(await getJson<ClusterView>(`${first.url}/cluster`)).leader;
    const follower = cluster.peers.find((peer) => peer.id !== leaderId)!;
    const leader = cluster.peers.find((peer) => peer.id === leaderId)!;
    await cluster.kill9(follower);

    for (let batch = 0; batch < 40; batch++) {
      const records = Array.from({ length: 20 }, (_, index) => ({
        key: 'k',
        value: { batch, index, pad: 'x'.repeat(40) },
      }));
      const answer = await postJson(`${leader.url}/v1/produce`, { topic: 'events', records });
      expect(answer.status).toBe(200);
    }
    const earliest = await waitFor(
      async () => {
        const answer = await fetch(`${leader.url}/consume?topic=events&partition=0&offset=0&local=1`);
        if (answer.status !== 400) return undefined;
        return ((await answer.json()) as { error: { code: string; earliest_offset: number } }).error;
      },
      10_000,
      'retention to delete old segments',
    );
    expect(earliest.code).toBe('offset_out_of_range');
    expect(earliest.earliest_offset).toBeGreaterThan(0);

    await cluster.startPeer(follower);
    await waitFor(
      async () => {
        const [leaderView, followerView] = await Promise.all([
          getJson<ClusterView>(`${leader.url}/cluster`),
          getJson<ClusterView>(`${follower.url}/cluster`),
        ]);
        return eventsOf(followerView).commit_index === eventsOf(leaderView).commit_index || undefined;
      },
      20_000,
      'the follower to catch up',
    );

    const after = await postJson(`${follower.url}/produce`, { topic: 'events', key: 'k', value: 'after catch-up' });
    expect(after.status).toBe(200);
    await waitFor(
      async () => {
        const [fromLeader, fromFollower] = await Promise.all([
          readPartition(leader.url, 0, 'events'),
          readPartition(follower.url, 0, 'events'),
        ]);
        if (fromFollower.at(-1)?.value !== 'after catch-up' || fromFollower.length === 0) return undefined;
        // The follower held none of these records before: its log now starts where the leader's retained log did.
        expect(fromFollower[0].offset).toBeGreaterThan(0);
        const start = Math.max(fromLeader[0].offset, fromFollower[0].offset);
        const common = (messages: typeof fromLeader) => messages.filter((message) => message.offset >= start);
        expect(common(fromFollower)).toEqual(common(fromLeader));
        expect(common(fromFollower).length).toBeGreaterThan(20);
        return true;
      },
      10_000,
      'the follower log to match the leader',
    );
  }, 60_000);
});
