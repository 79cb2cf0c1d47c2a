/**
 * Alerting benchmark (`npm run bench:alerting`, `-- --full` for the long run, `-- --rules N` to override).
 *
 *  (a) throughput: N rules (10,000 short, 30,000 full), each `max(bench_metric_i) by (host) > 80` over 3 hosts,
 *      evaluated every second by the compiled service (its own process) through POST /v1/query/batch against the
 *      query-engine double (services/alerting/testing, in this process): rule evaluations per second, from the
 *      service's own counters over a measured window, and missed evaluations.
 *  (b) detection latency, under that load: a 5 s interval, zero-duration rule whose metric is pushed over the threshold
 *      at a random moment; time until the webhook receiver (this process) holds the firing notification.
 *  (c) peer: Prometheus (Debian package) with the same N rules as alerting rules (`max by (host) (bench_metric{i="k"})
 *      > 80`, evaluation_interval 1s) over the same series scraped from this process: rule evaluations per second
 *      from `prometheus_rule_evaluations_total`. Prometheus evaluates in its own TSDB, so (a) includes an HTTP hop per
 *      batch that (c) does not; (b) has no Prometheus counterpart without Alertmanager.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, httpReady, sleep, spawnProcess, waitFor } from '../services/kit/testing/processes';
import { startQueryEngineDouble } from '../services/alerting/testing/query-engine-double';
import { startHttpReceiver } from '../services/alerting/testing/receivers';
import { validateRule } from '../services/alerting/rules/rule';
import { FILE_NAME } from '../services/alerting/store/file';

const args = process.argv.slice(2);
const isFull = args.includes('--full');
const rulesFlag = args.indexOf('--rules');
const ruleCount = rulesFlag >= 0 ? Number(args[rulesFlag + 1]) : isFull ? 30_000 : 10_000;
const measureSeconds = isFull ? 30 : 10;
const latencyTrials = isFull ? 10 : 4;
const hosts = ['h0', 'h1', 'h2'];

function counter(text: string, name: string): number {
  let total = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(name) && (line[name.length] === '{' || line[name.length] === ' '))
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
  return total;
}

async function postAll(base: string, path: string, bodies: unknown[], concurrency = 32): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++];
      const response = await fetch(base + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (response.status !== 201) throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function benchAlerting() {
  const engine = await startQueryEngineDouble();
  const receiver = await startHttpReceiver();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-alerting-'));
  for (let index = 0; index < ruleCount; index++)
    for (const host of hosts) engine.set(`bench_metric_${index}`, { host }, 40 + ((index * 7) % 30));
  engine.set('latency_probe', {}, 0);
  const ruleOf = (index: number) => ({
    name: `bench_${index}`,
    query: `max(bench_metric_${index}) by (host) > 80`,
    duration: '1m',
  });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // This file runs compiled from dist/bench, next to dist/services.
  const cli = path.resolve(__dirname, '../services/cli/metricstream.js');
  const start = (interval: string) =>
    spawnProcess(
      'alerting',
      process.execPath,
      [cli, 'alerting', '--port', String(port), '--query-url', engine.url, '--data-dir', dataDir].concat([
        '--evaluation-interval',
        interval,
        '--batch-size',
        '1000',
        '--log-level',
        'warn',
      ]),
      { waitUntilReady: httpReady(`${base}/healthz`) },
    );
  // POST /rules is measured on its own first (validation through the engine, a durable write each); the rest of the
  // rules are then written into the data directory (the file store's format, API.md) so that a large run does not
  // spend minutes creating rules, and the service is restarted on them.
  const apiRules = Math.min(1000, ruleCount);
  let alerting = await start('1h');
  const loadStarted = Date.now();
  await postAll(
    base,
    '/rules',
    Array.from({ length: apiRules }, (_, index) => ruleOf(index)),
  );
  const rulesCreatedPerSecond = Math.round(apiRules / ((Date.now() - loadStarted) / 1000));
  await alerting.stop();
  const stored = JSON.parse(readFileSync(path.join(dataDir, FILE_NAME), 'utf8'));
  for (let index = apiRules; index < ruleCount; index++)
    stored.collections.rules[`bench_${index}`] = validateRule(ruleOf(index)).spec;
  writeFileSync(path.join(dataDir, FILE_NAME), JSON.stringify(stored));
  alerting = await start('1s');
  try {
    await postAll(base, '/channels', [{ name: 'hook', type: 'webhook', settings: { url: `${receiver.url}/hook` } }]);
    await postAll(base, '/rules', [
      { name: 'latency', query: 'max(latency_probe) > 80', duration: '0s', interval: '5s', channels: ['hook'] },
    ]);
    await sleep(3000);
    const scrape = async () => (await fetch(`${base}/metrics`)).text();
    const before = await scrape();
    const startedAt = Date.now();
    await sleep(measureSeconds * 1000);
    const after = await scrape();
    const elapsed = (Date.now() - startedAt) / 1000;
    const delta = (name: string) => counter(after, name) - counter(before, name);
    const throughput = {
      rules: ruleCount,
      rulesCreatedPerSecond,
      evaluationsPerSecond: Math.round(delta('alerting_rule_evaluations_total') / elapsed),
      queriesPerSecond: Math.round(delta('alerting_queries_total') / elapsed),
      missedPerSecond: Math.round(delta('alerting_rule_evaluations_missed_total') / elapsed),
      failures: delta('alerting_rule_evaluation_failures_total'),
      meanBatchSeconds:
        delta('alerting_evaluation_duration_seconds_sum') /
        Math.max(1, delta('alerting_evaluation_duration_seconds_count')),
      batchesPerSecond: Math.round(delta('alerting_evaluation_duration_seconds_count') / elapsed),
      instancesTracked: ruleCount * hosts.length,
    };

    const latencies: number[] = [];
    for (let trial = 0; trial < latencyTrials; trial++) {
      await sleep(Math.random() * 5000);
      const firingBefore = receiver.received.length;
      const crossedAt = Date.now();
      engine.set('latency_probe', {}, 95);
      await waitFor(() => receiver.received.length > firingBefore, 60_000, 'the firing notification');
      latencies.push(receiver.received.at(-1)!.receivedAt - crossedAt);
      const resolvedBefore = receiver.received.length;
      engine.set('latency_probe', {}, 0);
      await waitFor(() => receiver.received.length > resolvedBefore, 60_000, 'the resolved notification');
    }
    return { throughput, latencies };
  } finally {
    await alerting.kill9();
    await Promise.all([engine.close(), receiver.close()]);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function benchPrometheus() {
  const exposition = [
    '# TYPE bench_metric gauge',
    ...Array.from({ length: ruleCount }, (_, index) =>
      hosts.map((host) => `bench_metric{i="${index}",host="${host}"} ${40 + ((index * 7) % 30)}`).join('\n'),
    ),
    '',
  ].join('\n');
  const exporter = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(exposition);
  });
  await new Promise<void>((resolve) => exporter.listen(0, '127.0.0.1', resolve));
  const exporterPort = (exporter.address() as AddressInfo).port;
  const directory = mkdtempSync(path.join(os.tmpdir(), 'bench-prometheus-'));
  const rules = Array.from(
    { length: ruleCount },
    (_, index) =>
      `      - alert: bench_${index}\n        expr: max by (host) (bench_metric{i="${index}"}) > 80\n        for: 1m`,
  );
  writeFileSync(
    path.join(directory, 'rules.yml'),
    `groups:\n  - name: bench\n    interval: 1s\n    rules:\n${rules.join('\n')}\n`,
  );
  writeFileSync(
    path.join(directory, 'prometheus.yml'),
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'rule_files: [rules.yml]',
      'scrape_configs:',
      '  - job_name: bench',
      `    static_configs: [{targets: ["127.0.0.1:${exporterPort}"]}]`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const prometheus = spawn(
    'prometheus',
    [
      `--config.file=${path.join(directory, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(directory, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { cwd: directory, stdio: 'ignore' },
  );
  try {
    const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    await waitFor(
      async () => counter(await scrape(), 'prometheus_rule_evaluations_total') > 0,
      60_000,
      'Prometheus rules',
    );
    await sleep(3000);
    const before = await scrape();
    const startedAt = Date.now();
    await sleep(measureSeconds * 1000);
    const after = await scrape();
    const elapsed = (Date.now() - startedAt) / 1000;
    const delta = (name: string) => counter(after, name) - counter(before, name);
    return {
      evaluationsPerSecond: Math.round(delta('prometheus_rule_evaluations_total') / elapsed),
      missedIterationsPerSecond: delta('prometheus_rule_group_iterations_missed_total') / elapsed,
      lastGroupSeconds: counter(after, 'prometheus_rule_group_last_duration_seconds'),
    };
  } finally {
    prometheus.kill('SIGKILL');
    await new Promise((resolve) => prometheus.once('exit', resolve));
    exporter.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

const percentile = (values: number[], fraction: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
};

async function main() {
  console.log(`alerting benchmark: ${ruleCount} rules, ${os.cpus().length} cores, ${new Date().toISOString()}`);
  const { throughput, latencies } = await benchAlerting();
  console.log(JSON.stringify({ alerting: throughput, latenciesMs: latencies }));
  const peer = await benchPrometheus().catch((error: Error) => ({ error: error.message }));
  console.log(JSON.stringify({ prometheus: peer }));
  console.log('\n| figure | MetricStream alerting | Prometheus 2.42 |');
  console.log('| --- | --- | --- |');
  const prometheusRate = 'evaluationsPerSecond' in peer ? String(peer.evaluationsPerSecond) : peer.error;
  console.log(
    `| rule evaluations/s (${ruleCount} rules, 1 s interval) | ${throughput.evaluationsPerSecond} | ${prometheusRate} |`,
  );
  console.log(
    `| missed evaluations/s | ${throughput.missedPerSecond} | ${'missedIterationsPerSecond' in peer ? `${peer.missedIterationsPerSecond.toFixed(2)} group iterations` : ''} |`,
  );
  console.log(`| POST /rules (32 concurrent, no evaluation load) | ${throughput.rulesCreatedPerSecond}/s | n/a |`);
  console.log(`| distinct queries/s to the query engine | ${throughput.queriesPerSecond} | n/a |`);
  console.log(
    `| mean batch (query + state) | ${(throughput.meanBatchSeconds * 1000).toFixed(1)} ms | ${'lastGroupSeconds' in peer ? `${(peer.lastGroupSeconds * 1000).toFixed(0)} ms per group iteration` : ''} |`,
  );
  console.log(
    `| detection latency, 5 s interval, 0 s duration (n=${latencies.length}) | median ${percentile(latencies, 0.5)} ms, max ${Math.max(...latencies)} ms | n/a (needs Alertmanager) |`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
