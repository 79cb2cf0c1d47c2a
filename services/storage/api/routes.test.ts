import fs from 'node:fs/promises';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { seededRandom } from '../../kit/clock';
import { boundPort, closeServer, createApp, finishApp, listen } from '../../kit/http';
import { createLogger } from '../../kit/logger';
import { createRegistry } from '../../kit/metrics';
import { defaultBlockLayout } from '../block/builder';
import { Engine } from '../engine/engine';
import { tagIndexCodec } from '../engine/index-codec';
import { createEngineMetrics } from '../engine/metrics';
import { addRoutes } from './routes';

const logger = createLogger('storage-test', 'error');
/** Every write sits near the design document's timestamp, so no head cut moves the valid minimum past them. */
const T = 1_696_789_200_000;
let engine: Engine;
let server: http.Server;
let base: string;

beforeAll(async () => {
  const { registry, http: httpMetrics } = createRegistry('storage');
  const metrics = createEngineMetrics(registry);
  engine = await Engine.open({
    directory: await fs.mkdtemp(path.join(os.tmpdir(), 'routes-test-')),
    blockRangeMs: 7_200_000,
    compactionRangesMs: [21_600_000],
    retentionMs: 0,
    outOfOrderWindowMs: 600_000,
    walSegmentBytes: 1 << 20,
    isSyncing: true,
    layout: defaultBlockLayout,
    indexCodec: tagIndexCodec,
    createIndex: () => tagIndexCodec.create(),
    clock: { now: () => 5_000 },
    random: seededRandom(1),
    logger,
    metrics,
  });
  const app = createApp({ logger, registry, httpMetrics });
  addRoutes(app, { engine, clock: { now: () => 5_000 }, maxPoints: 50 });
  finishApp(app, logger);
  server = await listen(app, 0, '127.0.0.1');
  base = `http://127.0.0.1:${boundPort(server)}`;
});

afterAll(async () => {
  await closeServer(server);
  await engine.close();
});

