import { spawnSync } from 'node:child_process';
import { cliPath } from '../kit/testing/processes';

const run = (...args: string[]) =>
  spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8', timeout: 20_000 });

describe('the metricstream command', () => {
  it('lists the commands and exits 2 on an unknown one', () => {
    const result = run('frobnicate');
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/unknown command "frobnicate"/);
    expect(result.stderr).toMatch(/start +run the whole platform/);
  });

  it('prints the options of a command with --help', () => {
    const result = run('start', '--help');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/\| `--data-dir` \| `METRICSTREAM_DATA_DIR` \| string \| "\.\/data" \|/);
  });

  it('refuses bad options readably, every problem at once, without a stack trace', () => {
    const result = run('start', '--ingestion-port', '99999', '--bogus', 'x');
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--ingestion-port \/ INGESTION_PORT: 99999 is above the maximum 65535/);
    expect(result.stderr).toMatch(/unknown option --bogus/);
    expect(result.stderr).not.toMatch(/at .*\.js:\d+/);
  });
});
