/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers from the API are checked by shape, not typed */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '../kit/config';
import { createLogger } from '../kit/logger';
import { freePort, waitFor } from '../kit/testing/processes';
import { alertingConfig, alertingService } from './main';
import { startQueryEngineDouble, type QueryEngineDouble } from './testing/query-engine-double';
import { startHttpReceiver, startSmtpReceiver, type HttpReceiver, type SmtpReceiver } from './testing/receivers';

/**
 * The whole service in this process, against an HTTP double of the query engine, real HTTP receivers (that fail on
 * purpose) and a real SMTP server receiving through nodemailer.
 */
jest.setTimeout(30_000);

let engine: QueryEngineDouble;
let receiver: HttpReceiver;
let smtp: SmtpReceiver;
let dataDir: string;
const running: { close(): Promise<void> }[] = [];

async function startAlerting(extra: string[] = []) {
  const port = await freePort();
  const config = parseConfig(
    alertingConfig,
    [
      ...['--port', String(port), '--query-url', engine.url, '--data-dir', dataDir],
      ...[
        '--evaluation-interval',
        '200ms',
        '--schedule-resolution',
        '20ms',
        '--retry-base',
        '50ms',
        '--retry-max',
        '200ms',
      ],
      ...extra,
    ],
    {},
  );
  const logger = createLogger('alerting', 'error');
  logger.silent = true;
  const service = await alertingService.start(config, logger);
  running.push(service);
  const base = `http://127.0.0.1:${port}`;
  const call = async (method: string, url: string, body?: unknown) => {
    const response = await fetch(base + url, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, text };
  };
  return { service, base, call };
}

beforeEach(async () => {
  engine = await startQueryEngineDouble();
  receiver = await startHttpReceiver();
  smtp = await startSmtpReceiver('alerts', 's3cret-pass');
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'alerting-'));
});

