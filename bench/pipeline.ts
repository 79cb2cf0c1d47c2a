/**
 * Pipeline freshness (`npm run bench:pipeline`, `-- --cluster` for the small cluster, `-- --samples N`):
 * starts the platform as `metricstream start` does, keeps a steady background ingest going, and measures for each
 * sample metric the time from its 202 at ingestion to the moment the query engine first returns it (asked with
 * `Cache-Control: no-cache`, so the results cache does not hide fresh data). Then detection: an alert rule evaluated
 * every second on a probe metric, and for each round the time from the 202 of a value over the threshold to the
 * firing notification at a local webhook receiver, and from the moment that value leaves the rule's window (the
 * condition turns false) to the resolved notification. Prints p50/p99 of each.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { cliPath, freePort, spawnProcess, waitFor } from '../services/kit/testing/processes';

const args = process.argv.slice(2);
const isCluster = args.includes('--cluster');
const sampleCount = args.includes('--samples') ? Number(args[args.indexOf('--samples') + 1]) : 100;
const detectionRounds = args.includes('--rounds') ? Number(args[args.indexOf('--rounds') + 1]) : 10;
const DETECTION_WINDOW_MS = 2_000;
const RULE_INTERVAL_MS = 1_000;

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
  let freshness: number[] = [];
  let detection: Detection = { firing: [], resolved: [] };
  try {
    freshness = await measureFreshness(ingestion, query);
    detection = await measureDetection(ingestion, `http://127.0.0.1:${ports.alerting}`);
  } finally {
    isRunning = false;
    await background;
    await platform.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  console.log(
    JSON.stringify({
      topology: isCluster ? 'cluster' : 'local',
      samples: freshness.length,
      freshnessMs: summarize(freshness),
      detectionRounds: detection.firing.length,
      detectionMs: { firing: summarize(detection.firing), resolved: summarize(detection.resolved) },
    }),
  );
}

function summarize(latencies: number[]): { p50: number; p99: number; max: number } {
  const sorted = [...latencies].sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return {
    p50: round(percentile(sorted, 0.5)),
    p99: round(percentile(sorted, 0.99)),
    max: round(sorted[sorted.length - 1]),
  };
}

async function measureFreshness(ingestion: string, query: string): Promise<number[]> {
  const latencies: number[] = [];
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
  return latencies;
}

interface Detection {
  firing: number[];
  resolved: number[];
}

/** A webhook receiver that resolves the next notification with the given status. */
async function startReceiver(): Promise<{
  url: string;
  next: (status: 'firing' | 'resolved') => Promise<number>;
  close: () => void;
}> {
  const waiting = new Map<string, (at: number) => void>();
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const receivedAt = performance.now();
      const { status } = JSON.parse(Buffer.concat(chunks).toString()) as { status: string };
      waiting.get(status)?.(receivedAt);
      waiting.delete(status);
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hook`,
    next: (status) =>
      new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${status} notification within 30 s`)), 30_000);
        waiting.set(status, (at) => {
          clearTimeout(timer);
          resolve(at);
        });
      }),
    close: () => server.close(),
  };
}

async function measureDetection(ingestion: string, alerting: string): Promise<Detection> {
  const receiver = await startReceiver();
  const detection: Detection = { firing: [], resolved: [] };
  try {
    const channel = await post(`${alerting}/channels`, {
      name: 'bench_webhook',
      type: 'webhook',
      settings: { url: receiver.url },
    });
    if (channel.status !== 201) throw new Error(`POST /channels answered ${channel.status}`);
    const rule = await post(`${alerting}/rules`, {
      name: 'detection_probe',
      query: 'max(detection_probe) > 50',
      duration: '0s',
      window: `${DETECTION_WINDOW_MS}ms`,
      interval: `${RULE_INTERVAL_MS}ms`,
      renotify_interval: '0s',
      channels: ['bench_webhook'],
    });
    if (rule.status !== 201) throw new Error(`POST /rules answered ${rule.status}: ${await rule.text()}`);
    const send = async (value: number) => {
      const response = await post(
        `${ingestion}/metrics`,
        { metrics: [{ name: 'detection_probe', value, timestamp: Date.now() }] },
        { Authorization: 'detection' },
      );
      if (response.status !== 202) throw new Error(`ingestion answered ${response.status}`);
      return performance.now();
    };
    for (let round = 0; round < detectionRounds; round++) {
      // Rounds would otherwise start just after an evaluation (the previous notification) and always wait a whole
      // interval: a random pause samples the phase within the interval uniformly.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * RULE_INTERVAL_MS));
      const fired = receiver.next('firing');
      const resolved = receiver.next('resolved');
      const overAt = await send(100);
      detection.firing.push((await fired) - overAt);
      // The point over the threshold leaves the window at overAt + window: from then on the condition is false.
      detection.resolved.push((await resolved) - overAt - DETECTION_WINDOW_MS);
    }
  } finally {
    receiver.close();
  }
  return detection;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
