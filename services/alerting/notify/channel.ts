import { ErrorCode, RuleError } from '../errors';

/**
 * Notification channels, validated into a discriminated union. Pure: no I/O. Secrets (webhook URLs of Slack, the
 * PagerDuty routing key, SMTP passwords, webhook headers) are kept here and masked by `maskChannel` wherever a
 * channel leaves the process (API answers, logs).
 */
export const CHANNEL_TYPES = ['slack', 'email', 'webhook', 'pagerduty'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

export const DEFAULT_PAGERDUTY_URL = 'https://events.pagerduty.com/v2/enqueue';
const MASK = '********';

export interface Delivery {
  /** Simultaneous deliveries to this channel at most. */
  concurrency: number;
  /** Deliveries started per second at most (a token bucket with a burst of the same size). */
  ratePerSecond: number;
}

interface ChannelBase {
  name: string;
  delivery: Delivery;
  /** Defined in the `--channels-file` (read-only through the API) rather than through `POST /channels`. */
  isFromFile: boolean;
}

export type Channel =
  | (ChannelBase & { type: 'slack'; settings: { url: string; channel?: string; username?: string } })
  | (ChannelBase & { type: 'webhook'; settings: { url: string; headers: Record<string, string> } })
  | (ChannelBase & { type: 'pagerduty'; settings: { routing_key: string; url: string; source?: string } })
  | (ChannelBase & {
      type: 'email';
      settings: {
        host: string;
        port: number;
        /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
        secure: boolean;
        /** Refuse to send unless STARTTLS succeeds. */
        require_tls: boolean;
        /** Verify the server's certificate (turn off only for a test server with a self-signed certificate). */
        reject_unauthorized: boolean;
        username?: string;
        password?: string;
        from: string;
        to: string[];
      };
    });

const NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,99}$/;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const invalid = (problems: string[]) =>
  new RuleError(ErrorCode.InvalidChannel, `invalid channel: ${problems.join('; ')}`, { problems });

function readUrl(settings: Record<string, unknown>, field: string, problems: string[], fallback?: string): string {
  const raw = settings[field] ?? fallback;
  if (typeof raw !== 'string') {
    problems.push(`settings.${field}: required, an http(s) URL`);
    return '';
  }
  try {
    const url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
  } catch {
    problems.push(`settings.${field}: not an http(s) URL`);
  }
  return raw;
}

function readOptionalString(settings: Record<string, unknown>, field: string, problems: string[]): string | undefined {
  const raw = settings[field];
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'string') problems.push(`settings.${field}: must be a string`);
  return typeof raw === 'string' ? raw : undefined;
}

function readBoolean(settings: Record<string, unknown>, field: string, fallback: boolean, problems: string[]): boolean {
  const raw = settings[field];
  if (raw === undefined) return fallback;
  if (typeof raw !== 'boolean') problems.push(`settings.${field}: must be true or false`);
  return raw === true;
}

function readDelivery(body: Record<string, unknown>, problems: string[]): Delivery {
  const concurrency = body.concurrency ?? 4;
  const ratePerSecond = body.rate_per_second ?? 10;
  if (!Number.isInteger(concurrency) || (concurrency as number) < 1 || (concurrency as number) > 100)
    problems.push('concurrency: an integer from 1 to 100');
  if (typeof ratePerSecond !== 'number' || !(ratePerSecond > 0) || ratePerSecond > 10_000)
    problems.push('rate_per_second: a number above 0, at most 10000');
  return { concurrency: concurrency as number, ratePerSecond: ratePerSecond as number };
}

/** Validates `{"name", "type", "settings", "concurrency"?, "rate_per_second"?}`; throws `invalid_channel` listing every problem. */
export function validateChannel(body: unknown, isFromFile = false): Channel {
  if (!isRecord(body)) throw invalid(['a channel is a JSON object']);
  const problems: string[] = [];
  for (const field of Object.keys(body))
    if (!['name', 'type', 'settings', 'concurrency', 'rate_per_second'].includes(field))
      problems.push(`${field}: unknown field`);
  const name = body.name;
  if (typeof name !== 'string' || !NAME.test(name))
    problems.push('name: required, letters, digits and _ . : - (starting with a letter or _)');
  const type = body.type;
  if (!(CHANNEL_TYPES as readonly unknown[]).includes(type))
    problems.push(`type: must be one of ${CHANNEL_TYPES.join(', ')}`);
  const settings = body.settings ?? {};
  if (!isRecord(settings)) problems.push('settings: must be an object');
  const delivery = readDelivery(body, problems);
  if (problems.length > 0) throw invalid(problems);
  const base = { name: name as string, delivery, isFromFile };
  const raw = settings as Record<string, unknown>;
  const channel = readSettings(type as ChannelType, raw, base, problems);
  if (problems.length > 0) throw invalid(problems);
  return channel;
}

