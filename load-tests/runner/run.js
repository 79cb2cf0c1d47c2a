// The Node runner for the load scenarios (k6 is not usable here): `npm run load [-- --full] [-- --only name]`.
// Starts a local platform on spare ports unless --no-platform is given (then *_URL variables point at services).
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { scenarios as alertingScenarios } from '../scenarios/alerting.js';
import { scenarios as ingestionScenarios } from '../scenarios/ingestion.js';
import { scenarios as queryScenarios } from '../scenarios/query.js';
import { scenarios as queueScenarios } from '../scenarios/queue.js';
import { defaultUrls } from '../scenarios/scenario.js';
import { soak } from '../scenarios/soak.js';
import { rssGrowth, summarize, violations } from './verdict.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const isFull = args.includes('--full');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const PLATFORM_PORTS = { ingestion: 18080, queue: 18081, storage: 18082, query: 18083, alerting: 18084 };

/** Order matters: ingestion fills the store that the query scenario reads. */
const sequential = [...ingestionScenarios, ...queueScenarios, ...queryScenarios, ...alertingScenarios];

async function startPlatform() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'metricstream-load-'));
  const portFlags = Object.entries(PLATFORM_PORTS).flatMap(([service, port]) => [`--${service}-port`, String(port)]);
  const child = spawn(
    process.execPath,
    [path.join(repoRoot, 'dist/services/cli/metricstream.js'), 'start', '--data-dir', dataDir, ...portFlags],
    {
      env: { ...process.env, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const urls = Object.fromEntries(
    Object.entries(PLATFORM_PORTS).map(([service, port]) => [service, `http://127.0.0.1:${port}`]),
  );
  for (const url of Object.values(urls)) await waitReady(url);
  return {
    urls,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function waitReady(url) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not become ready within 60 s`);
}

/** Runs one scenario with autocannon; each connection keeps its own iteration counter, as a k6 VU does. */
function runScenario(scenario, baseUrl, seconds) {
  let nextConnection = 0;
  let invalidBodies = 0;
  const statuses = {};
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: baseUrl,
        connections: scenario.connections,
        duration: seconds,
        requests: [
          {
            setupRequest: (request, context) => {
              context.connection ??= nextConnection++;
              context.iteration = (context.iteration ?? -1) + 1;
              const built = scenario.request(context.connection, context.iteration);
              return {
                ...request,
                method: built.method,
                path: built.path,
                headers: built.headers ?? {},
                body: built.body,
              };
            },
            onResponse: (status, body) => {
              statuses[status] = (statuses[status] ?? 0) + 1;
              if (scenario.isBodyValid && !scenario.isBodyValid(status, body)) invalidBodies++;
            },
          },
        ],
      },
      (error, result) =>
        error ? reject(error) : resolve(summarize(scenario, result, statuses, invalidBodies, seconds)),
    );
  });
}

async function residentMemory(urls) {
  const sizes = {};
  for (const [service, url] of Object.entries(urls)) {
    try {
      const text = await (await fetch(`${url}/metrics`)).text();
      const match = /^process_resident_memory_bytes(?:\{[^}]*\})? (\S+)$/m.exec(text);
      if (match) sizes[service] = Number(match[1]);
    } catch {
      // a service that does not answer is reported by the scenarios themselves
    }
  }
  return sizes;
}

async function runSoak(urls) {
  const seconds = isFull ? soak.seconds.full : soak.seconds.smoke;
  const samples = [];
  const sampler = setInterval(
    async () => samples.push(await residentMemory(urls)),
    Math.max(1000, (seconds * 1000) / 20),
  );
  const results = await Promise.all(soak.parts.map((part) => runScenario(part, urls[part.service], seconds)));
  clearInterval(sampler);
  samples.push(await residentMemory(urls));
  const growth = rssGrowth(samples);
  // A smoke run is too short to tell warm-up (caches, JIT) from a leak: RSS is reported, and judged in full runs only.
  const failures = Object.entries(isFull ? growth : {})
    .filter(([, ratio]) => ratio > soak.maxRssGrowth)
    .map(([service, ratio]) => `${service} RSS grew ${(ratio * 100).toFixed(0)}% (limit ${soak.maxRssGrowth * 100}%)`);
  return { results, growth, failures };
}

async function main() {
  const platform = args.includes('--no-platform') ? undefined : await startPlatform();
  const urls =
    platform?.urls ??
    Object.fromEntries(
      Object.keys(defaultUrls).map((service) => [
        service,
        process.env[`${service.toUpperCase()}_URL`] ?? defaultUrls[service],
      ]),
    );
  const report = [];
  let failed = false;
  try {
    for (const scenario of sequential.filter((candidate) => !only || candidate.name === only)) {
      const result = await runScenario(
        scenario,
        urls[scenario.service],
        isFull ? scenario.seconds.full : scenario.seconds.smoke,
      );
      const problems = violations(scenario, result, isFull);
      failed ||= problems.length > 0;
      report.push({ ...result, problems });
      console.log(`${problems.length ? 'FAIL' : 'ok  '} ${JSON.stringify({ ...result, problems })}`);
    }
    if (!only || only === 'soak') {
      const soakResult = await runSoak(urls);
      const problems = [
        ...soakResult.failures,
        ...soakResult.results.flatMap((result, index) => violations(soak.parts[index], result, isFull)),
      ];
      failed ||= problems.length > 0;
      report.push({ scenario: 'soak', rssGrowth: soakResult.growth, parts: soakResult.results, problems });
      console.log(
        `${problems.length ? 'FAIL' : 'ok  '} ${JSON.stringify({ scenario: 'soak', rssGrowth: soakResult.growth, problems })}`,
      );
    }
  } finally {
    await platform?.stop();
  }
  fs.mkdirSync(path.join(repoRoot, 'test-output'), { recursive: true });
  fs.writeFileSync(
    path.join(repoRoot, 'test-output/load.json'),
    JSON.stringify({ mode: isFull ? 'full' : 'smoke', date: new Date().toISOString(), report }, null, 2),
  );
  const failures = report.filter((entry) => entry.problems.length > 0).length;
  console.log(`load: ${report.length - failures} passed, ${failures} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
