import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { CompactedError, CorruptionError } from '../errors';
import type { LogEntry } from './frame';
import { encodeRecordBatch } from './record-batch';
import { SegmentLog } from './segment-log';
import { GroupCommitter } from './group-commit';
import { readHardState, writeHardState } from './hard-state';

const directories: string[] = [];
const freshDirectory = () => {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'queue-log-'));
  directories.push(directory);
  return directory;
};
afterAll(() => directories.forEach((directory) => fs.rmSync(directory, { recursive: true, force: true })));

const normal = (index: number, term: number, values: string[]): LogEntry => ({
  index,
  term,
  kind: 'normal',
  data: encodeRecordBatch(
    values.map((value, position) => ({ key: `k${position}`, value: Buffer.from(value), timestamp: index })),
  ),
});
const noop = (index: number, term: number): LogEntry => ({ index, term, kind: 'noop', data: new Uint8Array(0) });

/** The model: a plain array of entries; offsets are the running sum of record counts. */
interface ModelEntry {
  term: number;
  values: string[];
}

function modelRecords(model: ModelEntry[], upTo = model.length): string[] {
  return model.slice(0, upTo).flatMap((entry) => entry.values);
}

function readAllValues(log: SegmentLog, from = log.startOffset()): string[] {
  return log.readRecords(from, 1e9, Infinity, log.lastIndex()).map((record) => Buffer.from(record.value).toString());
}

type Operation =
  { kind: 'append'; terms: number; sizes: number[] } | { kind: 'truncate'; back: number } | { kind: 'reopen' };

