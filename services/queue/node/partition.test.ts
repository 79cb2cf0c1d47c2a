import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeRecordBatch } from '../log/record-batch';
import { SegmentLog } from '../log/segment-log';
import type { LogEntry } from '../log/frame';
import { ConsumerOffsets } from './consumer-offsets';
import { Partition, ProposalDroppedError } from './partition';

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'queue-partition-'));
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

const batch = (index: number, term: number, values: string[]): LogEntry => ({
  index,
  term,
  kind: 'normal',
  data: encodeRecordBatch(values.map((value) => ({ key: 'k', value: Buffer.from(value), timestamp: index }))),
});

describe('Partition', () => {
  it('serves only committed records and resolves a proposal with its first offset when it commits', async () => {
    const log = SegmentLog.open({ directory: path.join(directory, 'a'), segmentBytes: 1 << 20 });
    const partition = new Partition('t', 0, log, 0);
    const entries = [
      { index: 1, term: 1, kind: 'noop' as const, data: new Uint8Array(0) },
      batch(2, 1, ['1', '2']),
      batch(3, 1, ['3']),
    ];
    log.append(entries);
    const committed = new Promise<number>((resolve, reject) => partition.track({ index: 3, term: 1, resolve, reject }));
    expect(partition.read(0, 10, Infinity).records).toEqual([]);
    const waiting = partition.waitForRecords(0, 10_000);
    partition.apply(entries.slice(0, 2));
    await waiting;
    expect(partition.read(0, 10, Infinity).records.map((record) => Buffer.from(record.value).toString())).toEqual([
      '1',
      '2',
    ]);
    partition.apply(entries);
    expect(await committed).toBe(2);
    expect(partition.read(0, 10, Infinity).nextOffset).toBe(3);
    expect(partition.read(3, 10, Infinity)).toEqual({ records: [], nextOffset: 3 });
    await log.close();
  });

  it('rejects a proposal whose index committed with another term (a new leader replaced it)', async () => {
    const log = SegmentLog.open({ directory: path.join(directory, 'b'), segmentBytes: 1 << 20 });
    const partition = new Partition('t', 0, log, 0);
    const dropped = new Promise<number>((resolve, reject) => partition.track({ index: 1, term: 1, resolve, reject }));
    const replacement = batch(1, 2, ['x']);
    log.append([replacement]);
    partition.apply([replacement]);
    await expect(dropped).rejects.toBeInstanceOf(ProposalDroppedError);
    await log.close();
  });
});

describe('ConsumerOffsets', () => {
  it('keeps the latest commit per group, topic and partition', () => {
    const offsets = new ConsumerOffsets();
    const record = (group: string, partition: number, offset: number) => ({
      key: ConsumerOffsets.recordKey(group, 'metrics.inbound', partition),
      value: Buffer.from(String(offset)),
      timestamp: 0,
    });
    offsets.apply({
      index: 1,
      term: 1,
      kind: 'normal',
      data: encodeRecordBatch([record('g', 3, 10), record('g', 1, 4), record('h', 3, 1)]),
    });
    offsets.apply({ index: 2, term: 1, kind: 'normal', data: encodeRecordBatch([record('g', 3, 12)]) });
    expect(offsets.offsets('g', 'metrics.inbound')).toEqual({ '1': 4, '3': 12 });
    expect(offsets.offsets('h', 'metrics.inbound')).toEqual({ '3': 1 });
    expect(offsets.offsets('g', 'other')).toEqual({});
  });
});