afterEach(async () => {
  for (const service of running.splice(0)) await service.close();
  await Promise.all([engine.close(), receiver.close(), smtp.close()]);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const paths = (receivedPath: string) => receiver.received.filter((request) => request.path === receivedPath);

describe('rules API', () => {
  test('the design document body is accepted and answered back', async () => {
    const { call } = await startAlerting();
    const body = { name: 'high_cpu_alert', query: 'avg(cpu_usage) > 80', duration: '5m', channels: ['slack', 'email'] };
    const created = await call('POST', '/rules', body);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject(body);
    expect((await call('POST', '/rules', body)).status).toBe(409);
    expect((await call('GET', '/rules')).body.rules).toEqual([created.body]);
    expect((await call('GET', '/rules/high_cpu_alert')).body).toMatchObject({
      ...body,
      translated_query: 'SELECT avg(cpu_usage) AS value WHERE time > now() - 1m',
    });
    const replaced = await call('PUT', '/rules/high_cpu_alert', { ...body, duration: '1m', severity: 'critical' });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ duration: '1m', severity: 'critical' });
    expect((await call('PUT', '/rules/other', { query: 'max(mem) < 1', duration: '0s' })).status).toBe(201);
    expect((await call('DELETE', '/rules/high_cpu_alert')).status).toBe(204);
    expect((await call('GET', '/rules/high_cpu_alert')).body.error.code).toBe('rule_not_found');
    expect((await call('DELETE', '/rules/high_cpu_alert')).status).toBe(404);
  });

  test('bad rules are refused with every problem, or with the position of a query error', async () => {
    const { call } = await startAlerting();
    const invalid = await call('POST', '/rules', { name: 'x', query: 'avg(cpu) > 1', duration: 'soon', channels: 'a' });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error).toMatchObject({
      code: 'invalid_rule',
      problems: [expect.stringContaining('duration'), expect.stringContaining('channels')],
    });
    const unparsable = await call('POST', '/rules', { name: 'x', query: 'avg(cpu) >> 1', duration: '1m' });
    expect(unparsable.body.error).toMatchObject({ code: 'parse_error', position: 10 });
    const refused = await call('POST', '/rules', { name: 'x', query: 'bogus(cpu) > 1', duration: '1m' });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({
      code: 'unknown_function',
      position: 7,
      translated_query: 'SELECT bogus(cpu) AS value WHERE time > now() - 1m',
    });
    expect((await call('POST', '/rules', 'not json')).status).toBe(400);
    engine.failWith = 503;
    const unavailable = await call('POST', '/rules', { name: 'x', query: 'avg(cpu) > 1', duration: '1m' });
    expect(unavailable.status).toBe(503);
    expect(unavailable.body.error.code).toBe('query_engine_unavailable');
    expect((await call('GET', '/rules')).body.rules).toEqual([]);
  });

  test('channels: created, listed with secrets masked, deleted', async () => {
    const { call } = await startAlerting();
    const slack = { name: 'slack', type: 'slack', settings: { url: `${receiver.url}/slack/T000/B000/XXXSECRET` } };
    expect((await call('POST', '/channels', slack)).body.settings.url).toBe(`${receiver.url}/********`);
    await call('POST', '/channels', {
      name: 'pd',
      type: 'pagerduty',
      settings: { routing_key: 'R0UTINGKEY', url: `${receiver.url}/pagerduty` },
    });
    await call('POST', '/channels', {
      name: 'mail',
      type: 'email',
      settings: {
        host: '127.0.0.1',
        port: smtp.port,
        username: 'alerts',
        password: 's3cret-pass',
        from: 'a@x.test',
        to: 'b@x.test',
      },
    });
    const listed = await call('GET', '/channels');
    expect(listed.body.channels.map((channel: { name: string }) => channel.name)).toEqual(['mail', 'pd', 'slack']);
    expect(listed.text).not.toMatch(/XXXSECRET|R0UTINGKEY|s3cret-pass/);
    expect((await call('POST', '/channels', slack)).status).toBe(409);
    const bad = await call('POST', '/channels', { name: 'w', type: 'webhook', settings: { url: 'ftp://x' } });
    expect(bad.body.error).toMatchObject({ code: 'invalid_channel', problems: ['settings.url: not an http(s) URL'] });
    expect((await call('DELETE', '/channels/slack')).status).toBe(204);
    expect((await call('GET', '/channels/slack')).status).toBe(404);
  });
});

