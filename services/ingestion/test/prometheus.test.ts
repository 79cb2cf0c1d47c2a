import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  freePort,
  httpReady,
  spawnProcess,
  startService,
  waitFor,
  type ManagedProcess,
} from '../../kit/testing/processes';
import { QueueDouble } from '../testing/queue-double';
import { tempDir } from './helpers';

const hasPrometheus = (() => {
  try {
    execFileSync('prometheus', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

interface Batch {
  client: string;
  metrics: { name: string; value: number; tags: Record<string, string>; timestamp: number }[];
}

/** A stock Prometheus scrapes itself and remote-writes to ingestion; its samples must reach the queue. */
(hasPrometheus ? describe : describe.skip)('Prometheus remote-write from the real prometheus binary', () => {
  const dataDir = tempDir('prometheus');
  const queue = new QueueDouble();
  const processes: ManagedProcess[] = [];

  afterAll(async () => {
    for (const process of processes.reverse()) await process.stop();
    await queue.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers scraped samples with their labels as tags', async () => {
    await queue.start();
    const ingestionPort = await freePort();
    processes.push(
      await startService('ingestion', ingestionPort, [
        '--queue-url',
        queue.url,
        '--data-dir',
        path.join(dataDir, 'ingestion'),
        '--rate-limit-overrides',
        'prometheus_remote=1000',
      ]),
    );
    const prometheusPort = await freePort();
    const config = path.join(dataDir, 'prometheus.yml');
    writeFileSync(
      config,
      [
        'global:',
        '  scrape_interval: 1s',
        'scrape_configs:',
        '  - job_name: self',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${prometheusPort}']`,
        'remote_write:',
        `  - url: http://127.0.0.1:${ingestionPort}/api/v1/write`,
        '    authorization:',
        '      credentials: prometheus_remote',
        '    queue_config:',
        '      batch_send_deadline: 1s',
        '      min_backoff: 100ms',
        '      max_backoff: 1s',
      ].join('\n'),
    );
    processes.push(
      await spawnProcess(
        'prometheus',
        'prometheus',
        [
          `--config.file=${config}`,
          `--storage.tsdb.path=${path.join(dataDir, 'tsdb')}`,
          `--web.listen-address=127.0.0.1:${prometheusPort}`,
        ],
        { waitUntilReady: httpReady(`http://127.0.0.1:${prometheusPort}/-/ready`) },
      ),
    );
    const up = await waitFor(
      () => {
        for (const record of queue.records) {
          const batch = record.value as Batch;
          const sample = batch.metrics.find((metric) => metric.name === 'up' && metric.tags.job === 'self');
          if (sample) return { record, sample };
        }
        return undefined;
      },
      40_000,
      'the "up" sample from prometheus',
    );
    expect(up.record.key).toBe('prometheus_remote');
    expect(up.sample).toMatchObject({ value: 1, tags: { job: 'self', instance: `127.0.0.1:${prometheusPort}` } });
    expect(Math.abs(up.sample.timestamp - Date.now())).toBeLessThan(60_000);
  }, 60_000);
});
