import { parseDuration } from '../../kit/config';
import { ErrorCode, RuleError } from '../errors';
import { parseCondition, type Condition } from './condition';

export const NODATA_POLICIES = ['ok', 'alerting', 'keep_last'] as const;
export type NodataPolicy = (typeof NODATA_POLICIES)[number];

export const SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** A rule as the API stores and answers it (the design document's four fields plus the optional ones). */
export interface RuleSpec {
  name: string;
  query: string;
  duration: string;
  channels: string[];
  window: string;
  interval?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  severity: Severity;
  keep_firing_for?: string;
  renotify_interval?: string;
  nodata: NodataPolicy;
  enabled: boolean;
}

/** A validated rule with its durations in milliseconds and its condition translated to the query language. */
export interface Rule {
  spec: RuleSpec;
  name: string;
  condition: Condition;
  durationMs: number;
  windowMs: number;
  /** Absent: the service's `--evaluation-interval`. */
  intervalMs?: number;
  keepFiringForMs: number;
  /** Absent: the service's `--renotify-interval`; 0 never re-sends. */
  renotifyIntervalMs?: number;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,199}$/;
const LABEL_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KNOWN_FIELDS = new Set([
  'name',
  'query',
  'duration',
  'channels',
  'window',
  'interval',
  'labels',
  'annotations',
  'severity',
  'keep_firing_for',
  'renotify_interval',
  'nodata',
  'enabled',
]);

export const DEFAULT_WINDOW = '1m';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A duration given as text (`5m`) or a number of milliseconds; `undefined` when absent, a problem when malformed. */
function readDuration(
  body: Record<string, unknown>,
  field: string,
  problems: string[],
  minimumMs = 0,
): { text: string; ms: number } | undefined {
  const raw = body[field];
  if (raw === undefined || raw === null) return undefined;
  const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw : undefined;
  const ms = text === undefined ? undefined : parseDuration(text);
  if (ms === undefined || !Number.isFinite(ms)) {
    problems.push(`${field}: ${JSON.stringify(raw)} is not a duration such as 30s, 5m or 1h`);
    return undefined;
  }
  if (ms < minimumMs) {
    problems.push(`${field}: must be at least ${minimumMs} ms`);
    return undefined;
  }
  return { text: typeof raw === 'number' ? `${raw}ms` : (raw as string).trim(), ms };
}

function readStringMap(body: Record<string, unknown>, field: string, problems: string[]): Record<string, string> {
  const raw = body[field];
  if (raw === undefined || raw === null) return {};
  if (!isRecord(raw)) {
    problems.push(`${field}: must be an object of strings`);
    return {};
  }
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!LABEL_KEY.test(key)) problems.push(`${field}: "${key}" is not a valid key (letters, digits, _)`);
    else if (typeof value !== 'string') problems.push(`${field}.${key}: must be a string`);
    else result[key] = value;
  }
  return result;
}

/**
 * Validates a request body into a rule. Throws `RuleError` `invalid_rule` listing every problem, or `parse_error`
 * with the `position` in `query` when the condition does not parse. The query engine's check comes after this.
 */
export function validateRule(body: unknown, nameFromPath?: string): Rule {
  if (!isRecord(body)) throw new RuleError(ErrorCode.InvalidRule, 'a rule is a JSON object', { problems: [] });
  const problems: string[] = [];
  for (const field of Object.keys(body)) if (!KNOWN_FIELDS.has(field)) problems.push(`${field}: unknown field`);
  const name = body.name ?? nameFromPath;
  if (nameFromPath !== undefined && body.name !== undefined && body.name !== nameFromPath)
    throw new RuleError(
      ErrorCode.RuleNameMismatch,
      `the body's name "${String(body.name)}" differs from the path's "${nameFromPath}"`,
    );
  if (typeof name !== 'string' || !NAME.test(name))
    problems.push('name: required, letters, digits and _ . : - (starting with a letter or _), at most 200');
  if (typeof body.query !== 'string' || body.query.trim() === '') problems.push('query: required, a condition');
  if (body.duration === undefined) problems.push('duration: required, such as 5m (0s fires at once)');
  const duration = readDuration(body, 'duration', problems);
  const window = readDuration(body, 'window', problems, 1000);
  const interval = readDuration(body, 'interval', problems, 100);
  const keepFiringFor = readDuration(body, 'keep_firing_for', problems);
  const renotifyInterval = readDuration(body, 'renotify_interval', problems);
  const channels = body.channels ?? [];
  if (!Array.isArray(channels) || channels.some((channel) => typeof channel !== 'string' || channel === ''))
    problems.push('channels: must be a list of channel names');
  const labels = readStringMap(body, 'labels', problems);
  const annotations = readStringMap(body, 'annotations', problems);
  const severity = body.severity ?? 'warning';
  if (!(SEVERITIES as readonly unknown[]).includes(severity))
    problems.push(`severity: must be one of ${SEVERITIES.join(', ')}`);
  const nodata = body.nodata ?? 'ok';
  if (!(NODATA_POLICIES as readonly unknown[]).includes(nodata))
    problems.push(`nodata: must be one of ${NODATA_POLICIES.join(', ')}`);
  const enabled = body.enabled ?? true;
  if (typeof enabled !== 'boolean') problems.push('enabled: must be true or false');
  if (problems.length > 0)
    throw new RuleError(ErrorCode.InvalidRule, `invalid rule: ${problems.join('; ')}`, { problems });

  const windowMs = window?.ms ?? parseDuration(DEFAULT_WINDOW)!;
  const condition = parseCondition(body.query as string, windowMs);
  const spec: RuleSpec = {
    name: name as string,
    query: body.query as string,
    duration: duration!.text,
    channels: [...new Set(channels as string[])],
    window: window?.text ?? DEFAULT_WINDOW,
    labels,
    annotations,
    severity: severity as Severity,
    nodata: nodata as NodataPolicy,
    enabled: enabled as boolean,
  };
  if (interval) spec.interval = interval.text;
  if (keepFiringFor) spec.keep_firing_for = keepFiringFor.text;
  if (renotifyInterval) spec.renotify_interval = renotifyInterval.text;
  return {
    spec,
    name: spec.name,
    condition,
    durationMs: duration!.ms,
    windowMs,
    intervalMs: interval?.ms,
    keepFiringForMs: keepFiringFor?.ms ?? 0,
    renotifyIntervalMs: renotifyInterval?.ms,
  };
}
