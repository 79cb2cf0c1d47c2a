import type http from 'node:http';
import { ApiError } from './errors';
import { boundPort, closeServer, createApp, finishApp, listen, route } from './http';
import { createLogger } from './logger';
import { createRegistry } from './metrics';

describe('the service app factory', () => {
  let server: http.Server;
  let base: string;
  let isReady = true;

  beforeAll(async () => {
    const logger = createLogger('test', 'error');
    logger.silent = true;
    const { registry, http: httpMetrics } = createRegistry('test');
    const app = createApp({
      logger,
      registry,
      httpMetrics,
      jsonLimitBytes: 64,
      isReady: () => ({ ready: isReady, reason: isReady ? undefined : 'warming up' }),
    });
    app.post('/echo', (req, res) => {
      res.json({ body: req.body });
    });
    app.get(
      '/teapot',
      route(async () => {
        throw new ApiError(418, 'teapot', 'short and stout', { position: 3 });
      }),
    );
    app.get(
      '/boom',
      route(async () => {
        throw new Error('secret internals');
      }),
    );
    app.get(
      '/slow',
      route(async (_req, res) => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        res.json({ finished: true });
      }),
    );
    finishApp(app, logger);
    server = await listen(app, 0, '127.0.0.1');
    base = `http://127.0.0.1:${boundPort(server)}`;
  });

  afterAll(() => closeServer(server, 100));

  const post = (path: string, body: string, contentType = 'application/json') =>
    fetch(base + path, { method: 'POST', body, headers: { 'content-type': contentType } });

  it('parses JSON bodies', async () => {
    const response = await post('/echo', '{"a":1}');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ body: { a: 1 } });
    expect(response.headers.get('x-request-id')).toBeTruthy();
  });

  it('answers malformed JSON with 400 invalid_json', async () => {
    const response = await post('/echo', '{"a":');
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_json');
  });

  it('answers a body over the limit with 413 payload_too_large', async () => {
    const response = await post('/echo', JSON.stringify({ padding: 'x'.repeat(100) }));
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      error: { code: 'payload_too_large', message: expect.any(String), limit_bytes: 64 },
    });
  });

  it('answers unknown routes with a JSON 404', async () => {
    const response = await fetch(base + '/nowhere');
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: { code: 'not_found', message: 'no route for GET /nowhere' } });
  });

  it('writes ApiError details into the body and hides unknown errors', async () => {
    const teapot = await fetch(base + '/teapot');
    expect(teapot.status).toBe(418);
    expect(await teapot.json()).toEqual({ error: { code: 'teapot', message: 'short and stout', position: 3 } });
    const boom = await fetch(base + '/boom');
    expect(boom.status).toBe(500);
    expect(await boom.json()).toEqual({ error: { code: 'internal', message: 'internal error' } });
  });

  it('serves probes and Prometheus metrics', async () => {
    expect((await fetch(base + '/healthz')).status).toBe(200);
    expect((await fetch(base + '/readyz')).status).toBe(200);
    isReady = false;
    const notReady = await fetch(base + '/readyz');
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({ ready: false, reason: 'warming up' });
    isReady = true;
    const metrics = await (await fetch(base + '/metrics')).text();
    expect(metrics).toMatch(/http_requests_total\{method="POST",route="\/echo",status="200",service="test"\}/);
    expect(metrics).toMatch(/process_cpu_user_seconds_total/);
  });
});

describe('closeServer', () => {
  it('lets in-flight requests finish before closing', async () => {
    const logger = createLogger('test', 'error');
    logger.silent = true;
    const { registry, http: httpMetrics } = createRegistry('test');
    const app = createApp({ logger, registry, httpMetrics });
    app.get(
      '/slow',
      route(async (_req, res) => {
        await new Promise((resolve) => setTimeout(resolve, 200));
        res.json({ finished: true });
      }),
    );
    const server = await listen(finishApp(app, logger), 0, '127.0.0.1');
    const inFlight = fetch(`http://127.0.0.1:${boundPort(server)}/slow`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await closeServer(server, 5000);
    const response = await inFlight;
    expect(await response.json()).toEqual({ finished: true });
  });
});
