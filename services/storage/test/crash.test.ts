import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, startService, waitFor, type ManagedProcess } from '../../kit/testing/processes';

/**
 * kill -9 during sustained writes, then restart: every acknowledged point is there, once. Runs the compiled CLI
 * (`npx tsc -p tsconfig.json` first). Data time advances a minute per batch with a 1 h block range, so head cuts, WAL
 * checkpoints and compactions happen while the writers run.
 */
const T = 1_696_788_000_000;
const WRITERS = 4;

const STEP = 10 * 60_000;

/** The indexes of the batch's points that were stored, or undefined when the write was not acknowledged. */
async function write(port: number, writer: number, batch: number): Promise<number[] | undefined> {
  const points = Array.from({ length: 50 }, (_, index) => ({
    measurement: 'crash',
    tags: { writer: String(writer), series: String(index % 5) },
    fields: { value: batch * 1000 + index },
    timestamp: T + batch * STEP + index,
  }));
  try {
    const response = await fetch(`http://127.0.0.1:${port}/write`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(points),
    });
    if (!response.ok) return undefined;
    const body = (await response.json()) as { rejections?: { index: number }[] };
    const rejected = new Set((body.rejections ?? []).map((rejection) => rejection.index));
    return points.map((_, index) => index).filter((index) => !rejected.has(index));
  } catch {
    return undefined;
  }
}

describe('storage process', () => {
  let storage: ManagedProcess | undefined;
  afterEach(async () => storage?.kill9());

  it('keeps every acknowledged point exactly once across kill -9', async () => {
    const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'storage-crash-'));
    const port = await freePort();
    const args = [
      '--data-dir',
      directory,
      '--block-range',
      '1h',
      '--out-of-order-window',
      '5m',
      '--maintenance-interval',
      '200ms',
      '--retention',
      '0',
    ];
    storage = await startService('storage', port, args);
    const acknowledged = new Set<string>();
    let isRunning = true;
    const writers = Array.from({ length: WRITERS }, async (_, writer) => {
      for (let batch = 0; isRunning; batch++) {
        const stored = await write(port, writer, batch);
        if (stored === undefined) return;
        for (const index of stored) acknowledged.add(`${writer}/${index % 5}/${T + batch * STEP + index}`);
      }
    });
    // Kill once enough is acknowledged for head cuts to have happened, however loaded the machine is.
    await waitFor(() => (acknowledged.size >= 4000 ? true : undefined), 30_000, 'acknowledged writes');
    await storage.kill9();
    isRunning = false;
    await Promise.all(writers);

    storage = await storage.restart();
    const response = await fetch(`http://127.0.0.1:${port}/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ measurement: 'crash', start: T, end: T + 1e10 }),
    });
    expect(response.status).toBe(200);
    const { data_points: points } = (await response.json()) as {
      data_points: { timestamp: number; value: number; tags: Record<string, string> }[];
    };
    const seen = new Map<string, number>();
    for (const point of points) {
      const key = `${point.tags.writer}/${point.tags.series}/${point.timestamp}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    const missing = [...acknowledged].filter((key) => !seen.has(key));
    expect(missing).toEqual([]);
    expect([...seen.values()].every((count) => count === 1)).toBe(true);
    const files = await fs.readdir(path.join(directory, 'blocks'));
    expect(files.length).toBeGreaterThan(0);
  });
});
