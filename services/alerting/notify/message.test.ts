import { RuleError } from '../errors';
import { maskChannel, redact, validateChannel } from './channel';
import { emailContent, pagerdutyEvents, slackBody, webhookBody, type AlertPayload, type Message } from './message';

const alert = (host: string, status: 'firing' | 'resolved', extra: Record<string, string> = {}): AlertPayload => ({
  status,
  labels: { alertname: 'cpu', severity: 'critical', host, ...extra },
  annotations: { summary: `high on ${host}`, runbook: 'http://runbook' },
  value: 91,
  startsAt: '2026-11-26T00:00:00.000Z',
  endsAt: status === 'firing' ? '0001-01-01T00:00:00Z' : '2026-11-26T00:05:00.000Z',
  fingerprint: `f-${host}`,
  isRepeat: false,
});

const message = (alerts: AlertPayload[]): Message => ({
  id: 'cpu/1/hook',
  rule: 'cpu',
  channel: 'hook',
  severity: 'critical',
  createdAt: 1,
  alerts,
});

describe('payloads', () => {
  test('webhook: Alertmanager v4 with common labels and annotations of the group', () => {
    const body = webhookBody(
      message([alert('a', 'firing', { dc: 'x' }), alert('b', 'resolved', { dc: 'x' })]),
      'hook',
      'http://alerting',
    );
    expect(body).toMatchObject({
      version: '4',
      groupKey: '{}:{alertname="cpu"}',
      status: 'firing',
      receiver: 'hook',
      groupLabels: { alertname: 'cpu' },
      commonLabels: { alertname: 'cpu', severity: 'critical', dc: 'x' },
      commonAnnotations: { runbook: 'http://runbook' },
      externalURL: 'http://alerting',
    });
    expect(body.alerts[1]).toEqual({
      status: 'resolved',
      labels: { alertname: 'cpu', severity: 'critical', host: 'b', dc: 'x' },
      annotations: { summary: 'high on b', runbook: 'http://runbook' },
      startsAt: '2026-11-26T00:00:00.000Z',
      endsAt: '2026-11-26T00:05:00.000Z',
      generatorURL: 'http://alerting/rules/cpu',
      fingerprint: 'f-b',
    });
    expect(webhookBody(message([alert('b', 'resolved')]), 'hook', '').status).toBe('resolved');
  });

  test('pagerduty: one event per alert with a stable dedup key', () => {
    const events = pagerdutyEvents(message([alert('a', 'firing'), alert('b', 'resolved')]), 'KEY', 'metricstream');
    expect(events.map((event) => [event.event_action, event.dedup_key])).toEqual([
      ['trigger', 'metricstream-f-a'],
      ['resolve', 'metricstream-f-b'],
    ]);
    expect(events[0]).toMatchObject({
      routing_key: 'KEY',
      payload: { severity: 'critical', source: 'metricstream', custom_details: { value: 91 } },
    });
  });

  test('slack and email carry the title and one line per alert', () => {
    const both = message([alert('a', 'firing'), alert('b', 'firing')]);
    expect(slackBody(both, { channel: '#ops' })).toMatchObject({
      text: '[FIRING:2] cpu\n• FIRING {host=a} value=91: high on a\n• FIRING {host=b} value=91: high on b',
      channel: '#ops',
      attachments: [{ color: 'danger' }],
    });
    expect(emailContent(message([alert('a', 'resolved')])).subject).toBe('[RESOLVED] cpu');
  });
});

describe('channels', () => {
  test('every type validates with defaults, and every problem is listed', () => {
    expect(validateChannel({ name: 'pd', type: 'pagerduty', settings: { routing_key: 'k' } })).toMatchObject({
      settings: { url: 'https://events.pagerduty.com/v2/enqueue' },
      delivery: { concurrency: 4, ratePerSecond: 10 },
    });
    expect(
      validateChannel({ name: 'm', type: 'email', settings: { host: 'h', secure: true, from: 'a@b', to: 'c@d' } })
        .settings,
    ).toMatchObject({ port: 465, to: ['c@d'], reject_unauthorized: true, require_tls: false });
    const error = (() => {
      try {
        validateChannel({ name: 'm', type: 'email', settings: { port: 0, to: [] }, concurrency: 0 });
      } catch (caught) {
        return caught as RuleError;
      }
    })();
    expect(error?.details.problems).toEqual(['concurrency: an integer from 1 to 100']);
    expect(() => validateChannel({ name: 'm', type: 'email', settings: { port: 0, to: [] } })).toThrow(
      expect.objectContaining({
        details: {
          problems: [
            'settings.host: required, the SMTP server',
            'settings.port: a port number',
            'settings.from: required, an address',
            'settings.to: required, an address or a list of addresses',
          ],
        },
      }),
    );
    expect(() => validateChannel({ name: 'x', type: 'sms' })).toThrow(/type: must be one of/);
  });

  test('secrets are masked in answers and scrubbed from error text', () => {
    const slack = validateChannel({
      name: 's',
      type: 'slack',
      settings: { url: 'https://hooks.slack.com/services/T/B/SECRET' },
    });
    expect(maskChannel(slack).settings).toEqual({ url: 'https://hooks.slack.com/********' });
    expect(redact('POST https://hooks.slack.com/services/T/B/SECRET failed', slack)).toBe('POST ******** failed');
    const hook = validateChannel({
      name: 'w',
      type: 'webhook',
      settings: {
        url: 'https://user:pa55word@example.test/hook?token=abcd',
        headers: { Authorization: 'Bearer xyz1' },
      },
    });
    expect(maskChannel(hook).settings).toEqual({
      url: 'https://user:********@example.test/hook?********',
      headers: { Authorization: '********' },
    });
    expect(JSON.stringify(maskChannel(hook))).not.toMatch(/pa55word|abcd|xyz1/);
  });
});
