import yaml from 'js-yaml';
import type { BucketPolicy } from './bucket';

/**
 * Per-client rate-limit overrides, from a list (`client=rate` or `client=rate:burst`; burst defaults to the rate,
 * at least 1) and/or a JSON or YAML document `{"overrides": {"client": {"rate": 100, "burst": 200}}}`.
 * Both return every problem found so start-up can list them together.
 */
export interface Overrides {
  overrides: Map<string, BucketPolicy>;
  problems: string[];
}

const isPolicy = (rate: number, burst: number) =>
  rate > 0 && Number.isFinite(rate) && burst >= 1 && Number.isFinite(burst);

export function parseOverrideList(items: readonly string[]): Overrides {
  const overrides = new Map<string, BucketPolicy>();
  const problems: string[] = [];
  for (const item of items) {
    const match = /^([^=\s]+)=(\d+(?:\.\d+)?)(?::(\d+(?:\.\d+)?))?$/.exec(item.trim());
    const rate = match ? Number(match[2]) : NaN;
    const burst = match?.[3] !== undefined ? Number(match[3]) : Math.max(1, rate);
    if (!match || !isPolicy(rate, burst)) {
      problems.push(`rate limit override "${item}" must be client=rate or client=rate:burst (rate > 0, burst >= 1)`);
      continue;
    }
    overrides.set(match[1], { rate, burst });
  }
  return { overrides, problems };
}

export function parseOverrideDocument(text: string, source: string): Overrides {
  const overrides = new Map<string, BucketPolicy>();
  const problems: string[] = [];
  let document: unknown;
  try {
    document = yaml.load(text, { json: true });
  } catch (error) {
    return { overrides, problems: [`${source}: not valid JSON or YAML: ${(error as Error).message}`] };
  }
  const entries = (document as { overrides?: unknown } | null)?.overrides;
  if (typeof entries !== 'object' || entries === null || Array.isArray(entries))
    return { overrides, problems: [`${source}: expected {"overrides": {"client": {"rate": n, "burst": n}}}`] };
  for (const [client, raw] of Object.entries(entries as Record<string, unknown>)) {
    const { rate, burst } = (raw ?? {}) as { rate?: unknown; burst?: unknown };
    const burstValue = burst === undefined && typeof rate === 'number' ? Math.max(1, rate) : burst;
    if (typeof rate !== 'number' || typeof burstValue !== 'number' || !isPolicy(rate, burstValue)) {
      problems.push(`${source}: overrides.${client} needs "rate" > 0 and "burst" >= 1`);
      continue;
    }
    overrides.set(client, { rate, burst: burstValue });
  }
  return { overrides, problems };
}
