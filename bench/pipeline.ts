/**
 * Pipeline freshness (`npm run bench:pipeline`, `-- --cluster` for the small cluster, `-- --samples N`):
 * starts the platform as `metricstream start` does, keeps a steady background ingest going, and measures for each
 * sample metric the time from its 202 at ingestion to the moment the query engine first returns it (asked with
 * `Cache-Control: no-cache`, so the results cache does not hide fresh data). Prints p50/p99.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cliPath, freePort, spawnProcess, waitFor } from '../services/kit/testing/processes';

const args = process.argv.slice(2);
const isCluster = args.includes('--cluster');
const sampleCount = args.includes('--samples') ? Number(args[args.indexOf('--samples') + 1]) : 100;

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

const percentile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'metricstream-pipeline-'));
  const base = 30_000 + ((await freePort()) % 20) * 1000;
  const ports = { ingestion: base, queue: base + 1, storage: base + 2, query: base + 3, alerting: base + 4 };
  const flags = ['--data-dir', dataDir, '--redis-port', String(base + 5), ...(isCluster ? ['--cluster'] : [])];
  for (const [service, port] of Object.entries(ports)) flags.push(`--${service}-port`, String(port));
  const ingestion = `http://127.0.0.1:${ports.ingestion}`;
  const query = `http://127.0.0.1:${ports.query}`;
  const platform = await spawnProcess('platform', process.execPath, [cliPath, 'start', ...flags], {
    env: { LOG_LEVEL: 'warn' },
    waitUntilReady: () =>
      waitFor(
        async () => (await fetch(`${ingestion}/readyz`)).ok && (await fetch(`${query}/readyz`)).ok,
        90_000,
        'the platform',
      ),
  });
  let isRunning = true;
  const background = (async () => {
    for (let sequence = 0; isRunning; sequence++) {
      const metrics = Array.from({ length: 10 }, (_, index) => ({
        name: 'background_load',
        value: index,
        tags: { host: `h${index}` },
      }));
      await post(`${ingestion}/metrics`, { metrics }, { Authorization: `load_${sequence % 1000}` }).catch(
        () => undefined,
      );
    }
  })();
  const latencies: number[] = [];
  try {
    for (let sample = 0; sample < sampleCount; sample++) {
      const response = await post(
        `${ingestion}/metrics`,
        { metrics: [{ name: 'freshness_probe', value: sample, tags: { sample: String(sample) } }] },
        { Authorization: `freshness_${sample}` },
      );
      if (response.status !== 202) throw new Error(`ingestion answered ${response.status}`);
      const acceptedAt = performance.now();
      const probe = `SELECT count(freshness_probe) WHERE sample='${sample}' AND time > now() - 1h`;
      await waitFor(
        async () => {
          const answer = (await (
            await post(`${query}/query`, { query: probe }, { 'Cache-Control': 'no-cache' })
          ).json()) as {
            series: { count: number }[];
          };
          return answer.series.some((row) => row.count === 1) || undefined;
        },
        30_000,
        `sample ${sample} to be queryable`,
      );
      latencies.push(performance.now() - acceptedAt);
    }
  } finally {
    isRunning = false;
    await background;
    await platform.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  latencies.sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 10) / 10;
  console.log(
    JSON.stringify({
      topology: isCluster ? 'cluster' : 'local',
      samples: latencies.length,
      freshnessMs: {
        p50: round(percentile(latencies, 0.5)),
        p99: round(percentile(latencies, 0.99)),
        max: round(latencies[latencies.length - 1]),
      },
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
