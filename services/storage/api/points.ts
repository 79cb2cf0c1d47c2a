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

/**
 * One point as JSON: `{"measurement", "tags", "fields", "timestamp"}`; `timestamp` absent means `now`. `seenTags`
 * (one per batch) maps a tags object's text to its validated, sorted array, so the points of one series share it.
 */
export function parseJsonPoint(
  input: unknown,
  index: number,
  now: number,
  seenTags?: Map<string, [string, string][]>,
): Point {
  if (!isRecord(input)) throw new PointError(index, 'a point must be an object');
  const measurement = checkName('measurement', input.measurement, index);
  let tags: [string, string][] = [];
  if (input.tags !== undefined) {
    if (!isRecord(input.tags)) throw new PointError(index, 'tags must be an object of strings');
    const text = seenTags === undefined ? undefined : tagsText(input.tags);
    const seen = text === undefined ? undefined : seenTags?.get(text);
    if (seen !== undefined) tags = seen;
    else {
      for (const [key, value] of Object.entries(input.tags))
        tags.push([checkName('tag key', key, index), checkName(`tag ${JSON.stringify(key)}`, value, index)]);
      tags.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      if (text !== undefined) seenTags?.set(text, tags);
    }
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

/**
 * The text of a tags object with only string values (undefined otherwise), in its own key order. Length-prefixed, so
 * two different objects never share a text, whatever characters their (not yet validated) names hold.
 */
function tagsText(tags: Record<string, unknown>): string | undefined {
  let text = '';
  for (const key in tags) {
    const value = tags[key];
    if (typeof value !== 'string') return undefined;
    text += `${key.length}:${key}${value.length}:${value}`;
  }
  return text;
}

/** A JSON body: one point, an array of points, or `{"points": [...]}`. */
export function parseJsonPoints(body: unknown, now: number): Point[] {
  const seenTags = new Map<string, [string, string][]>();
  if (Array.isArray(body)) return body.map((point, index) => parseJsonPoint(point, index, now, seenTags));
  if (isRecord(body) && Array.isArray(body.points))
    return body.points.map((point, index) => parseJsonPoint(point, index, now, seenTags));
  return [parseJsonPoint(body, 0, now)];
}

export type Precision = 'ns' | 'us' | 'ms' | 's';

/**
 * InfluxDB line protocol: `measurement[,tag=value…] field=value[,field=value…] [timestamp]`, one point per line,
 * `#` comments and blank lines skipped. Field values are floats or integers (`12i`, `12u`); strings and booleans are
 * rejected because every field is a numeric series here. Timestamps are in `precision` (InfluxDB's default: ns).
 */
export function parseLineProtocol(text: string, precision: Precision, now: number): Point[] {
  if (!text.includes('\\') && !text.includes('"')) return parsePlainLines(text, precision, now);
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

interface SeriesSection {
  measurement: string;
  tags: [string, string][];
}

/**
 * The hot path for bodies without escapes or quotes (nearly all of them): plain `indexOf` scanning, and the series
 * section (`measurement,tags`) parsed once per distinct text in the batch, its tags array then shared by the points.
 * Accepts and rejects exactly what the general parser does on such text.
 */
function parsePlainLines(text: string, precision: Precision, now: number): Point[] {
  const points: Point[] = [];
  const sections = new Map<string, SeriesSection>();
  let lineNumber = 0;
  for (let start = 0; start <= text.length;) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end).trim();
    start = end + 1;
    lineNumber++;
    if (line === '' || line.charCodeAt(0) === 35 /* # */) continue;
    const index = points.length;
    const seriesEnd = line.indexOf(' ');
    if (seriesEnd < 0) throw new PointError(index, 'expected "measurement[,tags] fields [timestamp]"', lineNumber);
    let fieldStart = seriesEnd + 1;
    while (line.charCodeAt(fieldStart) === 32) fieldStart++;
    let fieldEnd = line.indexOf(' ', fieldStart);
    if (fieldEnd < 0) fieldEnd = line.length;
    let timestampStart = fieldEnd;
    while (line.charCodeAt(timestampStart) === 32) timestampStart++;
    if (line.indexOf(' ', timestampStart) >= 0)
      throw new PointError(index, 'expected "measurement[,tags] fields [timestamp]"', lineNumber);
    const seriesText = line.slice(0, seriesEnd);
    let section = sections.get(seriesText);
    if (section === undefined) {
      section = parsePlainSeries(seriesText, index, lineNumber);
      sections.set(seriesText, section);
    }
    const fields = parsePlainFields(line.slice(fieldStart, fieldEnd), index, lineNumber);
    const timestamp =
      timestampStart >= line.length ? now : parseTimestamp(line.slice(timestampStart), precision, index, lineNumber);
    points.push({ measurement: section.measurement, tags: section.tags, fields, timestamp });
  }
  return points;
}

function parsePlainSeries(text: string, index: number, lineNumber: number): SeriesSection {
  const parts = text.split(',');
  const measurement = checkName('measurement', parts[0], index, lineNumber);
  const tags: [string, string][] = [];
  for (let part = 1; part < parts.length; part++) {
    const pair = parts[part].split('=');
    if (pair.length !== 2)
      throw new PointError(index, `tag ${JSON.stringify(parts[part])} is not key=value`, lineNumber);
    tags.push([checkName('tag key', pair[0], index, lineNumber), checkName('tag value', pair[1], index, lineNumber)]);
  }
  checkTags(tags, index, lineNumber);
  return { measurement, tags };
}

function parsePlainFields(text: string, index: number, lineNumber: number): [string, number][] {
  const equals = text.indexOf('=');
  if (equals > 0 && !text.includes(',') && text.indexOf('=', equals + 1) < 0) {
    const name = checkName('field name', text.slice(0, equals), index, lineNumber);
    return [[name, parseFieldValue(name, text.slice(equals + 1), index, lineNumber)]];
  }
  const fields: [string, number][] = [];
  for (const part of text.split(',')) {
    const pair = part.split('=');
    if (pair.length !== 2) throw new PointError(index, `field ${JSON.stringify(part)} is not key=value`, lineNumber);
    const name = checkName('field name', pair[0], index, lineNumber);
    fields.push([name, parseFieldValue(name, pair[1], index, lineNumber)]);
  }
  return fields;
}

/** Sorts tags by key and rejects a key given twice. */
function checkTags(tags: [string, string][], index: number, lineNumber: number): void {
  tags.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (let position = 1; position < tags.length; position++)
    if (tags[position][0] === tags[position - 1][0])
      throw new PointError(index, `tag ${tags[position][0]} appears twice`, lineNumber);
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
  checkTags(tags, index, lineNumber);
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

/** Decimal digits a precision's timestamps have beyond milliseconds. */
const EXTRA_DIGITS: Record<Precision, number> = { ns: 6, us: 3, ms: 0, s: 0 };

function parseTimestamp(text: string, precision: Precision, index: number, line: number): number {
  if (!/^-?\d+$/.test(text)) throw new PointError(index, `timestamp ${text} is not an integer`, line);
  // Integer division truncates toward zero, i.e. drops the extra digits; a digit string within the safe range
  // converts exactly, and anything beyond it fails the safe-integer check either way, so BigInt is only for seconds.
  if (precision !== 's') {
    const isNegative = text.charCodeAt(0) === 45;
    const digits = isNegative ? text.slice(1) : text;
    const kept =
      digits.length > EXTRA_DIGITS[precision] ? digits.slice(0, digits.length - EXTRA_DIGITS[precision]) : '0';
    const magnitude = Number(kept);
    return checkTimestamp(isNegative && magnitude !== 0 ? -magnitude : magnitude, index, line);
  }
  const raw = BigInt(text);
  const timestamp = Number(raw * 1000n);
  return checkTimestamp(timestamp, index, line);
}
