import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import type { LogEntry } from './frame';
import { PeerWal } from './peer-wal';
import { encodeRecordBatch } from './record-batch';
import { SegmentLog } from './segment-log';

const directories: string[] = [];
const freshDirectory = () => {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'queue-wal-'));
  directories.push(directory);
  return directory;
};
afterAll(() => directories.forEach((directory) => fs.rmSync(directory, { recursive: true, force: true })));

const entry = (index: number, term: number, value = `v${index}.${term}`): LogEntry => ({
  index,
  term,
  kind: 'normal',
  data: encodeRecordBatch([{ key: 'k', value: Buffer.from(value), timestamp: index }]),
});
const range = (from: number, to: number, term: number) =>
  Array.from({ length: to - from + 1 }, (_, offset) => entry(from + offset, term));

/** Index, term and payload of every entry: what a replica must agree on. */
const contents = (log: SegmentLog) =>
  log.lastIndex() < log.firstIndex()
    ? []
    : log
        .entries(log.firstIndex(), log.lastIndex() + 1)
        .map(
          (stored) => `${stored.index}/${stored.term}/${stored.baseOffset}/${Buffer.from(stored.data).toString('hex')}`,
        );

/** A peer's disk: one partition log and the WAL, written the way RaftReplication writes them. */
class Peer {
  log: SegmentLog;
  wal: PeerWal;
  constructor(readonly root: string) {
    this.log = SegmentLog.open({ directory: path.join(root, 'p0'), segmentBytes: 4096 });
    this.wal = PeerWal.open(path.join(root, 'wal')).wal;
  }

  async write(entries: LogEntry[]): Promise<void> {
    this.log.append(entries);
    this.wal.append('p0', entries);
    await this.wal.sync();
  }

  /**
   * Power loss: the WAL survives as synced; the active segment (never synced: sealed ones were, at sealing) keeps
   * only `keepFraction` of its bytes.
   */
  crashLosingSegmentTails(keepFraction: number, syncedBytes = 0): Peer {
    this.log.closeNow();
    const file = this.activeSegment();
    if (file) {
      const size = fs.statSync(file).size;
      fs.truncateSync(file, syncedBytes + Math.floor((size - syncedBytes) * keepFraction));
    }
    return this.restart();
  }

  activeSegment(): string | undefined {
    const directory = path.join(this.root, 'p0');
    const names = fs.readdirSync(directory).filter((file) => file.endsWith('.log'));
    const name = names.sort().at(-1);
    return name && path.join(directory, name);
  }

  restart(): Peer {
    const peer = Object.create(Peer.prototype) as Peer;
    Object.assign(peer, { root: this.root });
    peer.log = SegmentLog.open({ directory: path.join(this.root, 'p0'), segmentBytes: 4096 });
    const { wal, replay } = PeerWal.open(path.join(this.root, 'wal'));
    replay.replayInto('p0', peer.log);
    peer.wal = wal;
    return peer;
  }
}

describe('PeerWal', () => {
  it('puts back entries the segment files lost', async () => {
    const peer = new Peer(freshDirectory());
    await peer.write(range(1, 40, 1));
    const before = contents(peer.log);
    const restarted = peer.crashLosingSegmentTails(0.3);
    expect(contents(restarted.log)).toEqual(before);
  });

  it('replays a Raft truncation: a later run at a new term replaces the tail', async () => {
    const peer = new Peer(freshDirectory());
    await peer.write(range(1, 10, 1));
    await peer.write(range(6, 12, 2));
    const before = contents(peer.log);
    expect(before[5]).toMatch(/^6\/2\//);
    expect(contents(peer.crashLosingSegmentTails(0).log)).toEqual(before);
  });

  it('never replays records written before a reset', async () => {
    const peer = new Peer(freshDirectory());
    await peer.write(range(1, 10, 1));
    peer.log.resetTo({ index: 20, term: 3, nextOffset: 20, members: [] });
    peer.wal.markReset('p0');
    await peer.write(range(21, 22, 3));
    const restarted = peer.crashLosingSegmentTails(1);
    expect(restarted.log.firstIndex()).toBe(21);
    expect(contents(restarted.log)).toEqual(contents(peer.log));
  });

  it('stops at a torn record and keeps every whole one before it', async () => {
    const root = freshDirectory();
    const peer = new Peer(root);
    await peer.write(range(1, 5, 1));
    await peer.write(range(6, 9, 1));
    const walDirectory = path.join(root, 'wal');
    const [file] = fs.readdirSync(walDirectory);
    fs.truncateSync(path.join(walDirectory, file), fs.statSync(path.join(walDirectory, file)).size - 3);
    const restarted = peer.crashLosingSegmentTails(0);
    expect(restarted.log.lastIndex()).toBe(5);
  });

  it('skips a run that would leave a gap (its predecessor was never made durable)', async () => {
    const peer = new Peer(freshDirectory());
    await peer.write(range(1, 3, 1));
    // Entries 4-6 reached the segment but their WAL record is lost; 7-8 were written after.
    peer.log.append(range(4, 6, 1));
    await peer.write(range(7, 8, 1));
    const { wal, replay } = PeerWal.open(path.join(peer.root, 'wal'));
    const emptyLog = SegmentLog.open({ directory: freshDirectory(), segmentBytes: 4096 });
    expect(replay.replayInto('p0', emptyLog)).toBe(3);
    expect(emptyLog.lastIndex()).toBe(3);
    await wal.close();
  });

  it('a checkpoint syncs the logs and deletes the older generations', async () => {
    const root = freshDirectory();
    const peer = new Peer(root);
    await peer.write(range(1, 30, 1));
    let synced = 0;
    expect(peer.wal.isCheckpointDue(1)).toBe(true);
    await peer.wal.checkpoint(async () => {
      synced++;
      await peer.log.sync();
    });
    expect(synced).toBe(1);
    expect(peer.wal.isCheckpointDue(1)).toBe(false);
    expect(fs.readdirSync(path.join(root, 'wal'))).toHaveLength(1);
    const syncedBytes = fs.statSync(peer.activeSegment()!).size;
    await peer.write(range(31, 32, 1));
    const before = contents(peer.log);
    expect(contents(peer.crashLosingSegmentTails(0, syncedBytes).log)).toEqual(before);
  });

  it('property: after any history of appends, truncations and resets, replay rebuilds the log', async () => {
    type Step = { kind: 'append'; back: number; count: number } | { kind: 'reset' };
    const step: fc.Arbitrary<Step> = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({
          kind: fc.constant('append' as const),
          back: fc.nat(4),
          count: fc.integer({ min: 1, max: 6 }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('reset' as const) }) },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 25 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        async (steps, keep) => {
          const peer = new Peer(freshDirectory());
          let term = 1;
          for (const next of steps) {
            if (next.kind === 'reset') {
              const start = peer.log.lastIndex() + 3;
              peer.log.resetTo({ index: start, term, nextOffset: start, members: [] });
              peer.wal.markReset('p0');
              continue;
            }
            term++;
            const from = Math.max(peer.log.firstIndex(), peer.log.lastIndex() + 1 - next.back);
            await peer.write(range(from, from + next.count - 1, term));
          }
          const expected = contents(peer.log);
          const restarted = peer.crashLosingSegmentTails(keep);
          expect(contents(restarted.log)).toEqual(expected);
          restarted.log.closeNow();
          await restarted.wal.close();
        },
      ),
      { numRuns: 60 },
    );
  });
});
