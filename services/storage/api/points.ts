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
export function parseLineProtocol(
  text: string,
  precision: Precision,
  now: number,
  sections: SeriesSections = new SeriesSections(),
): Point[] {
  if (!text.includes('\\') && !text.includes('"')) return parsePlainLines(text, precision, now, sections);
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
  /** The `measurement,tags` text this was parsed from. */
  text: string;
  measurement: string;
  tags: [string, string][];
  /** The section on the line after this one, last time this one was read: bodies repeat their series order. */
  next: SeriesSection | undefined;
}

/**
 * A string with its own characters: a slice may be a view that keeps the whole request body alive, which a cache
 * entry (and the head's series labels, made from its names) must not. Latin-1 text is copied as Latin-1 so the copy
 * stays a one-byte string, which compares fast against the one-byte bodies; UTF-16 round-trips any other string.
 */
function copyString(text: string): string {
  let encoding: 'latin1' | 'utf16le' = 'latin1';
  for (let position = 0; position < text.length; position++) if (text.charCodeAt(position) > 0xff) encoding = 'utf16le';
  return Buffer.from(text, encoding).toString(encoding);
}

/** Sections kept at most; past this the cache starts over, so a churn of series cannot grow it without bound. */
const MAX_CACHED_SECTIONS = 65_536;

/**
 * Parsed series sections (`measurement,tags` text → measurement and validated, sorted tags), kept across bodies by
 * the caller (one per service): a section is parsed once, and its tags array is shared by every point of the series,
 * which the head looks series up by. Holds only what the text alone decides, so any body may use it.
 */
export class SeriesSections {
  private readonly byText = new Map<string, SeriesSection>();

  /** The section whose text is text[start, end), parsed (and kept) when new. */
  get(text: string, start: number, end: number, index: number, lineNumber: number): SeriesSection {
    const key = text.slice(start, end);
    let section = this.byText.get(key);
    if (section === undefined) {
      const own = copyString(key);
      const { measurement, tags } = parsePlainSeries(own, index, lineNumber);
      section = { text: own, measurement, tags, next: undefined };
      if (this.byText.size >= MAX_CACHED_SECTIONS) this.byText.clear();
      this.byText.set(section.text, section);
    }
    return section;
  }
}

/**
 * The hot path for bodies without escapes or quotes (nearly all of them): lines read in place (`readPlainPoint`), and
 * each series section (`measurement,tags`) parsed once (`SeriesSections`), its tags array then shared by the points.
 * Accepts and rejects exactly what the general parser does on such text.
 */
function parsePlainLines(text: string, precision: Precision, now: number, sections: SeriesSections): Point[] {
  const points: Point[] = [];
  const state: PlainState = { sections, previous: undefined, fieldName: '', fieldsByValue: new Map(), precision, now };
  let lineNumber = 0;
  for (let start = 0; start <= text.length;) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lineNumber++;
    const lineStart = start;
    start = end + 1;
    if (lineStart === end) continue;
    const point =
      isPlainPrintable(text.charCodeAt(lineStart)) && isPlainPrintable(text.charCodeAt(end - 1))
        ? (readPlainPoint(text, lineStart, end, points.length, lineNumber, state) ??
          parsePlainLine(text.slice(lineStart, end), points.length, lineNumber, state))
        : parsePlainLine(text.slice(lineStart, end).trim(), points.length, lineNumber, state);
    if (point !== undefined) points.push(point);
  }
  return points;
}

/** What the lines of one body share: the parsed series sections, the last field name (usually every line's). */
interface PlainState {
  sections: SeriesSections;
  /** The previous line's section. */
  previous: SeriesSection | undefined;
  fieldName: string;
  /**
   * One fields array per value of `fieldName`, shared by the points with that value (gauges repeat a few hundred
   * values): points are read-only once parsed. Zero is not kept, since a Map does not tell 0 from -0.
   */
  fieldsByValue: Map<number, [string, number][]>;
  precision: Precision;
  now: number;
}

/** Printable ASCII other than space: a line that starts and ends with one needs no trimming. */
const isPlainPrintable = (code: number) => code > 32 && code < 127;

/**
 * One trimmed line, or undefined for a blank line or comment: the general plain-text reading, used for any line that
 * `readPlainPoint` leaves to it.
 */
function parsePlainLine(line: string, index: number, lineNumber: number, state: PlainState): Point | undefined {
  if (line === '' || line.charCodeAt(0) === 35 /* # */) return undefined;
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
  const section = seriesSection(state, line, 0, seriesEnd, index, lineNumber);
  const fields = parsePlainFields(line.slice(fieldStart, fieldEnd), index, lineNumber);
  const timestamp =
    timestampStart >= line.length
      ? state.now
      : parseTimestamp(line.slice(timestampStart), state.precision, index, lineNumber);
  return { measurement: section.measurement, tags: section.tags, fields, timestamp };
}

/**
 * The section of text[start, end): first the one that followed the previous line's section last time (a comparison,
 * no hashing), else a lookup.
 */
function seriesSection(
  state: PlainState,
  text: string,
  start: number,
  end: number,
  index: number,
  lineNumber: number,
): SeriesSection {
  const previous = state.previous;
  const predicted = previous?.next;
  let section: SeriesSection;
  // A slice compared with === is cheaper than startsWith at an offset (V8 compares the flat characters at once).
  if (predicted !== undefined && predicted.text.length === end - start && text.slice(start, end) === predicted.text)
    section = predicted;
  else {
    section = state.sections.get(text, start, end, index, lineNumber);
    if (previous !== undefined) previous.next = section;
  }
  state.previous = section;
  return section;
}

