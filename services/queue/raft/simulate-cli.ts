import { parseConfig } from '../../kit/config';
import { ConfigError } from '../../kit/errors';
import { optionsForSeed, runSimulation, type SimulationResult } from './simulation';

/**
 * The long run of the Raft simulator: `node dist/services/queue/raft/simulate-cli.js --seeds 100000`.
 * A failing seed is printed with its options and replays with `--seed N` (add `--messages` to trace every message).
 */
const configSpec = {
  seeds: { kind: 'int', env: 'RAFT_SIM_SEEDS', description: 'how many seeds to run', default: 1000, min: 1 },
  from: { kind: 'int', env: 'RAFT_SIM_FROM', description: 'the first seed', default: 1, min: 0 },
  seed: { kind: 'int', env: 'RAFT_SIM_SEED', description: 'replay this one seed and print its trace', min: 0 },
  messages: { kind: 'bool', env: 'RAFT_SIM_MESSAGES', description: 'with --seed, trace every message', default: false },
  steps: { kind: 'int', env: 'RAFT_SIM_STEPS', description: 'time units of faults per run (longer runs)', min: 1 },
} as const;

function printFailure(result: SimulationResult, steps: number | undefined): void {
  const stepsFlag = steps === undefined ? '' : ` --steps ${steps}`;
  const options = { ...optionsForSeed(result.seed), ...(steps === undefined ? {} : { steps }) };
  console.log(`seed ${result.seed} FAILED: ${result.violation}`);
  console.log(`options: ${JSON.stringify(options)}`);
  console.log(`replay: node dist/services/queue/raft/simulate-cli.js --seed ${result.seed}${stepsFlag} --messages`);
}

function main(): number {
  let config;
  try {
    config = parseConfig(configSpec, process.argv.slice(2), {});
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    return 2;
  }
  const overrides = config.steps === undefined ? {} : { steps: config.steps };
  if (config.seed !== undefined) {
    const result = runSimulation(config.seed, { ...overrides, isTracingMessages: config.messages });
    console.log(result.trace.join('\n'));
    if (result.violation !== null) {
      printFailure(result, config.steps);
      return 1;
    }
    console.log(`seed ${config.seed} ok: ${JSON.stringify({ ...result, trace: undefined })}`);
    return 0;
  }
  const started = performance.now();
  let failures = 0;
  let acknowledged = 0;
  for (let seed = config.from; seed < config.from + config.seeds; seed++) {
    const result = runSimulation(seed, overrides);
    acknowledged += result.acknowledged;
    if (result.violation !== null) {
      failures++;
      printFailure(result, config.steps);
    }
    const done = seed - config.from + 1;
    if (done % 10_000 === 0) console.log(`${done} seeds, ${failures} failed`);
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `${config.seeds} seeds from ${config.from}: ${failures} failed, ${acknowledged} proposals acknowledged, ` +
      `${seconds.toFixed(1)} s`,
  );
  return failures === 0 ? 0 : 1;
}

process.exitCode = main();
