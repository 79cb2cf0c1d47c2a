import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import type { Logger } from '../kit/logger';

export interface ChildSpec {
  label: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Resolves when the child answers its health check; the supervisor waits for it before starting the next. */
  healthUrl?: string;
}

const RESTART_BACKOFF_MS = [1000, 2000, 5000, 10_000, 30_000];
const STOP_GRACE_MS = 20_000;

/**
 * Runs children in order, prefixes every output line with the child's label, restarts a child that dies on its own
 * (with backoff), and stops them in reverse order.
 */
export class Supervisor {
  private readonly running = new Map<string, ChildProcess>();
  private readonly restarts = new Map<string, number>();
  private isStopping = false;

  constructor(
    private readonly logger: Logger,
    private readonly write: (line: string) => void = (line) => process.stdout.write(line + '\n'),
  ) {}

  async startAll(children: readonly ChildSpec[]): Promise<void> {
    for (const child of children) {
      this.launch(child);
      if (child.healthUrl) await this.waitHealthy(child);
    }
  }

  private launch(spec: ChildSpec): void {
    const child = spawn(spec.command, spec.args, { env: spec.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.running.set(spec.label, child);
    const prefix = `[${spec.label}] `;
    for (const stream of [child.stdout!, child.stderr!]) {
      readline.createInterface({ input: stream }).on('line', (line) => this.write(prefix + line));
    }
    child.on('exit', (code, signal) => {
      if (this.isStopping) return;
      const attempt = this.restarts.get(spec.label) ?? 0;
      const delay = RESTART_BACKOFF_MS[Math.min(attempt, RESTART_BACKOFF_MS.length - 1)];
      this.restarts.set(spec.label, attempt + 1);
      this.logger.warn('process exited, restarting', { process: spec.label, code, signal, delayMs: delay });
      setTimeout(() => this.isStopping || this.launch(spec), delay).unref();
    });
  }

  private async waitHealthy(spec: ChildSpec): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !this.isStopping) {
      try {
        if ((await fetch(spec.healthUrl!)).ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (!this.isStopping) this.logger.warn('process is not healthy yet, starting the rest', { process: spec.label });
  }

  async stopAll(): Promise<void> {
    this.isStopping = true;
    for (const [label, child] of [...this.running].reverse()) {
      await stopChild(child);
      this.running.delete(label);
    }
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}