async function post(route: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(base + route, {
    method: 'POST',
    headers: { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('storage API', () => {
  it('writes the design document point and answers it from POST /query', async () => {
    const point = {
      measurement: 'cpu_usage',
      tags: { host: 'server01' },
      fields: { value: 75.5 },
      timestamp: 1696789234567,
    };
    expect(await post('/write', point)).toEqual({ status: 200, body: { written: 1 } });
    const answer = await post('/query', {
      measurement: 'cpu_usage',
      start: 1696789230000,
      end: 1696875630000,
      filters: { host: 'server01' },
    });
    expect(answer).toEqual({
      status: 200,
      body: { data_points: [{ timestamp: 1696789234567, value: 75.5, tags: { host: 'server01' } }] },
    });
  });

  it('accepts line protocol, and rejects a batch whole with the offending index', async () => {
    expect(
      (await post('/write?precision=ms', `lp,host=a value=1 ${T + 1000}\nlp,host=b value=2 ${T + 1000}`)).body,
    ).toEqual({ written: 2 });
    const bad = await post('/write', [
      { measurement: 'whole', fields: { value: 1 }, timestamp: 1 },
      { measurement: 'whole', fields: { value: 1 }, timestamp: 'soon' },
    ]);
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ error: expect.objectContaining({ code: 'invalid_point', index: 1 }) });
    expect((await post('/query', { measurement: 'whole', start: 0, end: 10 })).body).toEqual({ data_points: [] });
  });

  it('filters with regex matchers and reports bad ones', async () => {
    const answer = await post('/query', {
      measurement: 'lp',
      start: T,
      end: T + 2000,
      filters: [{ key: 'host', op: '=~', value: 'a|c' }],
    });
    expect(answer.body).toEqual({ data_points: [{ timestamp: T + 1000, value: 1, tags: { host: 'a' } }] });
    const bad = await post('/query', {
      measurement: 'lp',
      start: T,
      end: T + 2000,
      filters: [{ key: 'host', op: '=~', value: '(' }],
    });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'invalid_matcher' } } });
  });

  it('refuses a query over the point limit', async () => {
    const points = Array.from({ length: 60 }, (_, index) => ({
      measurement: 'many',
      fields: { value: index },
      timestamp: T + index,
    }));
    await post('/write', { points });
    expect(await post('/query', { measurement: 'many', start: T, end: T + 100 })).toMatchObject({
      status: 400,
      body: { error: { code: 'too_many_points', limit: 50 } },
    });
  });

  it('aggregates per window and group, as the contract shapes it', async () => {
    const points = [0, 1, 2, 3].map((index) => ({
      measurement: 'agg',
      tags: { host: index % 2 ? 'a' : 'b' },
      fields: { value: index },
      timestamp: T + index * 60_000,
    }));
    await post('/write', points);
    const answer = await post('/v1/aggregate', {
      measurement: 'agg',
      start: T,
      end: T + 240_000,
      window_ms: 120_000,
      group_by: ['host'],
      aggregates: ['count', 'sum', 'sketch'],
    });
    expect(answer.status).toBe(200);
    const groups = answer.body.groups as { tags: Record<string, string>; windows: Record<string, unknown>[] }[];
    expect(groups.map((group) => group.tags)).toEqual([{ host: 'a' }, { host: 'b' }]);
    expect(groups[0].windows.map((window) => [window.start, window.count, window.sum])).toEqual([
      [T, 1, 1],
      [T + 120_000, 1, 3],
    ]);
    expect(Object.keys(groups[0].windows[0]).sort()).toEqual(['count', 'sketch', 'start', 'sum']);
    expect(groups[0].windows[0].sketch).toMatchObject({ alpha: 0.01 });

    const request = { measurement: 'agg', start: T, end: T + 240_000, window_ms: 120_000 };
    const lastOnly = await post('/v1/aggregate', { ...request, aggregates: ['last'] });
    expect(lastOnly.body).toEqual({
      groups: [
        {
          tags: {},
          windows: [
            { start: T, last: 1, last_time: T + 60_000 },
            { start: T + 120_000, last: 3, last_time: T + 180_000 },
          ],
        },
      ],
    });
    const all = await post('/v1/aggregate', request);
    expect((all.body.groups as { windows: object[] }[])[0].windows[0]).toEqual({
      start: T,
      count: 2,
      sum: 1,
      sumsq: 1,
      min: 0,
      max: 1,
      first: 0,
      first_time: T,
      last: 1,
      last_time: T + 60_000,
      sketch: expect.objectContaining({ alpha: 0.01 }),
    });
  });

  it('keeps tenants apart and lists metadata per tenant', async () => {
    await post(
      '/write',
      { measurement: 'secret', tags: { team: 'x' }, fields: { value: 1 }, timestamp: T + 1 },
      { 'x-metricstream-tenant': 'acme' },
    );
    const defaultList = (await fetch(`${base}/v1/measurements`).then((response) => response.json())) as {
      measurements: string[];
    };
    expect(defaultList.measurements).not.toContain('secret');
    const acme = await fetch(`${base}/v1/measurements?prefix=se`, {
      headers: { 'x-metricstream-tenant': 'acme' },
    }).then((response) => response.json());
    expect(acme).toEqual({ measurements: ['secret'] });
    const keys = await fetch(`${base}/v1/tag-keys?measurement=secret`, {
      headers: { 'x-metricstream-tenant': 'acme' },
    }).then((response) => response.json());
    expect(keys).toEqual({ tag_keys: ['team'] });
    const values = await fetch(`${base}/v1/tag-values?measurement=lp&key=host`).then((response) => response.json());
    expect(values).toEqual({ tag_values: ['a', 'b'] });
    expect((await post('/query', { measurement: 'secret', start: T, end: T + 10 })).body).toEqual({ data_points: [] });
  });

  it('reports out-of-order rejections with their reason', async () => {
    await post('/write', { measurement: 'late', fields: { value: 1 }, timestamp: T + 10_000_000 });
    const answer = await post('/write', { measurement: 'late', fields: { value: 1 }, timestamp: T + 1 });
    expect(answer.body).toMatchObject({ written: 0, rejected: 1, rejections: [{ index: 0, reason: 'out_of_order' }] });
    const metrics = await fetch(`${base}/metrics`).then((response) => response.text());
    expect(metrics).toMatch(/storage_samples_rejected_total\{reason="out_of_order",service="storage"\} 1/);
  });
});
