/**
 * Ingestion benchmark (`npm run bench:ingestion`, `-- --full` for 60 s cases, `-- --duration 5` to override).
 *
 *  ceiling  a bare node:http server answering 202 to the same requests as (b), in its own process
 *  (a)      100 connections, 100 client ids at the default 10 req/s limit: answered req/s and admitted req/s vs 1,000/s
 *  (b)      100 connections, 10,000 client ids, 10 metrics per request, into the queue double: accepted req/s, p50/p99
 *  (b')     the same with no queue reachable, so every batch is fsynced into the spool
 *
 * The service, the queue double (services/ingestion/testing) and the bare server each run in their own process; the
 * load generator (autocannon) runs in this one. Figures go to stdout as a markdown table.
 */
import autocannon from 'autocannon';

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, httpReady, spawnProcess, type ManagedProcess } from '../services/kit/testing/processes';

const args = process.argv.slice(2);
const durationFlag = args.indexOf('--duration');
const seconds = durationFlag >= 0 ? Number(args[durationFlag + 1]) : args.includes('--full') ? 60 : 10;
const connections = 100;

const body = JSON.stringify({
  metrics: Array.from({ length: 10 }, (_, index) => ({
    name: 'cpu_usage',
    value: 40 + index,
    type: 'gauge',
    tags: { host: `server${index}`, region: 'eu-west-1' },
  })),
});

interface Figures {
  answered: number;
  accepted: number;
  rejected: number;
  errors: number;
  p50: number;
  p99: number;
  seconds: number;
  /** Responses over the whole run, warm-up included (the denominator of CPU per request). */
  total: number;
  /** CPU (user + system) per response of each measured process, in microseconds. */
  cpuMicros: number[];
}

/** CPU time of a process so far, in microseconds (Linux /proc; clock ticks are 10 ms). */
function cpuMicrosOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/**
 * Runs autocannon for `warmupSeconds + duration`; accepted/answered/rejected count only responses that arrive after
 * the warm-up (so an initial burst allowance does not inflate the steady rate), latency covers the whole run.
 */
function load(
  url: string,
  clientCount: number,
  duration: number,
  measured: readonly ManagedProcess[],
  warmupSeconds = 0,
): Promise<Figures> {
  let next = 0;
  const counts = { answered: 0, accepted: 0, rejected: 0, total: 0 };
  const cpuBefore = measured.map((process) => cpuMicrosOf(process.child.pid!));
  let measureFrom = Number.POSITIVE_INFINITY;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections,
        duration: duration + warmupSeconds,
        requests: [
          {
            method: 'POST',
            path: '/metrics',
            body,
            setupRequest: (request) => ({
              ...request,
              headers: { 'content-type': 'application/json', authorization: `client_${next++ % clientCount}` },
            }),
            onResponse: (status) => {
              counts.total++;
              if (Date.now() < measureFrom) return;
              counts.answered++;
              if (status >= 200 && status < 300) counts.accepted++;
              else if (status === 429) counts.rejected++;
            },
          },
        ],
      },
      (error, result) => {
        if (error) return reject(error);
        const elapsed = (Date.now() - measureFrom) / 1000;
        resolve({
          answered: counts.answered / elapsed,
          accepted: counts.accepted / elapsed,
          rejected: counts.rejected / elapsed,
          errors: result.errors + result.timeouts,
          p50: result.latency.p50,
          p99: result.latency.p99,
          seconds: elapsed,
          total: counts.total,
          cpuMicros: measured.map(
            (process, index) => (cpuMicrosOf(process.child.pid!) - cpuBefore[index]) / Math.max(1, counts.total),
          ),
        });
      },
    );
    instance.once('start', () => {
      measureFrom = Date.now() + warmupSeconds * 1000;
    });
  });
}

/** The ceiling: node:http reading the body and answering 202, nothing else. */
async function startBareServer(port: number): Promise<ManagedProcess> {
  const source = `require('node:http').createServer((req, res) => { const parts = []; req.on('data', (p) => parts.push(p));
    req.on('end', () => { res.writeHead(202, { 'content-type': 'application/json' }); res.end('{"accepted":10}'); });
  }).listen(${port}, '127.0.0.1');`;
  return spawnProcess('bare-http', process.execPath, ['-e', source], {
    waitUntilReady: async () => {
      for (let attempt = 0; attempt < 100; attempt++) {
        if (
          await fetch(`http://127.0.0.1:${port}/`, { method: 'POST' }).then(
            () => true,
            () => false,
          )
        )
          return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error('bare server did not start');
    },
  });
}

/** The compiled CLI beside this file (dist/bench → dist/services/cli); the kit's startService assumes a source tree. */
const cli = path.resolve(__dirname, '../services/cli/metricstream.js');

const startIngestion = (port: number, flags: string[]) =>
  spawnProcess(
    'ingestion',
    process.execPath,
    [cli, 'ingestion', '--port', String(port), '--log-level', 'warn', ...flags],
    {
      cwd: os.tmpdir(),
      waitUntilReady: httpReady(`http://127.0.0.1:${port}/healthz`),
    },
  );

/** The queue double in its own process, so parsing produce bodies does not slow the load generator down. */
async function startQueueDouble(port: number): Promise<ManagedProcess> {
  const module = JSON.stringify(path.resolve(__dirname, '../services/ingestion/testing/queue-double.js'));
  const source = `new (require(${module}).QueueDouble)({ isRecording: false, port: ${port} }).start();`;
  return spawnProcess('queue-double', process.execPath, ['-e', source], {
    waitUntilReady: httpReady(`http://127.0.0.1:${port}/stats`),
  });
}

const queueRecords = async (url: string) =>
  ((await (await fetch(`${url}/stats`)).json()) as { records: number }).records;

/** Requests the service has accepted so far, from its own counter (each benchmark request carries 10 metrics). */
async function serverAcceptedRequests(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text
    .split('\n')
    .find((entry) => entry.startsWith('ingestion_metrics_accepted_total{endpoint="metrics"'));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) / 10 : 0;
}

