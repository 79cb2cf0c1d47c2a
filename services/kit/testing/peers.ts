import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, spawnProcess, waitFor, type ManagedProcess } from './processes';

/**
 * The Debian peers that tests and benchmarks compare MetricStream with, started on free loopback ports with their
 * data under `directory`. Each answers undefined (after saying why on stdout) when its package is not installed.
 */
export type RunningPeer = ManagedProcess & { url: string; dataDirectory: string };

export function installedBinary(name: string): string | undefined {
  return (
    spawnSync('sh', ['-c', `command -v ${name}`])
      .stdout.toString()
      .trim() || undefined
  );
}

/** InfluxDB 1.x (`influxd`) with reporting, the monitor store and query logging off; `database` is created. */
export async function startInfluxDb(directory: string, database: string): Promise<RunningPeer | undefined> {
  const influxd = installedBinary('influxd');
  if (!influxd) {
    process.stdout.write('InfluxDB skipped: influxd is not installed (apt-get install -y influxdb)\n');
    return undefined;
  }
  mkdirSync(directory, { recursive: true });
  const [httpPort, rpcPort] = [await freePort(), await freePort()];
  const config = path.join(directory, 'influxdb.conf');
  writeFileSync(
    config,
    [
      'reporting-disabled = true',
      `bind-address = "127.0.0.1:${rpcPort}"`,
      `[meta]\n  dir = "${directory}/meta"`,
      `[data]\n  dir = "${directory}/data"\n  wal-dir = "${directory}/wal"\n  query-log-enabled = false`,
      `[http]\n  bind-address = "127.0.0.1:${httpPort}"\n  log-enabled = false\n  max-body-size = 0`,
      '[monitor]\n  store-enabled = false',
      '[continuous_queries]\n  enabled = false',
    ].join('\n'),
  );
  const url = `http://127.0.0.1:${httpPort}`;
  const managed = await spawnProcess('influxd', influxd, ['-config', config], {
    waitUntilReady: () =>
      waitFor(async () => (await fetch(`${url}/ping`)).status === 204 || undefined, 30_000, 'influxd'),
  });
  const created = await fetch(`${url}/query`, {
    method: 'POST',
    body: new URLSearchParams({ q: `CREATE DATABASE ${database}` }),
  });
  if (!created.ok) throw new Error(`influxd: CREATE DATABASE answered ${created.status}`);
  return Object.assign(managed, { url, dataDirectory: directory });
}

/** VictoriaMetrics single-node (`victoria-metrics`) with retention long enough for any generated timestamps. */
export async function startVictoriaMetrics(directory: string): Promise<RunningPeer | undefined> {
  const binary = installedBinary('victoria-metrics');
  if (!binary) {
    process.stdout.write(
      'VictoriaMetrics skipped: victoria-metrics is not installed (apt-get install -y victoria-metrics)\n',
    );
    return undefined;
  }
  mkdirSync(directory, { recursive: true });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const managed = await spawnProcess(
    'victoria-metrics',
    binary,
    [
      `-storageDataPath=${directory}`,
      `-httpListenAddr=127.0.0.1:${port}`,
      '-retentionPeriod=100y',
      '-loggerLevel=ERROR',
    ],
    {
      waitUntilReady: () =>
        waitFor(async () => (await fetch(`${url}/health`)).ok || undefined, 30_000, 'victoria-metrics'),
    },
  );
  return Object.assign(managed, { url, dataDirectory: directory });
}
