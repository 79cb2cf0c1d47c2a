import type { AlertEntry } from './types';

/** What the alerting service answered to a rule write. */
export type RuleWriteResult = { kind: 'synced' } | { kind: 'invalid'; code: string; message: string };

export interface AlertingClient {
  putRule(name: string, body: Record<string, unknown>): Promise<RuleWriteResult>;
  /** Resolves whether the rule existed; throws when the service cannot be reached. */
  deleteRule(name: string): Promise<boolean>;
  alerts(): Promise<AlertEntry[]>;
}

export class AlertingUnavailableError extends Error {
  override readonly name = 'AlertingUnavailableError';
}

export function httpAlertingClient(baseUrl: string, timeoutMs = 5000): AlertingClient {
  const request = async (method: string, path: string, body?: unknown) => {
    try {
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: response.status, body: parsed, text };
    } catch (error) {
      throw new AlertingUnavailableError(`${method} ${baseUrl}${path}: ${(error as Error).message}`, { cause: error });
    }
  };
  const unavailable = (method: string, path: string, status: number, text: string) =>
    new AlertingUnavailableError(`${method} ${baseUrl}${path}: ${status} ${text.slice(0, 300)}`);
  return {
    async putRule(name, body) {
      const path = `/rules/${encodeURIComponent(name)}`;
      const response = await request('PUT', path, body);
      if (response.status >= 200 && response.status < 300) return { kind: 'synced' };
      if (response.status === 400 || response.status === 422) {
        const error = (response.body as { error?: { code?: string; message?: string; position?: number } })?.error;
        const position = error?.position !== undefined ? ` (at position ${error.position})` : '';
        return {
          kind: 'invalid',
          code: error?.code ?? 'invalid_rule',
          message: `${error?.message ?? response.text}${position}`,
        };
      }
      throw unavailable('PUT', path, response.status, response.text);
    },
    async deleteRule(name) {
      const path = `/rules/${encodeURIComponent(name)}`;
      const response = await request('DELETE', path);
      if (response.status === 404) return false;
      if (response.status >= 200 && response.status < 300) return true;
      throw unavailable('DELETE', path, response.status, response.text);
    },
    async alerts() {
      const response = await request('GET', '/alerts');
      if (response.status !== 200) throw unavailable('GET', '/alerts', response.status, response.text);
      return ((response.body as { alerts?: AlertEntry[] })?.alerts ?? []).filter(
        (alert) => typeof alert?.rule === 'string',
      );
    },
  };
}