const operationArbitrary: fc.Arbitrary<Operation> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      terms: fc.integer({ min: 0, max: 1 }),
      sizes: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 5 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), back: fc.integer({ min: 0, max: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reopen' as const) }) },
);

describe('SegmentLog', () => {
  it('agrees with an in-memory model across appends, conflicts and reopens', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operationArbitrary, { maxLength: 25 }), async (operations) => {
        const directory = freshDirectory();
        const options = { directory, segmentBytes: 300, indexIntervalBytes: 64 };
        let log = SegmentLog.open(options);
        const model: ModelEntry[] = [];
        let term = 1;
        let counter = 0;
        for (const operation of operations) {
          if (operation.kind === 'append') {
            term += operation.terms;
            const entries = operation.sizes.map((size) => {
              const values = Array.from({ length: size }, () => `"v${counter++}"`);
              model.push({ term, values });
              return size === 0 ? noop(model.length, term) : normal(model.length, term, values);
            });
            log.append(entries);
          } else if (operation.kind === 'truncate') {
            const from = Math.max(1, model.length - operation.back + 1);
            if (from <= model.length) {
              model.length = from - 1;
              log.truncateSuffix(from);
            }
          } else {
            await log.close();
            log = SegmentLog.open(options);
          }
          expect(log.lastIndex()).toBe(model.length);
          expect(log.nextOffset()).toBe(modelRecords(model).length);
          expect(readAllValues(log)).toEqual(modelRecords(model));
          for (let index = 1; index <= model.length; index++) {
            expect(log.term(index)).toBe(model[index - 1].term);
            const before = modelRecords(model, index - 1).length;
            if (model[index - 1].values.length > 0)
              expect(readAllValues(log, before)[0]).toBe(model[index - 1].values[0]);
          }
          const all = log.entries(1, model.length + 1);
          expect(all.map((entry) => entry.index)).toEqual(model.map((_entry, position) => position + 1));
        }
        await log.close();
      }),
      { numRuns: 60 },
    );
  });

  it('keeps every complete entry when the last one is cut at any byte', async () => {
    const directory = freshDirectory();
    const options = { directory, segmentBytes: 1 << 20 };
    const log = SegmentLog.open(options);
    log.append([noop(1, 1), normal(2, 1, ['"a"', '"b"']), normal(3, 1, ['{"c":3}'])]);
    await log.close();
    const file = path.join(
      directory,
      fs.readdirSync(directory).find((name) => name.endsWith('.log'))!,
    );
    const whole = fs.readFileSync(file);
    const lastStart = whole.length - (8 + 25 + normal(3, 1, ['{"c":3}']).data.length);
    for (let cut = lastStart; cut < whole.length; cut++) {
      fs.writeFileSync(file, whole.subarray(0, cut));
      const reopened = SegmentLog.open(options);
      expect(reopened.recovery.truncatedBytes).toBe(cut - lastStart);
      expect(reopened.lastIndex()).toBe(2);
      expect(readAllValues(reopened)).toEqual(['"a"', '"b"']);
      reopened.append([normal(3, 2, ['"d"'])]);
      expect(readAllValues(reopened)).toEqual(['"a"', '"b"', '"d"']);
      await reopened.close();
      fs.writeFileSync(file, whole.subarray(0, cut));
    }
  });

  it('refuses damage that is followed by good frames, naming segment and byte', async () => {
    const directory = freshDirectory();
    const options = { directory, segmentBytes: 1 << 20 };
    const log = SegmentLog.open(options);
    log.append([normal(1, 1, ['"a"']), normal(2, 1, ['"b"']), normal(3, 1, ['"c"'])]);
    await log.close();
    const file = path.join(
      directory,
      fs.readdirSync(directory).find((name) => name.endsWith('.log'))!,
    );
    const bytes = fs.readFileSync(file);
    const firstSize = 8 + 25 + normal(1, 1, ['"a"']).data.length;
    bytes[firstSize + 20] ^= 0xff;
    fs.writeFileSync(file, bytes);
    expect(() => SegmentLog.open(options)).toThrow(CorruptionError);
    try {
      SegmentLog.open(options);
    } catch (error) {
      expect(error).toMatchObject({ segment: file, offset: firstSize });
    }
  });

  it('refuses damage in a sealed segment even at its end', async () => {
    const directory = freshDirectory();
    const options = { directory, segmentBytes: 100 };
    const log = SegmentLog.open(options);
    for (let index = 1; index <= 6; index++) log.append([normal(index, 1, [`"value-${index}-padding-padding"`])]);
    await log.close();
    const files = fs
      .readdirSync(directory)
      .filter((name) => name.endsWith('.log'))
      .sort();
    expect(files.length).toBeGreaterThan(2);
    const sealed = path.join(directory, files[0]);
    const size = fs.statSync(sealed).size;
    fs.truncateSync(sealed, size - 3);
    expect(() => SegmentLog.open(options)).toThrow(CorruptionError);
  });

  it('never serves a frame damaged after opening', async () => {
    const directory = freshDirectory();
    const options = { directory, segmentBytes: 1 << 20 };
    const log = SegmentLog.open(options);
    log.append([normal(1, 1, ['"a"']), normal(2, 1, ['"b"'])]);
    await log.sync();
    const file = path.join(
      directory,
      fs.readdirSync(directory).find((name) => name.endsWith('.log'))!,
    );
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 2] ^= 1;
    fs.writeFileSync(file, bytes);
    expect(() => log.readRecords(0, 10, Infinity, 2)).toThrow(CorruptionError);
    await log.close();
  });

  it('reads from any offset through the sparse index, and only up to the readable index', () => {
    const directory = freshDirectory();
    const log = SegmentLog.open({ directory, segmentBytes: 2000, indexIntervalBytes: 100 });
    const values: string[] = [];
    for (let index = 1; index <= 200; index++) {
      const batch = Array.from({ length: index % 4 }, (_, position) => `${index * 10 + position}`);
      values.push(...batch);
      log.append([batch.length === 0 ? noop(index, 1) : normal(index, 1, batch)]);
    }
    for (let offset = 0; offset < values.length; offset += 7) {
      const read = log.readRecords(offset, 5, Infinity, 200);
      expect(read.map((record) => record.offset)).toEqual(
        [0, 1, 2, 3, 4].map((step) => offset + step).filter((o) => o < values.length),
      );
      expect(read.map((record) => Buffer.from(record.value).toString())).toEqual(values.slice(offset, offset + 5));
    }
    expect(log.readRecords(values.length, 10, Infinity, 200)).toEqual([]);
    const upTo = log.readRecords(0, 1e6, Infinity, 10);
    expect(upTo).toHaveLength(values.length === 0 ? 0 : 15);
    expect(log.nextOffsetAfter(10)).toBe(15);
    expect(log.entries(5, 200, 1).map((entry) => entry.index)).toEqual([5]);
  });

  it('deletes whole old segments by size and by age, raising the first index', async () => {
    const directory = freshDirectory();
    let now = 1_000_000;
    const options = { directory, segmentBytes: 200 };
    const log = SegmentLog.open(options, () => now);
    for (let index = 1; index <= 40; index++)
      log.append([normal(index, index < 20 ? 1 : 2, [`"${'x'.repeat(30)}${index}"`])]);
    const sizeBefore = log.sizeBytes();
    expect(log.applyRetention({ maxBytes: sizeBefore }, 40)).toBe(0);
    const removed = log.applyRetention({ maxBytes: sizeBefore / 2 }, 40);
    expect(removed).toBeGreaterThan(0);
    expect(log.sizeBytes()).toBeLessThanOrEqual(sizeBefore / 2 + 200);
    const first = log.firstIndex();
    expect(first).toBeGreaterThan(1);
    expect(() => log.entries(1, 2)).toThrow(CompactedError);
    expect(() => log.readRecords(0, 1, Infinity, 40)).toThrow(CompactedError);
    expect(log.startOffset()).toBe(first - 1);
    expect(log.term(first - 1)).toBe(first - 1 < 20 ? 1 : 2);
    now += 10_000;
    log.append([normal(41, 2, ['"late"'])]);
    expect(log.applyRetention({ maxAgeMs: 5_000 }, 30)).toBeGreaterThan(0);
    expect(log.firstIndex()).toBeLessThanOrEqual(31);
    const keptFirst = log.firstIndex();
    await log.close();
    const reopened = SegmentLog.open(options, () => now);
    expect(reopened.firstIndex()).toBe(keptFirst);
    expect(reopened.lastIndex()).toBe(41);
    expect(readAllValues(reopened).at(-1)).toBe('"late"');
    await reopened.close();
  });

  it('resets to a later start point for a catch-up', async () => {
    const directory = freshDirectory();
    const options = { directory, segmentBytes: 1 << 20 };
    const log = SegmentLog.open(options);
    log.append([normal(1, 1, ['"a"']), normal(2, 1, ['"b"'])]);
    log.resetTo({ index: 100, term: 3, nextOffset: 500, members: ['a'] });
    expect(log.firstIndex()).toBe(101);
    expect(log.lastIndex()).toBe(100);
    expect(log.term(100)).toBe(3);
    log.append([normal(101, 3, ['"z"'])]);
    await log.close();
    const reopened = SegmentLog.open(options);
    expect(
      reopened
        .readRecords(500, 10, Infinity, 101)
        .map((record) => [record.offset, Buffer.from(record.value).toString()]),
    ).toEqual([[500, '"z"']]);
    await reopened.close();
  });
});