const round = (value: number) => Math.round(value).toLocaleString('en-US');

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-ingestion-'));
  const rows: string[] = [];
  const started: ManagedProcess[] = [];
  try {
    const queuePort = await freePort();
    const queue = { url: `http://127.0.0.1:${queuePort}` };
    const queueDouble = await startQueueDouble(queuePort);
    started.push(queueDouble);
    const barePort = await freePort();
    const bare = await startBareServer(barePort);
    started.push(bare);
    const ceiling = await load(`http://127.0.0.1:${barePort}`, 10_000, seconds, [bare]);
    await started.pop()!.stop();

    const port = await freePort();
    const ingestion = await startIngestion(port, ['--queue-url', queue.url, '--data-dir', `${dataDir}/a`]);
    started.push(ingestion);
    // The first 2 s drain every client's initial burst, so the measured window shows the steady rate alone. The
    // service's own counter, read when the window opens and after the run, gives the admitted rate without the
    // load generator's response timing.
    const base = `http://127.0.0.1:${port}`;
    let windowStart: Promise<{ count: number; at: number }> | undefined;
    const opener = setTimeout(() => {
      const at = Date.now();
      windowStart = serverAcceptedRequests(base).then((count) => ({ count, at }));
    }, 2000);
    const limited = await load(base, 100, seconds, [ingestion, queueDouble], 2);
    const windowEnd = Date.now();
    clearTimeout(opener);
    const opened = await windowStart!;
    const serverAdmitted = ((await serverAcceptedRequests(base)) - opened.count) / ((windowEnd - opened.at) / 1000);
    const recordsBefore = await queueRecords(queue.url);
    const open = await load(`http://127.0.0.1:${port}`, 10_000, seconds, [ingestion, queueDouble]);
    const forwarded = (await queueRecords(queue.url)) - recordsBefore;
    await started.pop()!.stop();

    const spoolPort = await freePort();
    const deadQueue = `http://127.0.0.1:${await freePort()}`;
    const spooling = await startIngestion(spoolPort, [
      '--queue-url',
      deadQueue,
      '--data-dir',
      `${dataDir}/b`,
      '--spool-max-bytes',
      String(8 * 1024 ** 3),
    ]);
    started.push(spooling);
    const spooled = await load(`http://127.0.0.1:${spoolPort}`, 10_000, seconds, [spooling]);
    await started.pop()!.stop();

    const ratio = open.accepted / ceiling.accepted;
    const micros = (value: number) => value.toFixed(0);
    const perCore = (cpu: number) => round(1e6 / cpu);
    rows.push(
      '| case | answered req/s | accepted req/s | p50 ms | p99 ms | server CPU µs/request | notes |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      `| ceiling: bare node:http 202 | ${round(ceiling.answered)} | ${round(ceiling.accepted)} | ${ceiling.p50} | ${ceiling.p99} | ${micros(ceiling.cpuMicros[0])} | same body and connections as (b); ${perCore(ceiling.cpuMicros[0])} req/s per core of CPU |`,
      `| (a) 100 clients at 10 req/s | ${round(limited.answered)} | ${round(limited.accepted)} | ${limited.p50} | ${limited.p99} | ${micros(limited.cpuMicros[0])} | after a 2 s warm-up: admitted ${round(limited.accepted)}/s vs 1,000/s (${(((limited.accepted - 1000) / 1000) * 100).toFixed(1)}%); counted by the service over the same window: ${round(serverAdmitted)}/s (${(((serverAdmitted - 1000) / 1000) * 100).toFixed(1)}%); 429s ${round(limited.rejected)}/s |`,
      `| (b) 10,000 clients, 10 metrics/request, into the queue double | ${round(open.answered)} | ${round(open.accepted)} | ${open.p50} | ${open.p99} | ${micros(open.cpuMicros[0])} | ratio to ceiling ${ratio.toFixed(2)} (CPU per request ${(ceiling.cpuMicros[0] / open.cpuMicros[0]).toFixed(2)}); ${perCore(open.cpuMicros[0])} req/s per core of CPU; queue double ${micros(open.cpuMicros[1])} µs/request; ${round(forwarded)} records acknowledged |`,
      `| (b') same, queue unreachable: fsynced spool | ${round(spooled.answered)} | ${round(spooled.accepted)} | ${spooled.p50} | ${spooled.p99} | ${micros(spooled.cpuMicros[0])} | ratio to ceiling ${(spooled.accepted / ceiling.accepted).toFixed(2)} |`,
    );
    const errors = ceiling.errors + limited.errors + open.errors + spooled.errors;
    process.stdout.write(
      `ingestion benchmark: ${seconds} s per case, ${connections} connections, node ${process.version}, ` +
        `${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)} at the end\n\n${rows.join('\n')}\n` +
        (errors > 0 ? `\nconnection errors/timeouts: ${errors}\n` : ''),
    );
  } finally {
    for (const process of started) await process.kill9();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:ingestion failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