describe('evaluation and notification', () => {
  test('pending, firing after duration, delivered everywhere despite failures, then resolved', async () => {
    const { call, base } = await startAlerting();
    receiver.failNext('/webhook', 2, 503);
    receiver.failNext('/pagerduty', 1, 500);
    await call('POST', '/channels', { name: 'hook', type: 'webhook', settings: { url: `${receiver.url}/webhook` } });
    await call('POST', '/channels', {
      name: 'slack',
      type: 'slack',
      settings: { url: `${receiver.url}/slack/SECRET` },
    });
    await call('POST', '/channels', {
      name: 'pd',
      type: 'pagerduty',
      settings: { routing_key: 'R0UTINGKEY', url: `${receiver.url}/pagerduty` },
    });
    await call('POST', '/channels', {
      name: 'mail',
      type: 'email',
      settings: {
        host: '127.0.0.1',
        port: smtp.port,
        username: 'alerts',
        password: 's3cret-pass',
        from: 'alerts@x.test',
        to: ['oncall@x.test'],
      },
    });
    engine.set('cpu_usage', { host: 'a' }, 50);
    engine.set('cpu_usage', { host: 'b' }, 50);
    const rule = {
      name: 'high_cpu',
      query: 'avg(cpu_usage) by (host) > 80',
      duration: '600ms',
      channels: ['hook', 'slack', 'pd', 'mail'],
      labels: { team: 'infra' },
      annotations: { summary: 'CPU on {{ $labels.host }} is {{ $value }}' },
      severity: 'critical',
    };
    expect((await call('POST', '/rules', rule)).status).toBe(201);
    engine.set('cpu_usage', { host: 'a' }, 85.5);
    engine.set('cpu_usage', { host: 'b' }, 90);

    const pending = await waitFor(async () => {
      const alerts = (await call('GET', '/alerts?state=pending')).body.alerts;
      return alerts.length === 2 ? alerts : undefined;
    });
    expect(pending[0]).toMatchObject({
      rule: 'high_cpu',
      state: 'pending',
      value: 85.5,
      labels: { host: 'a' },
      firedAt: null,
    });
    expect(paths('/webhook')).toHaveLength(0);

    await waitFor(
      () =>
        paths('/webhook').length === 1 &&
        paths('/slack/SECRET').length === 1 &&
        smtp.mails.length === 1 &&
        paths('/pagerduty').length === 2,
      10_000,
      'firing notifications',
    );
    const firing = await waitFor(async () => {
      const alerts = (await call('GET', '/alerts?rule=high_cpu&state=firing')).body.alerts;
      return alerts.every((alert: any) => alert.lastNotification?.status === 'delivered') ? alerts : undefined;
    });
    expect(firing).toHaveLength(2);
    expect(Date.parse(firing[0].firedAt) - Date.parse(firing[0].activeAt)).toBeGreaterThanOrEqual(600);
    const webhook = paths('/webhook')[0].body as Record<string, any>;
    expect(webhook).toMatchObject({
      version: '4',
      status: 'firing',
      receiver: 'hook',
      groupKey: '{}:{alertname="high_cpu"}',
      groupLabels: { alertname: 'high_cpu' },
      commonLabels: { alertname: 'high_cpu', severity: 'critical', team: 'infra' },
      externalURL: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
    });
    expect(webhook.alerts).toHaveLength(2);
    expect(webhook.alerts.map((alert: any) => alert.annotations.summary).sort()).toEqual([
      'CPU on a is 85.5',
      'CPU on b is 90',
    ]);
    expect(webhook.alerts[0]).toMatchObject({
      status: 'firing',
      endsAt: '0001-01-01T00:00:00Z',
      fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    expect(receiver.refused.filter((request) => request.path === '/webhook')).toHaveLength(2);
    expect(paths('/webhook')[0].headers['idempotency-key']).toBe(receiver.refused[0].headers['idempotency-key']);
    const events = paths('/pagerduty').map((request) => request.body as Record<string, any>);
    expect(events.map((event) => event.event_action)).toEqual(['trigger', 'trigger']);
    expect(events[0]).toMatchObject({
      routing_key: 'R0UTINGKEY',
      dedup_key: expect.stringMatching(/^metricstream-/),
      payload: { severity: 'critical', source: 'metricstream' },
    });
    expect((paths('/slack/SECRET')[0].body as { text: string }).text).toMatch(/^\[FIRING:2\] high_cpu/);
    expect(smtp.mails[0]).toMatchObject({
      from: 'alerts@x.test',
      to: ['oncall@x.test'],
      user: 'alerts',
      isSecure: false,
    });
    expect(smtp.mails[0].raw).toMatch(/Subject: \[FIRING:2\] high_cpu/);
    expect(firing[0].lastNotification).toMatchObject({ status: 'delivered' });

    engine.set('cpu_usage', { host: 'a' }, 10);
    engine.set('cpu_usage', { host: 'b' }, 10);
    await waitFor(
      () => paths('/webhook').length === 2 && smtp.mails.length === 2 && paths('/pagerduty').length === 4,
      10_000,
      'resolved notifications',
    );
    const resolved = paths('/webhook')[1].body as Record<string, any>;
    expect(resolved.status).toBe('resolved');
    expect(resolved.alerts[0].endsAt).not.toBe('0001-01-01T00:00:00Z');
    expect(
      paths('/pagerduty')
        .slice(2)
        .map((request) => (request.body as any).event_action),
    ).toEqual(['resolve', 'resolve']);
    expect(new Set(paths('/pagerduty').map((request) => (request.body as any).dedup_key)).size).toBe(2);
    const alerts = (await call('GET', '/alerts')).body.alerts;
    expect(alerts.map((alert: { state: string }) => alert.state)).toEqual(['resolved', 'resolved']);

    // A delivery is listed once it is recorded durably, just after the receiver has it.
    const notifications = await waitFor(async () => {
      const body = (await call('GET', '/notifications')).body;
      return body.notifications.filter((record: any) => record.status === 'delivered').length === 8 ? body : undefined;
    });
    expect(
      notifications.notifications.filter((record: any) => record.status === 'retrying' && record.channel === 'hook'),
    ).toHaveLength(2);
    expect(JSON.stringify(notifications)).not.toMatch(/SECRET|R0UTINGKEY|s3cret-pass/);

    // No duplicates: nothing further arrives while the value stays low.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect([
      paths('/webhook').length,
      paths('/slack/SECRET').length,
      smtp.mails.length,
      paths('/pagerduty').length,
    ]).toEqual([2, 2, 2, 4]);

    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/alerting_rule_evaluations_total\{[^}]*\} [1-9]/);
    expect(metrics).toMatch(/alerting_alerts\{state="resolved"[^}]*\} 2/);
    expect(metrics).toMatch(/alerting_notifications_sent_total\{channel_type="webhook"[^}]*\} 2/);
    expect(metrics).toMatch(/alerting_notifications_failed_total\{channel_type="webhook",outcome="retrying"[^}]*\} 2/);
    expect(metrics).toMatch(/alerting_evaluation_duration_seconds_count/);
  });

  test('deleting a rule resolves what it had firing, and only that', async () => {
    const { call } = await startAlerting();
    await call('POST', '/channels', { name: 'hook', type: 'webhook', settings: { url: `${receiver.url}/webhook` } });
    engine.set('cpu_usage', { host: 'a' }, 95);
    engine.set('cpu_usage', { host: 'b' }, 20);
    const rule = { name: 'doomed', query: 'avg(cpu_usage) by (host) > 80', duration: '0s', channels: ['hook'] };
    expect((await call('POST', '/rules', rule)).status).toBe(201);
    await waitFor(() => paths('/webhook').length === 1, 10_000, 'the firing notification');

    expect((await call('DELETE', '/rules/doomed')).status).toBe(204);
    await waitFor(() => paths('/webhook').length === 2, 10_000, 'the resolved notification');
    const resolved = paths('/webhook')[1].body as Record<string, any>;
    expect(resolved).toMatchObject({ status: 'resolved', groupKey: '{}:{alertname="doomed"}' });
    expect(resolved.alerts).toHaveLength(1);
    expect(resolved.alerts[0]).toMatchObject({ status: 'resolved', labels: { host: 'a' } });
    expect(resolved.alerts[0].endsAt).not.toBe('0001-01-01T00:00:00Z');
    expect((await call('GET', '/alerts')).body.alerts).toEqual([]);

    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(paths('/webhook')).toHaveLength(2);
  });
});

