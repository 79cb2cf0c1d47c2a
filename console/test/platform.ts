import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { mountConsole, forwardTo } from '../../services/kit/console';
import { boundPort, closeServer, createApp, finishApp, listen } from '../../services/kit/http';
import { createLogger } from '../../services/kit/logger';
import { createRegistry } from '../../services/kit/metrics';
import { freePort, repoRoot, startService, type ManagedProcess } from '../../services/kit/testing/processes';

/** The query service's own paths; the front below forwards them, as the query service answers them itself. */
const QUERY_PATHS = /^\/(query|v1\/query|v1\/query\/batch|v1\/validate|v1\/shards)$/;

export interface Platform {
  /** The console origin: `<consoleUrl>/ui/`. */
  consoleUrl: string;
  ingestionUrl: string;
  alertingUrl: string;
  queryUrl: string;
  close(): Promise<void>;
}

/**
 * Starts queue, storage, query, alerting and ingestion from the compiled CLI (`npx tsc -p tsconfig.json` first), and
 * an express front with `mountConsole` that stands in for the query service serving the console.
 */
export async function startPlatform(assetsDir: string): Promise<Platform> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'console-e2e-'));
  const [queuePort, storagePort, queryPort, alertingPort, ingestionPort] = await Promise.all(
    Array.from({ length: 5 }, () => freePort()),
  );
  const url = (port: number) => `http://127.0.0.1:${port}`;
  const started: ManagedProcess[] = [];
  const start = async (service: string, port: number, args: string[]) => {
    const managed = await startService(service, port, args);
    started.push(managed);
    return managed;
  };
  try {
    await Promise.all([
      start('queue', queuePort, ['--data-dir', path.join(dataDir, 'queue'), '--fsync', 'interval']),
      start('storage', storagePort, [
        '--data-dir',
        path.join(dataDir, 'storage'),
        '--queue-url',
        url(queuePort),
        '--fsync',
        'false',
      ]),
      start('query', queryPort, ['--storage-urls', url(storagePort), '--cache-ttl', '0', '--merge-workers', '0']),
      start('alerting', alertingPort, [
        '--query-url',
        url(queryPort),
        '--data-dir',
        path.join(dataDir, 'alerting'),
        '--evaluation-interval',
        '500',
        '--retry-base',
        '100',
      ]),
      start('ingestion', ingestionPort, [
        '--queue-url',
        url(queuePort),
        '--data-dir',
        path.join(dataDir, 'ingestion'),
        '--rate-limit',
        '1000',
        '--rate-limit-burst',
        '1000',
      ]),
    ]);
  } catch (error) {
    await Promise.all(started.map((managed) => managed.kill9()));
    throw error;
  }
  const logger = createLogger('console-test', 'error');
  const { registry, http: httpMetrics } = createRegistry('console-test');
  const app = createApp({ logger, registry, httpMetrics });
  const toQuery = forwardTo(url(queryPort), { service: 'query', timeoutMs: 10_000, isReadOnly: false });
  app.use((req, res, next) => (QUERY_PATHS.test(req.path) ? toQuery(req, res, next) : next()));
  mountConsole(app, {
    assetsDir,
    upstreams: {
      alerting: url(alertingPort),
      queue: url(queuePort),
      ingestion: url(ingestionPort),
      storage: [url(storagePort)],
    },
  });
  finishApp(app, logger);
  const server = await listen(app, 0, '127.0.0.1');
  return {
    consoleUrl: url(boundPort(server)),
    ingestionUrl: url(ingestionPort),
    alertingUrl: url(alertingPort),
    queryUrl: url(queryPort),
    async close() {
      await closeServer(server, 1000);
      await Promise.all(started.map((managed) => managed.stop()));
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A webhook receiver counting deliveries, for the alert's "last notification". */
export async function startWebhookReceiver(): Promise<{ url: string; received: unknown[]; close(): Promise<void> }> {
  const received: unknown[] = [];
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      received.push(JSON.parse(Buffer.concat(parts).toString('utf8') || 'null'));
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${boundPort(server)}/hook`,
    received,
    close: () => closeServer(server, 500),
  };
}

export const consoleAssetsDir = path.join(repoRoot, 'dist/console');
export const screenshotDir = path.join(repoRoot, 'test-output/console');
