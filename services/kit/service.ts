import { parseConfig, describeConfig, type ConfigOf, type ConfigSpec } from './config';
import { closeOnSignal, exitOnStartupError, type RunningService } from './lifecycle';
import { createLogger, type Logger } from './logger';

/** Options every service accepts. */
export const commonOptions = {
  host: {
    kind: 'string',
    env: 'HOST',
    default: '127.0.0.1',
    description: 'address the API listens on (0.0.0.0 in Kubernetes)',
  },
  logLevel: {
    kind: 'string',
    env: 'LOG_LEVEL',
    default: 'info',
    choices: ['error', 'warn', 'info', 'debug'],
    description: 'log level',
  },
} as const;

export interface ServiceDefinition<C extends ConfigSpec> {
  name: string;
  summary: string;
  configSpec: C;
  start(config: ConfigOf<C>, logger: Logger): Promise<RunningService>;
}

export const defineService = <C extends ConfigSpec>(definition: ServiceDefinition<C>) => definition;

/** The CLI entry of one service: parse config once, start, and close cleanly on SIGTERM/SIGINT. */
export async function runService<C extends ConfigSpec>(
  definition: ServiceDefinition<C>,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(
      `metricstream ${definition.name}: ${definition.summary}\n\n${describeConfig(definition.configSpec)}\n`,
    );
    return;
  }
  try {
    const config = parseConfig(definition.configSpec, argv, env);
    const level = (config as { logLevel?: string }).logLevel ?? 'info';
    const logger = createLogger(definition.name, level);
    const running = await definition.start(config, logger);
    closeOnSignal(logger, running);
  } catch (error) {
    exitOnStartupError(error, definition.name);
  }
}
