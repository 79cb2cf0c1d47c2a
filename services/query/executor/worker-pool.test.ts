import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { QueryError } from '../errors';
import type { SelectPlan } from '../planner/plan';
import { MergePool } from './worker-pool';

/**
 * The pool's protocol with a stand-in worker (plain JavaScript, so jest needs no compiled files): `hang` never
 * answers, `fail` answers a coded error, anything else echoes its name.
 */
const WORKER = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (request) => {
  const name = request.plan.normalized;
  if (name === 'hang') return;
  if (name === 'fail') return parentPort.postMessage({ id: request.id, error: { code: 'too_many_series', message: 'too many', details: { limit: 1 } } });
  parentPort.postMessage({ id: request.id, rowsJson: JSON.stringify([{ name }]) });
});
`;

const planNamed = (name: string) => ({ normalized: name }) as SelectPlan;
const LIMITS = { maxSeries: 1, maxPoints: 1 };

describe('MergePool', () => {
  let directory: string;
  let pool: MergePool;

  beforeEach(() => {
    directory = mkdtempSync(path.join(os.tmpdir(), 'merge-pool-'));
    const script = path.join(directory, 'worker.js');
    writeFileSync(script, WORKER);
    pool = new MergePool(script, 1);
  });
  afterEach(async () => {
    await pool.close();
    rmSync(directory, { recursive: true, force: true });
  });

  const merge = (name: string, signal = new AbortController().signal) =>
    pool.merge(planNamed(name), [], LIMITS, signal);

  it('queues work beyond its size and answers each task in turn', async () => {
    expect(await Promise.all([merge('a'), merge('b'), merge('c')])).toEqual([
      '[{"name":"a"}]',
      '[{"name":"b"}]',
      '[{"name":"c"}]',
    ]);
  });

  it('rebuilds coded errors as QueryError', async () => {
    const error = await merge('fail').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(QueryError);
    expect(error).toMatchObject({ code: 'too_many_series', details: { limit: 1 } });
  });

  it('terminates the worker of a cancelled task and keeps serving with a new one', async () => {
    const controller = new AbortController();
    const hanging = merge('hang', controller.signal);
    const queued = merge('after');
    controller.abort(new Error('client disconnected'));
    await expect(hanging).rejects.toThrow('client disconnected');
    expect(await queued).toBe('[{"name":"after"}]');
  });

  it('drops a queued task whose query is cancelled before it starts', async () => {
    const blocker = new AbortController();
    const first = merge('hang', blocker.signal);
    const controller = new AbortController();
    const queued = merge('never', controller.signal);
    controller.abort(new Error('query timeout'));
    await expect(queued).rejects.toThrow('query timeout');
    blocker.abort(new Error('done'));
    await expect(first).rejects.toThrow('done');
  });
});