const CODE_SPACE = 32;
const CODE_COMMA = 44;
const CODE_EQUALS = 61;
const CODE_HASH = 35;

/**
 * The common line read in place, without slicing it up: `series field=number [timestamp]` with one field, a plain
 * decimal and a timestamp of few enough digits to convert exactly. Undefined for anything else (comments, several
 * fields, exponents, integer suffixes, errors), which `parsePlainLine` then reads.
 */
function readPlainPoint(
  text: string,
  start: number,
  end: number,
  index: number,
  lineNumber: number,
  state: PlainState,
): Point | undefined {
  if (text.charCodeAt(start) === CODE_HASH) return undefined;
  const seriesEnd = text.indexOf(' ', start);
  if (seriesEnd < 0 || seriesEnd >= end) return undefined;
  let fieldStart = seriesEnd + 1;
  while (text.charCodeAt(fieldStart) === CODE_SPACE) fieldStart++;
  let equals = -1;
  let fieldEnd = fieldStart;
  for (; fieldEnd < end; fieldEnd++) {
    const code = text.charCodeAt(fieldEnd);
    if (code === CODE_SPACE) break;
    if (code === CODE_COMMA || (code === CODE_EQUALS && equals >= 0)) return undefined;
    if (code === CODE_EQUALS) equals = fieldEnd;
  }
  if (equals <= fieldStart) return undefined;
  const value = readPlainDecimal(text, equals + 1, fieldEnd);
  if (value === undefined) return undefined;
  let timestampStart = fieldEnd;
  while (text.charCodeAt(timestampStart) === CODE_SPACE && timestampStart < end) timestampStart++;
  let timestamp = state.now;
  if (timestampStart < end) {
    const read = readPlainTimestamp(text, timestampStart, end, state.precision);
    if (read === undefined) return undefined;
    timestamp = read;
  }
  const section = seriesSection(state, text, start, seriesEnd, index, lineNumber);
  const nameLength = equals - fieldStart;
  let name = state.fieldName;
  if (nameLength !== name.length || text.slice(fieldStart, equals) !== name) {
    name = checkName('field name', text.slice(fieldStart, equals), index, lineNumber);
    state.fieldName = name;
    state.fieldsByValue.clear();
  }
  let fields = state.fieldsByValue.get(value);
  if (fields === undefined) {
    fields = [[name, value]];
    if (value !== 0) state.fieldsByValue.set(value, fields);
  }
  return { measurement: section.measurement, tags: section.tags, fields, timestamp };
}

const CODE_ZERO = 48;
const CODE_DOT = 46;
const CODE_MINUS = 45;
const CODE_PLUS = 43;
/** Up to 15 decimal digits every integer is exact in a float64 (10^15 < 2^53). */
const MAX_EXACT_DIGITS = 15;
const EXACT_POWERS_OF_TEN = Float64Array.from({ length: MAX_EXACT_DIGITS + 1 }, (_, exponent) => 10 ** exponent);

/**
 * `[-+]digits[.digits]` or `[-+].digits` with at most 15 digits, as Number() reads it: the digits form an exact
 * integer and a power of ten up to 10^15 is exact, so one division is correctly rounded (Clinger's fast path).
 * Undefined for any other text.
 */
export function readPlainDecimal(text: string, start: number, end: number): number | undefined {
  let position = start;
  const sign = text.charCodeAt(position);
  const isNegative = sign === CODE_MINUS;
  if (isNegative || sign === CODE_PLUS) position++;
  let mantissa = 0;
  let digits = 0;
  let fractionDigits = 0;
  let isFraction = false;
  for (; position < end; position++) {
    const digit = text.charCodeAt(position) - CODE_ZERO;
    if (digit >= 0 && digit <= 9) {
      mantissa = mantissa * 10 + digit;
      digits++;
      if (isFraction) fractionDigits++;
    } else if (digit === CODE_DOT - CODE_ZERO && !isFraction) {
      isFraction = true;
    } else {
      return undefined;
    }
  }
  if (digits === 0 || digits > MAX_EXACT_DIGITS) return undefined;
  const magnitude = mantissa / EXACT_POWERS_OF_TEN[fractionDigits];
  return isNegative ? -magnitude : magnitude;
}

/**
 * `[-]digits` in `precision`, converted as parseTimestamp does when the kept digits are few enough to be exact:
 * undefined otherwise (parseTimestamp then decides).
 */
function readPlainTimestamp(text: string, start: number, end: number, precision: Precision): number | undefined {
  const isNegative = text.charCodeAt(start) === CODE_MINUS;
  const first = isNegative ? start + 1 : start;
  const digits = end - first;
  const extra = EXTRA_DIGITS[precision];
  const kept = digits - extra;
  if (digits === 0 || kept > (precision === 's' ? MAX_EXACT_DIGITS - 3 : MAX_EXACT_DIGITS)) return undefined;
  let magnitude = 0;
  for (let position = first; position < end; position++) {
    const digit = text.charCodeAt(position) - CODE_ZERO;
    if (digit < 0 || digit > 9) return undefined;
    if (position - first < kept) magnitude = magnitude * 10 + digit;
  }
  if (precision === 's') magnitude *= 1000;
  return isNegative && magnitude !== 0 ? -magnitude : magnitude;
}

function parsePlainSeries(
  text: string,
  index: number,
  lineNumber: number,
): { measurement: string; tags: [string, string][] } {
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
