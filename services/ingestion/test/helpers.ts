import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const tempDir = (prefix: string) => mkdtempSync(path.join(os.tmpdir(), `ingestion-${prefix}-`));

export interface Reply {
  status: number;
  headers: Headers;
  body: unknown;
}

export async function postMetrics(
  base: string,
  authorization: string | undefined,
  body: unknown,
  path = '/metrics',
): Promise<Reply> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (authorization !== undefined) headers.authorization = authorization;
  const response = await fetch(base + path, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

export const oneMetric = (value: number, tags: Record<string, string> = {}) => ({
  metrics: [{ name: 'cpu_usage', value, type: 'gauge', tags }],
});

/** The value of one sample in the service's Prometheus text, summed over label sets that match `labels`. */
export async function scrape(base: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(base + '/metrics')).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (labels && !line.includes(labels)) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
