import nodemailer from 'nodemailer';
import type { Channel } from './channel';
import { emailContent, pagerdutyEvents, slackBody, webhookBody, type Message } from './message';

/** A failed delivery. `isRetryable` is false when trying again cannot help (a 4xx other than 408/429, bad config). */
export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';

  constructor(
    message: string,
    readonly isRetryable: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface SenderOptions {
  /** Where the alerting API is reachable, for `externalURL` and links. */
  externalUrl: string;
  timeoutMs: number;
}

export type Send = (channel: Channel, message: Message) => Promise<void>;

const RETRYABLE_STATUSES = new Set([408, 425, 429]);

async function postJson(url: string, body: unknown, headers: Record<string, string>, timeoutMs: number) {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    throw new DeliveryError(`request failed: ${cause?.code ?? (error as Error).name}`, true);
  }
  const text = await response.text().catch(() => '');
  if (response.ok) return;
  throw new DeliveryError(
    `receiver answered ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`,
    response.status >= 500 || RETRYABLE_STATUSES.has(response.status),
  );
}

/** Sends over HTTP (Slack, webhook, PagerDuty) and SMTP (nodemailer, one pooled transport per email channel). */
export function createSender(options: SenderOptions): { send: Send; close(): void } {
  const transports = new Map<string, { key: string; transport: nodemailer.Transporter }>();

  function transportFor(channel: Extract<Channel, { type: 'email' }>): nodemailer.Transporter {
    const settings = channel.settings;
    const key = JSON.stringify(settings);
    const cached = transports.get(channel.name);
    if (cached?.key === key) return cached.transport;
    cached?.transport.close();
    const transport = nodemailer.createTransport({
      host: settings.host,
      port: settings.port,
      secure: settings.secure,
      requireTLS: settings.require_tls,
      tls: { rejectUnauthorized: settings.reject_unauthorized },
      auth: settings.username ? { user: settings.username, pass: settings.password ?? '' } : undefined,
      pool: true,
      maxConnections: channel.delivery.concurrency,
      connectionTimeout: options.timeoutMs,
      greetingTimeout: options.timeoutMs,
      socketTimeout: options.timeoutMs,
    });
    transports.set(channel.name, { key, transport });
    return transport;
  }

  const send: Send = async (channel, message) => {
    switch (channel.type) {
      case 'slack':
        return postJson(channel.settings.url, slackBody(message, channel.settings), {}, options.timeoutMs);
      case 'webhook':
        return postJson(
          channel.settings.url,
          webhookBody(message, channel.name, options.externalUrl),
          { 'idempotency-key': message.id, ...channel.settings.headers },
          options.timeoutMs,
        );
      case 'pagerduty':
        for (const event of pagerdutyEvents(
          message,
          channel.settings.routing_key,
          channel.settings.source ?? 'metricstream',
        ))
          await postJson(channel.settings.url, event, {}, options.timeoutMs);
        return;
      case 'email': {
        const content = emailContent(message);
        try {
          await transportFor(channel).sendMail({
            from: channel.settings.from,
            to: channel.settings.to,
            subject: content.subject,
            text: content.text,
            headers: { 'X-MetricStream-Notification': message.id },
          });
        } catch (error) {
          const code = (error as { responseCode?: number }).responseCode;
          throw new DeliveryError(
            `SMTP delivery failed: ${(error as Error).message}`,
            code === undefined || code < 500 || code >= 600,
          );
        }
        return;
      }
      default: {
        const exhaustive: never = channel;
        return exhaustive;
      }
    }
  };

  return {
    send,
    close() {
      for (const { transport } of transports.values()) transport.close();
      transports.clear();
    },
  };
}
