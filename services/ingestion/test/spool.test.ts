import { rmSync } from 'node:fs';
import { freePort, startService, waitFor, type ManagedProcess } from '../../kit/testing/processes';
import { QueueDouble } from '../testing/queue-double';
import { oneMetric, postMetrics, scrape, tempDir } from './helpers';

/** The durability promise of 202: the queue has it, or the fsynced spool has it and will replay it. */
describe('ingestion spool (cross-process)', () => {
  const dataDir = tempDir('spool');
  let queue: QueueDouble;
  let ingestion: ManagedProcess | undefined;

  beforeEach(async () => {
    queue = await new QueueDouble().start();
  });
  afterEach(async () => {
    await ingestion?.kill9();
    await queue.stop();
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  const values = () =>
    queue.records.map((record) => (record.value as { metrics: { value: number }[] }).metrics[0].value);
  const start = async (port: number, subdir: string) =>
    startService('ingestion', port, [
      '--queue-url',
      queue.url,
      '--data-dir',
      `${dataDir}/${subdir}`,
      '--queue-timeout',
      '1s',
      '--rate-limit-overrides',
      'spooler=10000',
    ]);

  it('spools while the queue is down and replays in order once it is back: nothing lost, nothing twice', async () => {
    const port = await freePort();
    ingestion = await start(port, 'outage');
    const base = `http://127.0.0.1:${port}`;
    expect((await postMetrics(base, 'spooler', oneMetric(0))).status).toBe(202);
    await queue.stop();
    for (let value = 1; value <= 30; value++)
      expect((await postMetrics(base, 'spooler', oneMetric(value))).status).toBe(202);
    expect(await scrape(base, 'ingestion_spooling')).toBe(1);
    expect(await scrape(base, 'ingestion_spool_bytes')).toBeGreaterThan(0);
    expect(queue.records).toHaveLength(1);

    await queue.start();
    await waitFor(() => queue.records.length >= 31 || undefined, 15_000, 'the spool to be replayed');
    await waitFor(async () => (await scrape(base, 'ingestion_spooling')) === 0 || undefined, 5000, 'spooling to end');
    for (let value = 31; value <= 35; value++)
      expect((await postMetrics(base, 'spooler', oneMetric(value))).status).toBe(202);
    expect(values()).toEqual(Array.from({ length: 36 }, (_, value) => value));
    expect(await scrape(base, 'ingestion_spool_bytes')).toBe(0);
    expect(await ingestion.stop()).toBe(0);
  });

  it('answers 503 spool_full with Retry-After once the spool reaches its bound, and accepts again after replay', async () => {
    const port = await freePort();
    ingestion = await startService('ingestion', port, [
      '--queue-url',
      queue.url,
      '--data-dir',
      `${dataDir}/full`,
      '--spool-max-bytes',
      String(64 * 1024),
      '--rate-limit-overrides',
      'spooler=10000',
    ]);
    const base = `http://127.0.0.1:${port}`;
    await queue.stop();
    const large = {
      metrics: Array.from({ length: 20 }, (_, index) => ({
        name: 'big',
        value: index,
        tags: { pad: 'x'.repeat(150) },
      })),
    };
    let accepted = 0;
    let reply = await postMetrics(base, 'spooler', large);
    while (reply.status === 202 && accepted < 100) {
      accepted++;
      reply = await postMetrics(base, 'spooler', large);
    }
    expect(accepted).toBeGreaterThan(5);
    expect(reply).toMatchObject({
      status: 503,
      body: { error: { code: 'spool_full', message: expect.any(String), retry_after_seconds: 5 } },
    });
    expect(reply.headers.get('retry-after')).toBe('5');
    await queue.start();
    await waitFor(() => queue.records.length >= accepted || undefined, 15_000, 'the full spool to be replayed');
    expect(queue.records).toHaveLength(accepted);
    await waitFor(async () => (await postMetrics(base, 'spooler', large)).status === 202 || undefined, 5000, 'a 202');
  });

  it('replays what the spool holds after kill -9 and a restart', async () => {
    const port = await freePort();
    ingestion = await start(port, 'crash');
    const base = `http://127.0.0.1:${port}`;
    await queue.stop();
    await Promise.all(
      Array.from({ length: 20 }, async (_, value) =>
        expect((await postMetrics(base, 'spooler', oneMetric(value))).status).toBe(202),
      ),
    );
    await ingestion.kill9();
    await queue.start();
    expect(queue.records).toHaveLength(0);
    ingestion = await ingestion.restart();
    await waitFor(() => queue.records.length >= 20 || undefined, 15_000, 'the spool to be replayed after restart');
    await waitFor(async () => (await scrape(base, 'ingestion_spooling')) === 0 || undefined, 5000, 'spooling to end');
    expect(values().sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, value) => value));
  });
});