function readSettings(
  type: ChannelType,
  settings: Record<string, unknown>,
  base: ChannelBase,
  problems: string[],
): Channel {
  switch (type) {
    case 'slack':
      return {
        ...base,
        type,
        settings: {
          url: readUrl(settings, 'url', problems),
          channel: readOptionalString(settings, 'channel', problems),
          username: readOptionalString(settings, 'username', problems),
        },
      };
    case 'webhook': {
      const headers = settings.headers ?? {};
      if (!isRecord(headers) || Object.values(headers).some((value) => typeof value !== 'string'))
        problems.push('settings.headers: must be an object of strings');
      return {
        ...base,
        type,
        settings: { url: readUrl(settings, 'url', problems), headers: headers as Record<string, string> },
      };
    }
    case 'pagerduty': {
      const routingKey = settings.routing_key;
      if (typeof routingKey !== 'string' || routingKey === '')
        problems.push('settings.routing_key: required, the integration key of the service');
      return {
        ...base,
        type,
        settings: {
          routing_key: routingKey as string,
          url: readUrl(settings, 'url', problems, DEFAULT_PAGERDUTY_URL),
          source: readOptionalString(settings, 'source', problems),
        },
      };
    }
    case 'email': {
      const host = settings.host;
      if (typeof host !== 'string' || host === '') problems.push('settings.host: required, the SMTP server');
      const secure = readBoolean(settings, 'secure', false, problems);
      const port = settings.port ?? (secure ? 465 : 587);
      if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535)
        problems.push('settings.port: a port number');
      const from = settings.from;
      if (typeof from !== 'string' || !from.includes('@')) problems.push('settings.from: required, an address');
      const to = typeof settings.to === 'string' ? [settings.to] : settings.to;
      if (
        !Array.isArray(to) ||
        to.length === 0 ||
        to.some((address) => typeof address !== 'string' || !address.includes('@'))
      )
        problems.push('settings.to: required, an address or a list of addresses');
      return {
        ...base,
        type,
        settings: {
          host: host as string,
          port: port as number,
          secure,
          require_tls: readBoolean(settings, 'require_tls', false, problems),
          reject_unauthorized: readBoolean(settings, 'reject_unauthorized', true, problems),
          username: readOptionalString(settings, 'username', problems),
          password: readOptionalString(settings, 'password', problems),
          from: from as string,
          to: to as string[],
        },
      };
    }
    default: {
      const exhaustive: never = type;
      return exhaustive;
    }
  }
}

/** The secret strings of a channel, to mask in answers and to scrub from error messages before they are logged. */
function secretsOf(channel: Channel): string[] {
  switch (channel.type) {
    case 'slack':
      return [channel.settings.url];
    case 'webhook':
      return [...Object.values(channel.settings.headers), ...urlCredentials(channel.settings.url)];
    case 'pagerduty':
      return [channel.settings.routing_key];
    case 'email':
      return channel.settings.password ? [channel.settings.password] : [];
    default: {
      const exhaustive: never = channel;
      return exhaustive;
    }
  }
}

function urlCredentials(text: string): string[] {
  const url = new URL(text);
  return [url.password, url.search.slice(1)].filter((part) => part.length > 0);
}

/** Slack's webhook URL is the secret itself: only its origin is shown. */
const maskUrl = (text: string) => `${new URL(text).origin}/${MASK}`;

function maskWebhookUrl(text: string): string {
  const url = new URL(text);
  if (url.password) url.password = MASK;
  if (url.search) url.search = `?${MASK}`;
  return url.toString();
}

/** The channel as the API answers it: the same shape as `POST /channels` takes, secrets replaced by `********`. */
export function maskChannel(channel: Channel): Record<string, unknown> {
  const common = {
    name: channel.name,
    type: channel.type,
    concurrency: channel.delivery.concurrency,
    rate_per_second: channel.delivery.ratePerSecond,
    source: channel.isFromFile ? 'file' : 'api',
  };
  switch (channel.type) {
    case 'slack':
      return { ...common, settings: { ...channel.settings, url: maskUrl(channel.settings.url) } };
    case 'webhook':
      return {
        ...common,
        settings: {
          url: maskWebhookUrl(channel.settings.url),
          headers: Object.fromEntries(Object.keys(channel.settings.headers).map((key) => [key, MASK])),
        },
      };
    case 'pagerduty':
      return { ...common, settings: { ...channel.settings, routing_key: MASK } };
    case 'email':
      return {
        ...common,
        settings: { ...channel.settings, password: channel.settings.password === undefined ? undefined : MASK },
      };
    default: {
      const exhaustive: never = channel;
      return exhaustive;
    }
  }
}

/** The stored form (secrets included): what `validateChannel` reads back. */
export function channelBody(channel: Channel): Record<string, unknown> {
  return {
    name: channel.name,
    type: channel.type,
    settings: channel.settings,
    concurrency: channel.delivery.concurrency,
    rate_per_second: channel.delivery.ratePerSecond,
  };
}

export function redact(text: string, channel: Channel): string {
  let result = text;
  for (const secret of secretsOf(channel)) if (secret.length >= 4) result = result.split(secret).join(MASK);
  return result;
}
