import { mkdtempSync, promises as fs, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../kit/logger';
import { FRAME_HEADER_BYTES } from './frame';
import { Spool, SpoolFullError } from './spool';

const logger = createLogger('test', 'error');
logger.silent = true;

describe('Spool', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'spool-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const payload = (n: number) => Buffer.from(JSON.stringify([{ key: 'c', value: n }]));
  const readAll = async (spool: Spool) => {
    const seen: string[] = [];
    for (let backlog = await spool.readBacklog(); backlog; backlog = await spool.readBacklog()) {
      for (const frame of backlog.frames) seen.push(Buffer.from(frame.payload).toString());
      const last = backlog.frames[backlog.frames.length - 1];
      await spool.acknowledge(backlog.sequence, last.offset + FRAME_HEADER_BYTES + last.payload.length);
    }
    return seen;
  };

  it('keeps appends across a reopen, in order, over several segments, and empties itself after replay', async () => {
    const options = { dir, maxBytes: 1 << 20, segmentBytes: 100 };
    const spool = await Spool.open(options, logger);
    // Three concurrent appends share one group commit; the rest roll segments of about 100 bytes.
    await Promise.all([0, 1, 2].map((n) => spool.append(payload(n), 1)));
    for (let n = 3; n < 10; n++) await spool.append(payload(n), 1);
    expect(spool.isDrained).toBe(false);
    await spool.close();
    expect((await fs.readdir(dir)).length).toBeGreaterThan(2);

    const reopened = await Spool.open(options, logger);
    expect(reopened.bytes).toBe(10 * (FRAME_HEADER_BYTES + payload(0).length));
    expect(await readAll(reopened)).toEqual(Array.from({ length: 10 }, (_, n) => payload(n).toString()));
    expect(reopened.isDrained).toBe(true);
    expect(reopened.bytes).toBe(0);
    expect(await fs.readdir(dir)).toHaveLength(1);
    await reopened.append(payload(99), 1);
    expect(await readAll(reopened)).toEqual([payload(99).toString()]);
    await reopened.close();
  });

  it('cuts a torn tail at start-up and keeps the whole frames', async () => {
    const options = { dir, maxBytes: 1 << 20, segmentBytes: 1 << 20 };
    const spool = await Spool.open(options, logger);
    await spool.append(payload(1), 1);
    await spool.append(payload(2), 1);
    await spool.close();
    const [segment] = await fs.readdir(dir);
    const file = path.join(dir, segment);
    const size = (await fs.stat(file)).size;
    await fs.truncate(file, size - 3);
    const reopened = await Spool.open(options, logger);
    expect(await readAll(reopened)).toEqual([payload(1).toString()]);
    await reopened.close();
  });

  it('refuses appends beyond its size bound', async () => {
    const frameBytes = FRAME_HEADER_BYTES + payload(1).length;
    const spool = await Spool.open({ dir, maxBytes: frameBytes * 2, segmentBytes: 1 << 20 }, logger);
    await spool.append(payload(1), 1);
    await spool.append(payload(2), 1);
    await expect(spool.append(payload(3), 1)).rejects.toBeInstanceOf(SpoolFullError);
    await readAll(spool);
    await spool.append(payload(4), 1);
    await spool.close();
  });
});
