import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { WalCorruptionError } from './errors';
import { encodeFrame, scanFrames } from './frame';
import { Wal } from './wal';

const options = { segmentBytes: 1024, isSyncing: true };
const record = (index: number) => new TextEncoder().encode(`record-${index}-${'x'.repeat(index % 17)}`);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

async function temporaryDirectory(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'wal-test-'));
}

async function replayAll(directory: string) {
  const records: string[] = [];
  const opening = await Wal.open(directory, options, (bytes) => records.push(text(bytes)));
  return { records, ...opening };
}

describe('scanFrames', () => {
  it('finds exactly the whole records in every prefix of a stream (cut at every offset)', () => {
    const frames = [0, 1, 2, 3].map((index) => encodeFrame(record(index)));
    const stream = Buffer.concat(frames);
    const ends = frames.map((_, index) => frames.slice(0, index + 1).reduce((total, frame) => total + frame.length, 0));
    for (let cut = 0; cut <= stream.length; cut++) {
      const scan = scanFrames(stream.subarray(0, cut));
      const whole = ends.filter((end) => end <= cut).length;
      expect(scan.records.map(text)).toEqual([0, 1, 2, 3].slice(0, whole).map((index) => text(record(index))));
      expect(scan.validLength).toBe(whole === 0 ? 0 : ends[whole - 1]);
      expect(scan.problem === undefined).toBe(cut === scan.validLength);
    }
  });

  it('stops at a flipped bit with the offset of the damaged frame', () => {
    const frames = [0, 1, 2].map((index) => encodeFrame(record(index)));
    const stream = Buffer.concat(frames);
    stream[frames[0].length + 10] ^= 0x04;
    const scan = scanFrames(stream);
    expect(scan.records).toHaveLength(1);
    expect(scan.problem).toEqual({ offset: frames[0].length, reason: 'CRC mismatch' });
  });
});

describe('Wal', () => {
  it('replays appended records in order across segment rotations', async () => {
    const directory = await temporaryDirectory();
    const { wal } = await replayAll(directory);
    await Promise.all(Array.from({ length: 200 }, (_, index) => wal.append(record(index))));
    await wal.close();
    const segments = (await fs.readdir(directory)).filter((name) => /^\d+$/.test(name));
    expect(segments.length).toBeGreaterThan(3);
    const { records, wal: reopened } = await replayAll(directory);
    expect(records).toEqual(Array.from({ length: 200 }, (_, index) => text(record(index))));
    await reopened.close();
  });

  it('cuts a torn tail at every offset of the last segment and keeps the whole records', async () => {
    const source = await temporaryDirectory();
    const { wal } = await replayAll(source);
    for (let index = 0; index < 5; index++) await wal.append(record(index));
    await wal.close();
    const segment = (await fs.readdir(source)).filter((name) => /^\d+$/.test(name)).sort()[0];
    const full = await fs.readFile(path.join(source, segment));
    const ends = scanFrames(full).offsets.slice(1).concat(full.length);
    for (let cut = 0; cut <= full.length; cut++) {
      const directory = await temporaryDirectory();
      await fs.writeFile(path.join(directory, segment), full.subarray(0, cut));
      const { records, wal: reopened, repaired } = await replayAll(directory);
      expect(records).toHaveLength(ends.filter((end) => end <= cut).length);
      expect(repaired !== undefined).toBe(!ends.includes(cut) && cut !== 0);
      await reopened.append(record(99));
      await reopened.close();
      const again = await replayAll(directory);
      expect(again.records.at(-1)).toBe(text(record(99)));
      expect(again.repaired).toBeUndefined();
      await again.wal.close();
      await fs.rm(directory, { recursive: true });
    }
  });

  it('reports damage in an earlier segment as a typed error with segment and offset', async () => {
    const directory = await temporaryDirectory();
    const { wal } = await replayAll(directory);
    await Promise.all(Array.from({ length: 100 }, (_, index) => wal.append(record(index))));
    await wal.close();
    const file = path.join(directory, '00000000');
    const bytes = await fs.readFile(file);
    bytes[20] ^= 0xff;
    await fs.writeFile(file, bytes);
    const error = await replayAll(directory).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WalCorruptionError);
    // The first frame is 17 bytes; byte 20 lies in the second.
    expect(error).toMatchObject({ segment: 0, offset: 17, code: 'wal_corrupted' });
  });

  it('replaces the segments below a checkpoint with the checkpoint', async () => {
    const directory = await temporaryDirectory();
    const { wal } = await replayAll(directory);
    for (let index = 0; index < 30; index++) await wal.append(record(index));
    const segment = wal.rotate();
    const later = wal.append(record(100));
    await wal.checkpoint(segment, [new TextEncoder().encode('state')]);
    await later;
    await wal.close();
    const names = (await fs.readdir(directory)).sort();
    expect(names.filter((name) => /^\d+$/.test(name)).every((name) => Number(name) >= segment)).toBe(true);
    const { records, wal: reopened } = await replayAll(directory);
    expect(records).toEqual(['state', text(record(100))]);
    await reopened.close();
  });

  it('rejects appends after close', async () => {
    const { wal } = await replayAll(await temporaryDirectory());
    await wal.close();
    await expect(wal.append(record(1))).rejects.toMatchObject({ code: 'wal_unavailable' });
  });
});
