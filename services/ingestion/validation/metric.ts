/**
 * Request validation for `POST /metrics`: pure, no I/O. A request is accepted whole or rejected whole; a rejection
 * names the first offending entries by index.
 */
export const MetricType = { Gauge: 'gauge', Counter: 'counter' } as const;
export type MetricType = (typeof MetricType)[keyof typeof MetricType];

/** One metric as it travels to the queue inside a MetricBatch (docs/CONTRACTS.md). */
export interface Metric {
  name: string;
  value: number;
  type: MetricType;
  tags: Record<string, string>;
  timestamp: number;
}

export interface ValidationLimits {
  maxMetrics: number;
  maxTags: number;
  maxNameLength: number;
  maxTagValueLength: number;
}

const NAME_PATTERN = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
/** Tag keys follow Prometheus label names so every tag can be used in a query's WHERE clause. */
const TAG_KEY_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Largest timestamp accepted: the maximum ECMAScript date (year 275760). */
const MAX_TIMESTAMP = 8.64e15;
/** How many offending entries a rejection lists. */
export const MAX_REPORTED_PROBLEMS = 10;

export interface Problem {
  index: number;
  field: string;
  message: string;
}

export type Validation =
  | { kind: 'valid'; metrics: Metric[] }
  | { kind: 'invalid_body'; message: string }
  | { kind: 'too_many_metrics'; count: number; limit: number }
  | { kind: 'invalid_metrics'; problems: Problem[] };

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The first problem of one metric, or a Metric ready for the queue. `now` fills a missing timestamp. */
function checkMetric(raw: unknown, index: number, limits: ValidationLimits, now: number): Metric | Problem {
  if (!isPlainObject(raw)) return { index, field: '', message: 'each metric must be an object' };
  const { name, value, type = MetricType.Gauge, tags, timestamp } = raw;
  if (typeof name !== 'string' || !NAME_PATTERN.test(name))
    return { index, field: 'name', message: `name must match ${NAME_PATTERN.source}` };
  if (name.length > limits.maxNameLength)
    return { index, field: 'name', message: `name is longer than ${limits.maxNameLength} characters` };
  if (typeof value !== 'number' || !Number.isFinite(value))
    return { index, field: 'value', message: 'value must be a finite number' };
  if (type !== MetricType.Gauge && type !== MetricType.Counter)
    return { index, field: 'type', message: 'type must be "gauge" or "counter"' };
  if (type === MetricType.Counter && value < 0)
    return { index, field: 'value', message: 'a counter value must not be negative' };
  let checkedTags: Record<string, string> = {};
  if (tags !== undefined) {
    if (!isPlainObject(tags)) return { index, field: 'tags', message: 'tags must be an object of strings' };
    const problem = checkTags(tags, index, limits);
    if (problem) return problem;
    checkedTags = tags as Record<string, string>;
  }
  let checkedTimestamp = now;
  if (timestamp !== undefined) {
    if (typeof timestamp !== 'number' || !Number.isInteger(timestamp) || timestamp < 0 || timestamp > MAX_TIMESTAMP)
      return { index, field: 'timestamp', message: 'timestamp must be an integer number of ms since 1970' };
    checkedTimestamp = timestamp;
  }
  return { name, value, type, tags: checkedTags, timestamp: checkedTimestamp };
}

function checkTags(tags: Record<string, unknown>, index: number, limits: ValidationLimits): Problem | undefined {
  let count = 0;
  for (const key in tags) {
    if (++count > limits.maxTags) return { index, field: 'tags', message: `more than ${limits.maxTags} tags` };
    if (key.length > limits.maxNameLength || !TAG_KEY_PATTERN.test(key))
      return {
        index,
        field: `tags.${key.slice(0, 64)}`,
        message: `tag keys must match ${TAG_KEY_PATTERN.source} and be at most ${limits.maxNameLength} characters`,
      };
    const tagValue = tags[key];
    if (typeof tagValue !== 'string' || tagValue.length > limits.maxTagValueLength)
      return {
        index,
        field: `tags.${key}`,
        message: `tag values must be strings of at most ${limits.maxTagValueLength} characters`,
      };
  }
  return undefined;
}

const isProblem = (result: Metric | Problem): result is Problem => 'message' in result;

/** Validates a parsed `{"metrics": [...]}` body. */
export function validateMetricsBody(body: unknown, limits: ValidationLimits, now: number): Validation {
  const metrics = isPlainObject(body) ? body.metrics : undefined;
  if (!Array.isArray(metrics))
    return { kind: 'invalid_body', message: 'body must be a JSON object {"metrics": [...]}' };
  return validateMetricList(metrics, limits, now);
}

export function validateMetricList(metrics: readonly unknown[], limits: ValidationLimits, now: number): Validation {
  if (metrics.length === 0) return { kind: 'invalid_body', message: 'metrics must not be empty' };
  if (metrics.length > limits.maxMetrics)
    return { kind: 'too_many_metrics', count: metrics.length, limit: limits.maxMetrics };
  const accepted: Metric[] = new Array(metrics.length);
  const problems: Problem[] = [];
  for (let index = 0; index < metrics.length; index++) {
    const result = checkMetric(metrics[index], index, limits, now);
    if (isProblem(result)) {
      problems.push(result);
      if (problems.length === MAX_REPORTED_PROBLEMS) break;
    } else accepted[index] = result;
  }
  return problems.length > 0 ? { kind: 'invalid_metrics', problems } : { kind: 'valid', metrics: accepted };
}