describe('scheduling', () => {
  test('identical queries of one tick are sent once; different queries are spread over the interval', async () => {
    const { call } = await startAlerting(['--evaluation-interval', '1s']);
    for (const name of ['same_a', 'same_b', 'same_c'])
      await call('POST', '/rules', { name, query: 'avg(cpu_usage) > 80', duration: '0s' });
    for (let index = 0; index < 20; index++)
      await call('POST', '/rules', { name: `other_${index}`, query: `max(metric_${index}) > 1`, duration: '0s' });
    engine.batches.length = 0;
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const queries = engine.batches.flat();
    expect(queries.filter((query) => query.startsWith('SELECT avg(cpu_usage)')).length).toBeGreaterThanOrEqual(2);
    for (const batch of engine.batches) expect(new Set(batch).size).toBe(batch.length);
    // 21 distinct queries per second for about two seconds, in many small batches rather than one burst a second.
    expect(queries.length).toBeGreaterThanOrEqual(30);
    expect(queries.length).toBeLessThanOrEqual(66);
    expect(engine.batches.length).toBeGreaterThan(10);
  });

  test('a failing query engine counts failures and changes no state', async () => {
    const { call, base } = await startAlerting();
    engine.set('cpu_usage', {}, 95);
    await call('POST', '/rules', { name: 'cpu', query: 'avg(cpu_usage) > 80', duration: '0s' });
    await waitFor(async () => (await call('GET', '/alerts?state=firing')).body.alerts.length === 1);
    engine.failWith = 503;
    await waitFor(async () =>
      /alerting_rule_evaluation_failures_total\{reason="query_engine_unavailable"[^}]*\} [1-9]/.test(
        await (await fetch(`${base}/metrics`)).text(),
      ),
    );
    expect((await call('GET', '/alerts')).body.alerts[0].state).toBe('firing');
  });

  test('nodata alerting fires on an empty answer; re-notify repeats; keep_firing_for holds a dip', async () => {
    const { call } = await startAlerting();
    await call('POST', '/channels', { name: 'hook', type: 'webhook', settings: { url: `${receiver.url}/webhook` } });
    await call('POST', '/rules', {
      name: 'silent',
      query: 'avg(heartbeat) < 1',
      duration: '0s',
      nodata: 'alerting',
      renotify_interval: '400ms',
      keep_firing_for: '10s',
      channels: ['hook'],
    });
    await waitFor(() => paths('/webhook').length >= 3, 10_000, 'a first notification and two repeats');
    const [first, second] = paths('/webhook').map((request) => request.body as Record<string, any>);
    expect(first.alerts[0]).toMatchObject({ status: 'firing', labels: { alertname: 'silent' } });
    expect(second.alerts[0].startsAt).toBe(first.alerts[0].startsAt);
    engine.set('heartbeat', {}, 5);
    const held = await waitFor(async () => {
      const [alert] = (await call('GET', '/alerts')).body.alerts;
      return alert.value === 5 ? alert : undefined;
    });
    expect(held.state).toBe('firing');
  });

  test('a refused delivery is not retried; an unknown channel is recorded as failed', async () => {
    const { call } = await startAlerting();
    receiver.failNext('/webhook?token=QUERYSECRET', 5, 400);
    await call('POST', '/channels', {
      name: 'hook',
      type: 'webhook',
      settings: { url: `${receiver.url}/webhook?token=QUERYSECRET` },
    });
    engine.set('cpu_usage', {}, 95);
    await call('POST', '/rules', {
      name: 'cpu',
      query: 'avg(cpu_usage) > 80',
      duration: '0s',
      channels: ['hook', 'nowhere'],
    });
    const failed = await waitFor(async () => {
      const records = (await call('GET', '/notifications?status=failed')).body.notifications;
      return records.length === 2 ? records : undefined;
    });
    expect(failed.map((record: any) => [record.channel, record.attempts, record.error]).sort()).toEqual([
      ['hook', 1, 'receiver answered 400: failing on purpose'],
      ['nowhere', 1, 'no channel named "nowhere"'],
    ]);
    expect(receiver.refused).toHaveLength(1);
    const alert = await waitFor(async () =>
      (await call('GET', '/alerts')).body.alerts.find((one: any) => one.lastNotification),
    );
    expect(alert.lastNotification).toMatchObject({ status: 'failed', attempts: 1 });
    expect((await call('GET', '/channels/hook')).body.settings.url).toBe(`${receiver.url}/webhook?********`);
    expect((await call('GET', '/notifications?limit=0')).body.error.code).toBe('invalid_filter');
    expect((await call('GET', '/alerts?state=burning')).body.error.code).toBe('invalid_filter');
  });
});

