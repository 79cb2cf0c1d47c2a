import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { mountConsole, type ConsoleUpstreams } from './console';
import { boundPort, closeServer, createApp, finishApp, listen } from './http';
import { createLogger } from './logger';
import { createRegistry } from './metrics';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

describe('mountConsole', () => {
  let upstream: http.Server;
  let upstreamUrl: string;
  const seen: Seen[] = [];
  const servers: http.Server[] = [];
  let assetsDir: string;

  beforeAll(async () => {
    upstream = http.createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (part: Buffer) => parts.push(part));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(parts).toString() });
        if (req.url === '/slow') return void setTimeout(() => res.end('late'), 500);
        res.writeHead(req.url!.startsWith('/rules?') && req.method === 'POST' ? 400 : 200, {
          'Content-Type': 'application/json',
          'X-Upstream': 'yes',
        });
        res.end(JSON.stringify({ error: { code: 'parse_error', message: 'bad', position: 3 } }));
      });
    });
    upstream.listen(0, '127.0.0.1');
    await new Promise((resolve) => upstream.once('listening', resolve));
    upstreamUrl = `http://127.0.0.1:${boundPort(upstream)}`;
    assetsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'console-assets-'));
    fs.mkdirSync(path.join(assetsDir, 'assets'));
    fs.writeFileSync(path.join(assetsDir, 'index.html'), '<!doctype html><title>console</title>');
    fs.writeFileSync(path.join(assetsDir, 'assets', 'index-abc123.js'), 'console.log(1)');
  });

  afterAll(async () => {
    await Promise.all(servers.map((server) => closeServer(server, 100)));
    await closeServer(upstream, 100);
    fs.rmSync(assetsDir, { recursive: true, force: true });
  });

  async function front(upstreams: ConsoleUpstreams, directory = assetsDir, upstreamTimeoutMs?: number) {
    const logger = createLogger('console-test', 'error');
    // The kit logs every 5xx; the 502 and 504 here are expected.
    logger.silent = true;
    const { registry, http: httpMetrics } = createRegistry('console-test');
    const app = createApp({ logger, registry, httpMetrics });
    mountConsole(app, { assetsDir: directory, upstreams, upstreamTimeoutMs });
    finishApp(app, logger);
    const server = await listen(app, 0, '127.0.0.1');
    servers.push(server);
    return `http://127.0.0.1:${boundPort(server)}`;
  }

  test('forwards method, path, query, Authorization and body, and passes the status and headers back', async () => {
    const base = await front({ alerting: upstreamUrl });
    const answer = await fetch(`${base}/ui/api/alerting/rules?x=1`, {
      method: 'POST',
      headers: {
        Authorization: 'Bearer key-1',
        'Content-Type': 'application/json',
        'X-MetricStream-Tenant': 'someone-else',
      },
      body: JSON.stringify({ name: 'r', query: 'avg(x) > 1' }),
    });
    expect(answer.status).toBe(400);
    expect(answer.headers.get('x-upstream')).toBe('yes');
    expect(await answer.json()).toEqual({ error: { code: 'parse_error', message: 'bad', position: 3 } });
    const request = seen[seen.length - 1];
    expect(request).toMatchObject({ method: 'POST', url: '/rules?x=1', body: '{"name":"r","query":"avg(x) > 1"}' });
    expect(request.headers.authorization).toBe('Bearer key-1');
    expect(request.headers['x-metricstream-tenant']).toBeUndefined();

    const deleted = await fetch(`${base}/ui/api/alerting/rules/r`, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    expect(seen[seen.length - 1]).toMatchObject({ method: 'DELETE', url: '/rules/r', body: '' });
  });

  test('forwards raw bodies of other content types unchanged', async () => {
    const base = await front({ alerting: upstreamUrl });
    await fetch(`${base}/ui/api/alerting/anything`, {
      method: 'PUT',
      headers: { 'Content-Type': 'text/plain' },
      body: 'cpu,host=a value=1',
    });
    expect(seen[seen.length - 1]).toMatchObject({ method: 'PUT', body: 'cpu,host=a value=1' });
    expect(seen[seen.length - 1].headers['content-type']).toBe('text/plain');
  });

  test('the operator-facing services are read-only and only their status paths are reachable', async () => {
    const base = await front({ queue: upstreamUrl, ingestion: upstreamUrl, storage: [upstreamUrl, upstreamUrl] });
    expect((await fetch(`${base}/ui/api/queue/cluster`)).status).toBe(200);
    expect(seen[seen.length - 1].url).toBe('/cluster');
    expect((await fetch(`${base}/ui/api/storage/1/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/ui/api/ingestion/metrics`)).status).toBe(200);
    const before = seen.length;
    const consume = await fetch(`${base}/ui/api/queue/consume?partition=0&offset=0`);
    expect(consume.status).toBe(403);
    expect(await consume.json()).toMatchObject({ error: { code: 'upstream_path_forbidden', service: 'queue' } });
    expect((await fetch(`${base}/ui/api/storage/0/write`, { method: 'POST', body: '{}' })).status).toBe(403);
    expect((await fetch(`${base}/ui/api/queue/v1/cluster/members/q1`, { method: 'DELETE' })).status).toBe(403);
    expect(seen.length).toBe(before);
  });

  test('an unknown or unconfigured service answers 404, and the configuration lists the upstreams', async () => {
    const base = await front({ storage: [upstreamUrl] });
    const missing = await fetch(`${base}/ui/api/alerting/alerts`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'upstream_not_configured', service: 'alerting' } });
    expect((await fetch(`${base}/ui/api/storage/1/healthz`)).status).toBe(404);
    expect(await (await fetch(`${base}/ui/api/config`)).json()).toEqual({
      services: { alerting: false, queue: false, ingestion: false, storage: 1 },
    });
  });

  test('a storage list given as a function is read on every request', async () => {
    let shards: string[] = [];
    const base = await front({ storage: () => shards });
    expect((await fetch(`${base}/ui/api/storage/0/healthz`)).status).toBe(404);
    shards = [upstreamUrl];
    expect((await fetch(`${base}/ui/api/storage/0/healthz`)).status).toBe(200);
    expect(await (await fetch(`${base}/ui/api/config`)).json()).toMatchObject({ services: { storage: 1 } });
    expect((await fetch(`${base}/ui/api/storage/x/healthz`)).status).toBe(404);
  });

  test('an unreachable upstream answers 502 and a slow one 504, as JSON errors', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadUrl = `http://127.0.0.1:${boundPort(closed)}`;
    await closeServer(closed, 10);
    const base = await front({ alerting: deadUrl, queue: upstreamUrl }, assetsDir, 100);
    const down = await fetch(`${base}/ui/api/alerting/alerts`);
    expect(down.status).toBe(502);
    expect(await down.json()).toMatchObject({ error: { code: 'upstream_unavailable', service: 'alerting' } });
    const slowBase = await front({ alerting: upstreamUrl }, assetsDir, 100);
    const slow = await fetch(`${slowBase}/ui/api/alerting/slow`);
    expect(slow.status).toBe(504);
    expect(await slow.json()).toMatchObject({ error: { code: 'upstream_timeout' } });
  });

  test('serves the app with index.html for client routes and long-lived hashed assets', async () => {
    const base = await front({});
    for (const route of ['/ui', '/ui/', '/ui/alerts', '/ui/explore?q=SELECT']) {
      const answer = await fetch(base + route);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('cache-control')).toBe('no-cache');
      expect(await answer.text()).toContain('<title>console</title>');
    }
    const asset = await fetch(`${base}/ui/assets/index-abc123.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const missing = await fetch(`${base}/ui/assets/index-gone.js`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  test('answers 503 console_not_built when the assets are missing', async () => {
    const base = await front({}, path.join(assetsDir, 'nowhere'));
    const answer = await fetch(`${base}/ui/`);
    expect(answer.status).toBe(503);
    expect(await answer.json()).toMatchObject({ error: { code: 'console_not_built' } });
  });
});
