import type { Point } from '../series/series';

/**
 * Validation of the points `POST /write` accepts (API.md): pure, and the whole batch or nothing, so the first bad
 * point throws PointError with its index (and line, for line protocol).
 */
export class PointError extends Error {
  override readonly name = 'PointError';

  constructor(
    readonly index: number,
    readonly reason: string,
    readonly line?: number,
  ) {
    super(`point ${index}${line === undefined ? '' : ` (line ${line})`}: ${reason}`);
  }
}

/** Names and tag values: non-empty (values may not be empty either: an empty tag is no tag), no NUL, bounded. */
const MAX_NAME_LENGTH = 1024;

function checkName(what: string, name: unknown, index: number, line?: number): string {
  if (typeof name !== 'string' || name.length === 0)
    throw new PointError(index, `${what} must be a non-empty string`, line);
  if (name.length > MAX_NAME_LENGTH) throw new PointError(index, `${what} is longer than ${MAX_NAME_LENGTH}`, line);
  if (name.includes('\0')) throw new PointError(index, `${what} contains a NUL character`, line);
  return name;
}

function checkTimestamp(timestamp: number, index: number, line?: number): number {
  if (!Number.isSafeInteger(timestamp))
    throw new PointError(index, `timestamp ${timestamp} is not an integer number of milliseconds`, line);
  return timestamp;
}

function checkValue(field: string, value: unknown, index: number, line?: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new PointError(index, `field ${JSON.stringify(field)} must be a finite number`, line);
  return value;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** One point as JSON: `{"measurement", "tags", "fields", "timestamp"}`; `timestamp` absent means `now`. */
export function parseJsonPoint(input: unknown, index: number, now: number): Point {
  if (!isRecord(input)) throw new PointError(index, 'a point must be an object');
  const measurement = checkName('measurement', input.measurement, index);
  const tags: [string, string][] = [];
  if (input.tags !== undefined) {
    if (!isRecord(input.tags)) throw new PointError(index, 'tags must be an object of strings');
    for (const [key, value] of Object.entries(input.tags))
      tags.push([checkName('tag key', key, index), checkName(`tag ${JSON.stringify(key)}`, value, index)]);
    tags.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
  if (!isRecord(input.fields) || Object.keys(input.fields).length === 0)
    throw new PointError(index, 'fields must be an object with at least one numeric field');
  const fields: [string, number][] = Object.entries(input.fields).map(([field, value]) => [
    checkName('field name', field, index),
    checkValue(field, value, index),
  ]);
  const timestamp = input.timestamp === undefined ? now : input.timestamp;
  if (typeof timestamp !== 'number')
    throw new PointError(index, 'timestamp must be a number of milliseconds since the epoch');
  return { measurement, tags, fields, timestamp: checkTimestamp(timestamp, index) };
}

/** A JSON body: one point, an array of points, or `{"points": [...]}`. */
export function parseJsonPoints(body: unknown, now: number): Point[] {
  if (Array.isArray(body)) return body.map((point, index) => parseJsonPoint(point, index, now));
  if (isRecord(body) && Array.isArray(body.points))
    return body.points.map((point, index) => parseJsonPoint(point, index, now));
  return [parseJsonPoint(body, 0, now)];
}

export type Precision = 'ns' | 'us' | 'ms' | 's';
const DIVISORS: Record<Precision, bigint> = { ns: 1_000_000n, us: 1_000n, ms: 1n, s: 1n };

/**
 * InfluxDB line protocol: `measurement[,tag=value…] field=value[,field=value…] [timestamp]`, one point per line,
 * `#` comments and blank lines skipped. Field values are floats or integers (`12i`, `12u`); strings and booleans are
 * rejected because every field is a numeric series here. Timestamps are in `precision` (InfluxDB's default: ns).
 */
export function parseLineProtocol(text: string, precision: Precision, now: number): Point[] {
  const points: Point[] = [];
  const lines = text.split('\n');
  for (let lineIndex = 0; lineIndex < lines.length; lineIndex++) {
    const line = lines[lineIndex].replace(/\r$/, '');
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    points.push(parseLine(trimmed, points.length, lineIndex + 1, precision, now));
  }
  return points;
}

/** Splits at unescaped `separator` characters outside double quotes; keeps escapes for the caller to remove. */
function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let isQuoted = false;
  for (let position = 0; position < text.length; position++) {
    const character = text[position];
    if (character === '\\' && position + 1 < text.length) {
      current += character + text[++position];
      continue;
    }
    if (character === '"') isQuoted = !isQuoted;
    if (character === separator && !isQuoted) {
      parts.push(current);
      current = '';
      continue;
    }
    current += character;
  }
  parts.push(current);
  return parts;
}

const unescape = (text: string) => text.replace(/\\([,= \\"])/g, '$1');

function parseLine(line: string, index: number, lineNumber: number, precision: Precision, now: number): Point {
  const sections = splitUnescaped(line, ' ').filter((section) => section !== '');
  if (sections.length < 2 || sections.length > 3)
    throw new PointError(index, 'expected "measurement[,tags] fields [timestamp]"', lineNumber);
  const [series, fieldText, timestampText] = sections;
  const [measurementText, ...tagTexts] = splitUnescaped(series, ',');
  const measurement = checkName('measurement', unescape(measurementText), index, lineNumber);
  const tags: [string, string][] = tagTexts.map((tagText) => {
    const pair = splitUnescaped(tagText, '=');
    if (pair.length !== 2) throw new PointError(index, `tag ${JSON.stringify(tagText)} is not key=value`, lineNumber);
    return [
      checkName('tag key', unescape(pair[0]), index, lineNumber),
      checkName('tag value', unescape(pair[1]), index, lineNumber),
    ];
  });
  tags.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (let position = 1; position < tags.length; position++)
    if (tags[position][0] === tags[position - 1][0])
      throw new PointError(index, `tag ${tags[position][0]} appears twice`, lineNumber);
  const fields: [string, number][] = splitUnescaped(fieldText, ',').map((fieldPart) => {
    const pair = splitUnescaped(fieldPart, '=');
    if (pair.length !== 2)
      throw new PointError(index, `field ${JSON.stringify(fieldPart)} is not key=value`, lineNumber);
    const name = checkName('field name', unescape(pair[0]), index, lineNumber);
    return [name, parseFieldValue(name, pair[1], index, lineNumber)];
  });
  const timestamp = timestampText === undefined ? now : parseTimestamp(timestampText, precision, index, lineNumber);
  return { measurement, tags, fields, timestamp };
}

function parseFieldValue(name: string, text: string, index: number, line: number): number {
  const integer = /^(-?\d+)[iu]$/.exec(text);
  const value = integer
    ? Number(integer[1])
    : /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)
      ? Number(text)
      : NaN;
  if (!Number.isFinite(value))
    throw new PointError(index, `field ${JSON.stringify(name)} value ${text} is not a finite number`, line);
  return value;
}

function parseTimestamp(text: string, precision: Precision, index: number, line: number): number {
  if (!/^-?\d+$/.test(text)) throw new PointError(index, `timestamp ${text} is not an integer`, line);
  const raw = BigInt(text);
  const milliseconds = precision === 's' ? raw * 1000n : raw / DIVISORS[precision];
  const timestamp = Number(milliseconds);
  return checkTimestamp(timestamp, index, line);
}
