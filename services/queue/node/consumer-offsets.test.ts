import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { createLogger } from '../../kit/logger';
import type { LogEntry } from '../log/frame';
import { encodeRecordBatch } from '../log/record-batch';
import { SegmentLog } from '../log/segment-log';
import { ConsumerOffsets, OffsetsCompactor } from './consumer-offsets';
import { Partition } from './partition';

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'queue-offsets-'));
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

const entry = (index: number, records: Array<{ key: string; value: string }>): LogEntry => ({
  index,
  term: 1,
  kind: 'normal',
  data: encodeRecordBatch(records.map(({ key, value }) => ({ key, value: Buffer.from(value), timestamp: 0 }))),
});
const commit = (index: number, group: string, partition: number, offset: number) =>
  entry(index, [{ key: ConsumerOffsets.recordKey(group, 't', partition), value: String(offset) }]);
const checkpoint = (index: number, offsets: ConsumerOffsets, asOf: number) =>
  entry(
    index,
    offsets.checkpointRecords(asOf).map((record) => ({ key: record.key, value: record.value.toString() })),
  );

describe('ConsumerOffsets', () => {
  it('keeps the latest commit per (group, topic, partition), offsets going back included', () => {
    const offsets = new ConsumerOffsets();
    offsets.apply(commit(1, 'g', 0, 10));
    offsets.apply(commit(2, 'g', 1, 5));
    offsets.apply(commit(3, 'g', 0, 7));
    offsets.apply(commit(4, 'h', 0, 1));
    expect(offsets.offsets('g', 't')).toEqual({ '0': 7, '1': 5 });
    expect(offsets.offsets('h', 't')).toEqual({ '0': 1 });
    expect(offsets.offsets('g', 'other')).toEqual({});
  });

  it('a checkpoint applied after newer commits does not undo them', () => {
    const offsets = new ConsumerOffsets();
    offsets.apply(commit(1, 'g', 0, 10));
    const summary = checkpoint(3, offsets, 1);
    offsets.apply(commit(2, 'g', 0, 11));
    offsets.apply(summary);
    expect(offsets.offsets('g', 't')).toEqual({ '0': 11 });
    expect(offsets.checkpointIndex).toBe(1);
  });

  it('replaying the log from anywhere at or before the latest checkpoint gives the same state', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ group: fc.constantFrom('a', 'b'), partition: fc.nat(3), offset: fc.nat(1000) }), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.array(fc.nat(39), { maxLength: 4 }),
        (commits, checkpointAfter) => {
          // The leader's log: commits, with checkpoints of its applied state appended after some of them.
          const leader = new ConsumerOffsets();
          const log: LogEntry[] = [];
          const append = (next: LogEntry) => {
            log.push(next);
            leader.apply(next);
          };
          commits.forEach(({ group, partition, offset }, position) => {
            append(commit(log.length + 1, group, partition, offset));
            if (checkpointAfter.includes(position)) {
              const asOf = log.length;
              // Commits may land between the state read and the checkpoint entry.
              append(commit(log.length + 1, 'a', 0, offset + 1));
              append(checkpoint(log.length + 1, leader, asOf));
            }
          });
          const summarized = leader.checkpointIndex;
          for (let start = 0; start <= summarized; start++) {
            const replica = new ConsumerOffsets();
            for (const item of log.slice(start)) replica.apply(item);
            for (const group of ['a', 'b']) expect(replica.offsets(group, 't')).toEqual(leader.offsets(group, 't'));
            expect(replica.checkpointIndex).toBe(summarized);
          }
        },
      ),
      { seed: 7, numRuns: 100 },
    );
  });

  it('ignores records it cannot read', () => {
    const offsets = new ConsumerOffsets();
    offsets.apply(entry(1, [{ key: 'not json', value: '1' }]));
    offsets.apply(entry(2, [{ key: '["g","t"]', value: '1' }]));
    offsets.apply(entry(3, [{ key: ConsumerOffsets.recordKey('g', 't', 0), value: 'x' }]));
    offsets.apply(entry(4, [{ key: '__checkpoint', value: '9' }]));
    expect(offsets.offsets('g', 't')).toEqual({});
    expect(offsets.checkpointIndex).toBe(0);
  });
});

describe('OffsetsCompactor', () => {
  it('checkpoints on the leader, deletes the summarized segments, and a restart rebuilds the same offsets', async () => {
    const logDirectory = path.join(directory, 'compact');
    const segmentBytes = 4096;
    const offsets = new ConsumerOffsets();
    const log = SegmentLog.open({ directory: logDirectory, segmentBytes, initialMembers: ['a'] });
    const partition = new Partition('__consumer_offsets', 0, log, 0, (item) => offsets.apply(item));
    let next = 1;
    const appendCommitted = (item: LogEntry) => {
      log.append([item]);
      partition.apply(log.entries(item.index, item.index + 1));
    };
    const compactor = new OffsetsCompactor({
      partition: () => partition,
      offsets,
      isLeader: () => true,
      append: async (records) => {
        appendCommitted(
          entry(
            next++,
            records.map((record) => ({ key: record.key, value: record.value.toString() })),
          ),
        );
      },
      segmentBytes,
      logger: createLogger('test', 'error'),
    });
    for (let round = 0; round < 600; round++) {
      appendCommitted(commit(next++, `g${round % 4}`, round % 12, round));
      if (round % 50 === 49) {
        await compactor.compact();
        await compactor.compact();
      }
    }
    await compactor.compact();
    await compactor.compact();
    expect(log.firstIndex()).toBeGreaterThan(400);
    expect(log.sizeBytes()).toBeLessThan(3 * segmentBytes);
    const expected = ['g0', 'g1', 'g2', 'g3'].map((group) => offsets.offsets(group, 't'));
    expect(expected[1]).toEqual({ '1': 589, '5': 593, '9': 597 });

    await log.close();
    const reopened = SegmentLog.open({ directory: logDirectory, segmentBytes });
    const rebuilt = new ConsumerOffsets();
    new Partition('__consumer_offsets', 0, reopened, reopened.lastIndex(), (item) => rebuilt.apply(item));
    expect(['g0', 'g1', 'g2', 'g3'].map((group) => rebuilt.offsets(group, 't'))).toEqual(expected);
    await reopened.close();
  });

  it('a follower deletes nothing before it applied a checkpoint, and never proposes one', async () => {
    const offsets = new ConsumerOffsets();
    const log = SegmentLog.open({ directory: path.join(directory, 'follower'), segmentBytes: 4096 });
    const partition = new Partition('__consumer_offsets', 0, log, 0, (item) => offsets.apply(item));
    const append = jest.fn(async () => undefined);
    const compactor = new OffsetsCompactor({
      partition: () => partition,
      offsets,
      isLeader: () => false,
      append,
      segmentBytes: 4096,
      logger: createLogger('test', 'error'),
    });
    for (let index = 1; index <= 300; index++) {
      log.append([commit(index, 'g', 0, index)]);
      partition.apply(log.entries(index, index + 1));
    }
    expect(await compactor.compact()).toBe(0);
    expect(append).not.toHaveBeenCalled();
    expect(log.firstIndex()).toBe(1);
    await log.close();
  });
});