describe('group commit and hard state', () => {
  it('shares one fdatasync among the appends that arrive while another runs', async () => {
    const directory = freshDirectory();
    const log = SegmentLog.open({ directory, segmentBytes: 1 << 20 });
    const committer = new GroupCommitter('group', 0);
    log.append([normal(1, 1, ['"a"'])]);
    await committer.whenDurable(log);
    const fdatasync = jest.spyOn(fs, 'fdatasync');
    log.append([normal(2, 1, ['"b"'])]);
    const first = committer.whenDurable(log);
    // Let the first sync start: its fdatasync is now running in the thread pool.
    for (let turn = 0; turn < 5; turn++) await Promise.resolve();
    expect(fdatasync).toHaveBeenCalledTimes(1);
    log.append([normal(3, 1, ['"c"'])]);
    const second = committer.whenDurable(log);
    log.append([normal(4, 1, ['"d"'])]);
    const third = committer.whenDurable(log);
    await Promise.all([first, second, third]);
    expect(log.hasUnsyncedWrites).toBe(false);
    // One for the first append, one shared by the two that arrived while it ran.
    expect(fdatasync).toHaveBeenCalledTimes(2);
    fdatasync.mockRestore();
    committer.close();
    await log.close();
  });

  it('writes the hard state atomically and reads it back', () => {
    const directory = freshDirectory();
    expect(readHardState(directory)).toEqual({ term: 0, vote: null, commit: 0 });
    writeHardState(directory, { term: 4, vote: 'q1', commit: 17 });
    expect(readHardState(directory)).toEqual({ term: 4, vote: 'q1', commit: 17 });
    expect(fs.readdirSync(directory).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });
});
