import type { Severity } from '../rules/rule';

/**
 * What one delivery carries: the alerts of one rule that changed at one evaluation (grouped, as Alertmanager groups
 * by alertname), and the bodies each channel type sends. Pure builders; `senders.ts` does the I/O.
 */
export type AlertStatus = 'firing' | 'resolved';

export interface AlertPayload {
  status: AlertStatus;
  /** `alertname` (the rule), `severity`, the rule's labels and the group's labels. */
  labels: Record<string, string>;
  annotations: Record<string, string>;
  value: number | null;
  startsAt: string;
  /** Alertmanager's zero time while firing. */
  endsAt: string;
  fingerprint: string;
  isRepeat: boolean;
}

export interface Message {
  /** Stable across retries and restarts: the idempotency key receivers can deduplicate on. */
  id: string;
  rule: string;
  channel: string;
  severity: Severity;
  createdAt: number;
  alerts: AlertPayload[];
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

export const statusOf = (message: Message): AlertStatus =>
  message.alerts.some((alert) => alert.status === 'firing') ? 'firing' : 'resolved';

const countOf = (message: Message, status: AlertStatus) =>
  message.alerts.filter((alert) => alert.status === status).length;

/** `[FIRING:2] high_cpu_alert` / `[RESOLVED] high_cpu_alert`, as Alertmanager titles its messages. */
function titleOf(message: Message): string {
  const status = statusOf(message);
  return status === 'firing' ? `[FIRING:${countOf(message, 'firing')}] ${message.rule}` : `[RESOLVED] ${message.rule}`;
}

const ORDINARY_LABELS = new Set(['alertname', 'severity']);

function describeAlert(alert: AlertPayload): string {
  const labels = Object.entries(alert.labels)
    .filter(([key]) => !ORDINARY_LABELS.has(key))
    .map(([key, value]) => `${key}=${value}`)
    .join(', ');
  const summary = alert.annotations.summary ?? alert.annotations.description;
  const value = alert.value === null ? 'no data' : String(alert.value);
  return `${alert.status === 'firing' ? 'FIRING' : 'RESOLVED'}${alert.isRepeat ? ' (still firing)' : ''}${labels ? ` {${labels}}` : ''} value=${value}${summary ? `: ${summary}` : ''}`;
}

function textOf(message: Message): string {
  return [titleOf(message), ...message.alerts.map((alert) => `• ${describeAlert(alert)}`)].join('\n');
}

/** Slack incoming webhook: `text` renders everywhere; the attachment colours the message by status. */
export function slackBody(message: Message, settings: { channel?: string; username?: string }) {
  return {
    text: textOf(message),
    ...(settings.channel ? { channel: settings.channel } : {}),
    ...(settings.username ? { username: settings.username } : {}),
    attachments: [{ color: statusOf(message) === 'firing' ? 'danger' : 'good', fallback: titleOf(message) }],
  };
}

const commonEntries = (maps: Record<string, string>[]): Record<string, string> => {
  if (maps.length === 0) return {};
  return Object.fromEntries(Object.entries(maps[0]).filter(([key, value]) => maps.every((map) => map[key] === value)));
};

/** Alertmanager's webhook format, version 4, so existing receivers work unchanged. */
export function webhookBody(message: Message, receiver: string, externalUrl: string) {
  return {
    version: '4',
    groupKey: `{}:{alertname="${message.rule}"}`,
    truncatedAlerts: 0,
    status: statusOf(message),
    receiver,
    groupLabels: { alertname: message.rule },
    commonLabels: commonEntries(message.alerts.map((alert) => alert.labels)),
    commonAnnotations: commonEntries(message.alerts.map((alert) => alert.annotations)),
    externalURL: externalUrl,
    alerts: message.alerts.map((alert) => ({
      status: alert.status,
      labels: alert.labels,
      annotations: alert.annotations,
      startsAt: alert.startsAt,
      endsAt: alert.endsAt,
      generatorURL: `${externalUrl}/rules/${encodeURIComponent(message.rule)}`,
      fingerprint: alert.fingerprint,
    })),
  };
}

const PAGERDUTY_SEVERITY: Record<Severity, string> = {
  critical: 'critical',
  error: 'error',
  warning: 'warning',
  info: 'info',
};

/**
 * PagerDuty Events API v2: one event per alert instance, keyed by its fingerprint so a trigger and its resolve (and
 * any retried or repeated trigger) land on the same incident.
 */
export function pagerdutyEvents(message: Message, routingKey: string, source: string) {
  return message.alerts.map((alert) => ({
    routing_key: routingKey,
    event_action: alert.status === 'firing' ? 'trigger' : 'resolve',
    dedup_key: `metricstream-${alert.fingerprint}`,
    payload: {
      summary: `${message.rule}: ${describeAlert(alert)}`.slice(0, 1024),
      severity: PAGERDUTY_SEVERITY[message.severity],
      source,
      timestamp: alert.startsAt,
      custom_details: { value: alert.value, labels: alert.labels, annotations: alert.annotations },
    },
  }));
}

export function emailContent(message: Message) {
  return { subject: titleOf(message), text: textOf(message) };
}