describe('persistence', () => {
  test('a restart keeps rules, channels and states and does not notify again', async () => {
    const first = await startAlerting();
    await first.call('POST', '/channels', {
      name: 'hook',
      type: 'webhook',
      settings: { url: `${receiver.url}/webhook` },
    });
    engine.set('cpu_usage', {}, 95);
    await first.call('POST', '/rules', {
      name: 'cpu',
      query: 'avg(cpu_usage) > 80',
      duration: '0s',
      channels: ['hook'],
    });
    await waitFor(() => paths('/webhook').length === 1);
    await first.service.close();
    running.splice(running.indexOf(first.service), 1);

    const second = await startAlerting();
    expect((await second.call('GET', '/rules')).body.rules.map((rule: { name: string }) => rule.name)).toEqual(['cpu']);
    expect((await second.call('GET', '/channels')).body.channels[0].name).toBe('hook');
    const [alert] = (await second.call('GET', '/alerts')).body.alerts;
    expect(alert.state).toBe('firing');
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(paths('/webhook')).toHaveLength(1);
    engine.set('cpu_usage', {}, 1);
    await waitFor(() => paths('/webhook').length === 2);
    expect((paths('/webhook')[1].body as { status: string }).status).toBe('resolved');
  });

  test('channels from a YAML file are used and cannot be deleted through the API', async () => {
    const file = path.join(dataDir, 'channels.yaml');
    fs.writeFileSync(
      file,
      `channels:\n  - name: hook\n    type: webhook\n    settings:\n      url: ${receiver.url}/webhook\n      headers:\n        Authorization: Bearer HEADERSECRET\n`,
    );
    const { call } = await startAlerting(['--channels-file', file]);
    const listed = await call('GET', '/channels');
    expect(listed.body.channels).toEqual([
      expect.objectContaining({
        name: 'hook',
        source: 'file',
        settings: { url: `${receiver.url}/webhook`, headers: { Authorization: '********' } },
      }),
    ]);
    expect((await call('DELETE', '/channels/hook')).body.error.code).toBe('channel_from_file');
    engine.set('cpu_usage', {}, 95);
    await call('POST', '/rules', { name: 'cpu', query: 'avg(cpu_usage) > 80', duration: '0s', channels: ['hook'] });
    await waitFor(() => paths('/webhook').length === 1);
    expect(paths('/webhook')[0].headers.authorization).toBe('Bearer HEADERSECRET');
  });
});

