import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

/** Helpers for tests that cross process boundaries: real services, real redis-server, kill -9. */

const sourceRoot = path.resolve(__dirname, '../../..');
/** The repository root, whether this file runs from source (jest) or compiled under dist/ (benchmarks). */
export const repoRoot = path.basename(sourceRoot) === 'dist' ? path.dirname(sourceRoot) : sourceRoot;
export const cliPath = path.join(repoRoot, 'dist/services/cli/metricstream.js');

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(50);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}

export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly output: string[];
  /** SIGKILL and wait for the exit. */
  kill9(): Promise<void>;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
  /** Start the same command again (after kill9 or stop). */
  restart(): Promise<ManagedProcess>;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  /** Resolves once the process is ready; defaults to nothing. */
  waitUntilReady?: () => Promise<unknown>;
  cwd?: string;
}

export async function spawnProcess(
  name: string,
  command: string,
  args: string[],
  options: SpawnOptions = {},
): Promise<ManagedProcess> {
  const child = spawn(command, args, {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const collect = (chunk: Buffer) => {
    output.push(chunk.toString());
    if (output.length > 2000) output.splice(0, 1000);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const managed: ManagedProcess = {
    name,
    child,
    output,
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    restart: () => spawnProcess(name, command, args, options),
  };
  if (options.waitUntilReady) {
    const failedEarly = exited.then((code) => {
      throw new Error(`${name} exited with ${code} before it was ready:\n${output.join('')}`);
    });
    await Promise.race([options.waitUntilReady(), failedEarly]);
    failedEarly.catch(() => undefined);
  }
  return managed;
}

/** Polls `url` until it answers 2xx. */
export const httpReady =
  (url: string, timeoutMs = 20_000) =>
  () =>
    waitFor(async () => (await fetch(url)).ok || undefined, timeoutMs, `${url} to answer 2xx`);

/**
 * Starts one MetricStream service from the compiled CLI (run `npm run build` first) and waits for `/healthz`.
 * `args` are the service's flags; pass `--port` there.
 */
export function startService(
  service: string,
  port: number,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<ManagedProcess> {
  return spawnProcess(service, process.execPath, [cliPath, service, '--port', String(port), ...args], {
    env: { LOG_LEVEL: 'warn', ...env },
    waitUntilReady: httpReady(`http://127.0.0.1:${port}/healthz`),
  });
}

/** A real redis-server on a free port, no persistence. */
export async function startRedis(port?: number): Promise<ManagedProcess & { url: string }> {
  const chosenPort = port ?? (await freePort());
  const managed = await spawnProcess(
    'redis',
    'redis-server',
    ['--port', String(chosenPort), '--save', '', '--appendonly', 'no'],
    {
      waitUntilReady: () => waitFor(() => canConnect(chosenPort), 10_000, 'redis-server to listen'),
    },
  );
  return Object.assign(managed, { url: `redis://127.0.0.1:${chosenPort}` });
}

export function canConnect(port: number, host = '127.0.0.1'): Promise<boolean | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(undefined));
  });
}
