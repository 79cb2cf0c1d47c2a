#!/usr/bin/env node
import type { ConfigSpec } from '../kit/config';
import { runService, type ServiceDefinition } from '../kit/service';

/** Each command's module is loaded only when it runs, so one command does not pay for the others. */
const commands: Record<string, () => ServiceDefinition<ConfigSpec>> = {
  ingestion: () => require('../ingestion/main').ingestionService,
  queue: () => require('../queue/main').queueService,
  storage: () => require('../storage/main').storageService,
  query: () => require('../query/main').queryService,
  alerting: () => require('../alerting/main').alertingService,
  operator: () => require('../../operator/main').operatorService,
  start: () => require('../platform/main').platformCommand,
};

function usage(): string {
  return [
    'usage: metricstream <command> [--flag value ...]',
    '',
    'commands:',
    '  start       run the whole platform on this machine (all services, data under ./data)',
    '  ingestion   POST /metrics: authenticate, validate, rate-limit, forward to the queue',
    '  queue       durable replicated log: POST /produce, GET /consume',
    '  storage     time-series engine: POST /write, POST /query',
    '  query       query language: POST /query',
    '  alerting    rules and notifications: POST /rules, GET /alerts',
    '  operator    Kubernetes operator for QueueCluster, StorageShard and AlertRule',
    '',
    "metricstream <command> --help lists the command's options.",
  ].join('\n');
}

function main(argv: string[]): void {
  const [command, ...rest] = argv;
  const load = command ? commands[command] : undefined;
  if (!load) {
    process.stderr.write(
      `${command && !command.startsWith('-') ? `unknown command "${command}"\n\n` : ''}${usage()}\n`,
    );
    process.exit(command === '--help' || command === '-h' ? 0 : 2);
  }
  void runService(load(), rest, process.env);
}

main(process.argv.slice(2));