describe('email over TLS', () => {
  test('STARTTLS is required and used; an unverifiable certificate is refused unless told otherwise', async () => {
    const tlsSmtp = await startSmtpReceiver('alerts', 's3cret-pass', true);
    const { call, service } = await startAlerting();
    try {
      const settings = {
        host: '127.0.0.1',
        port: tlsSmtp.port,
        require_tls: true,
        username: 'alerts',
        password: 's3cret-pass',
        from: 'a@x.test',
        to: 'b@x.test',
      };
      await call('POST', '/channels', { name: 'strict', type: 'email', settings });
      await call('POST', '/channels', {
        name: 'lenient',
        type: 'email',
        settings: { ...settings, reject_unauthorized: false },
      });
      engine.set('cpu_usage', {}, 95);
      await call('POST', '/rules', {
        name: 'cpu',
        query: 'avg(cpu_usage) > 80',
        duration: '0s',
        channels: ['strict', 'lenient'],
      });
      await waitFor(() => tlsSmtp.mails.length === 1, 10_000, 'the mail over STARTTLS');
      expect(tlsSmtp.mails[0]).toMatchObject({ isSecure: true, user: 'alerts', to: ['b@x.test'] });
      const refused = await waitFor(async () => {
        const records = (await call('GET', '/notifications?channel=strict')).body.notifications;
        return records.length > 0 ? records[0] : undefined;
      });
      expect(refused).toMatchObject({ status: 'retrying', error: expect.stringMatching(/certificate/i) });
      expect(refused.error).not.toContain('s3cret-pass');
    } finally {
      // The service first: the SMTP server's close waits for the pooled connection to end.
      await service.close();
      running.splice(running.indexOf(service), 1);
      await tlsSmtp.close();
    }
  });
});
