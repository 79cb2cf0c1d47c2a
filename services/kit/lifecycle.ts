import { ConfigError } from './errors';
import type { Logger } from './logger';

export interface RunningService {
  /** Stop accepting, finish in-flight work, flush what must be flushed. */
  close(): Promise<void>;
}

/**
 * Runs until SIGTERM or SIGINT, then closes the service and exits 0. A second signal exits at once with 1.
 */
export function closeOnSignal(logger: Logger, service: RunningService, graceMs = 30_000): void {
  let isClosing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (isClosing) {
      logger.warn('second signal, exiting now', { signal });
      process.exit(1);
    }
    isClosing = true;
    logger.info('shutting down', { signal });
    const deadline = setTimeout(() => {
      logger.error('shutdown took too long, exiting', { graceMs });
      process.exit(1);
    }, graceMs);
    deadline.unref();
    service.close().then(
      () => {
        logger.info('stopped');
        logger.on('finish', () => process.exit(0));
        logger.end();
        setTimeout(() => process.exit(0), 200).unref();
      },
      (error: unknown) => {
        logger.error('shutdown failed', { error });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

/** Reports a start-up failure readably: configuration problems as a list (exit 2), anything else as one line (exit 1). */
export function exitOnStartupError(error: unknown, service: string): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`metricstream ${service}: ${error.message}\n`);
    process.exit(2);
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`metricstream ${service}: failed to start: ${message}\n`);
  process.exit(1);
}
