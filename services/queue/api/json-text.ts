/**
 * Checks that bytes are exactly one JSON value (RFC 8259), without building it. A binary produce batch carries each
 * value as JSON text that is stored and later served verbatim inside consume responses, so it must be valid JSON;
 * parsing it into objects only to throw them away would cost as much as the rest of the produce path. Strings must
 * be well-formed UTF-8 (no overlong forms, no surrogates), as a JSON text exchanged between systems must be.
 */
const SPACE = 0x20;
const TAB = 0x09;
const NEWLINE = 0x0a;
const RETURN = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/** Deeper nesting is refused (JSON.parse would overflow its stack somewhere beyond this anyway). */
export const MAX_JSON_DEPTH = 512;

const isDigit = (byte: number) => byte >= DIGIT_0 && byte <= DIGIT_9;
const isHexDigit = (byte: number) => isDigit(byte) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66);

/** Scratch stack of open containers: 1 = object, 2 = array. */
const containers = new Uint8Array(MAX_JSON_DEPTH);

/** Whether `bytes[start, end)` holds exactly one JSON value, optionally surrounded by whitespace. */
export function isJsonText(bytes: Uint8Array, start = 0, end = bytes.length): boolean {
  let position = start;
  let depth = 0;
  for (;;) {
    // A value is expected here.
    while (position < end && isSpace(bytes[position])) position++;
    if (position >= end) return false;
    const byte = bytes[position];
    if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      if (depth === MAX_JSON_DEPTH) return false;
      position++;
      while (position < end && isSpace(bytes[position])) position++;
      if (position >= end) return false;
      if (byte === OPEN_BRACE) {
        if (bytes[position] === CLOSE_BRACE) {
          position++;
        } else {
          containers[depth++] = 1;
          position = skipMemberName(bytes, position, end);
          if (position < 0) return false;
          continue;
        }
      } else if (bytes[position] === CLOSE_BRACKET) {
        position++;
      } else {
        containers[depth++] = 2;
        continue;
      }
    } else if (byte === QUOTE) {
      position = skipString(bytes, position, end);
    } else if (byte === MINUS || isDigit(byte)) {
      position = skipNumber(bytes, position, end);
    } else if (byte === 0x74) {
      position = skipLiteral(bytes, position, end, TRUE);
    } else if (byte === 0x66) {
      position = skipLiteral(bytes, position, end, FALSE);
    } else if (byte === 0x6e) {
      position = skipLiteral(bytes, position, end, NULL);
    } else {
      return false;
    }
    if (position < 0) return false;
    // A value ended: close containers until one continues with a comma, or the text ends.
    for (;;) {
      while (position < end && isSpace(bytes[position])) position++;
      if (depth === 0) return position === end;
      if (position >= end) return false;
      const next = bytes[position++];
      const container = containers[depth - 1];
      if (next === COMMA) {
        if (container === 1) {
          while (position < end && isSpace(bytes[position])) position++;
          position = skipMemberName(bytes, position, end);
          if (position < 0) return false;
        }
        break;
      }
      if ((container === 1 && next !== CLOSE_BRACE) || (container === 2 && next !== CLOSE_BRACKET)) return false;
      depth--;
    }
  }
}

const isSpace = (byte: number) => byte === SPACE || byte === NEWLINE || byte === RETURN || byte === TAB;

/** `"name" :` at `position`; returns the position after the colon, or -1. */
function skipMemberName(bytes: Uint8Array, position: number, end: number): number {
  if (position >= end || bytes[position] !== QUOTE) return -1;
  position = skipString(bytes, position, end);
  if (position < 0) return -1;
  while (position < end && isSpace(bytes[position])) position++;
  if (position >= end || bytes[position] !== COLON) return -1;
  return position + 1;
}

/** A string starting at the quote at `position`; returns the position after its closing quote, or -1. */
function skipString(bytes: Uint8Array, position: number, end: number): number {
  position++;
  while (position < end) {
    const byte = bytes[position++];
    if (byte === QUOTE) return position;
    if (byte < 0x20) return -1;
    if (byte >= 0x80) {
      position = skipUtf8Sequence(bytes, position - 1, end);
      if (position < 0) return -1;
      continue;
    }
    if (byte !== BACKSLASH) continue;
    if (position >= end) return -1;
    const escaped = bytes[position++];
    if (escaped === 0x75) {
      if (position + 4 > end) return -1;
      for (let digit = 0; digit < 4; digit++) if (!isHexDigit(bytes[position++])) return -1;
    } else if (
      escaped !== QUOTE &&
      escaped !== BACKSLASH &&
      escaped !== 0x2f &&
      escaped !== 0x62 &&
      escaped !== 0x66 &&
      escaped !== 0x6e &&
      escaped !== 0x72 &&
      escaped !== 0x74
    ) {
      return -1;
    }
  }
  return -1;
}

const isContinuation = (byte: number) => (byte & 0xc0) === 0x80;

/** One multi-byte UTF-8 character at `position` (its lead byte is >= 0x80); returns the position after it, or -1. */
function skipUtf8Sequence(bytes: Uint8Array, position: number, end: number): number {
  const lead = bytes[position];
  let length: number;
  let low = 0x80;
  let high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) length = 2;
  else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead === 0xe0) low = 0xa0; // overlong
    if (lead === 0xed) high = 0x9f; // UTF-16 surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead === 0xf0) low = 0x90; // overlong
    if (lead === 0xf4) high = 0x8f; // above U+10FFFF
  } else return -1;
  if (position + length > end) return -1;
  const second = bytes[position + 1];
  if (second < low || second > high) return -1;
  for (let offset = 2; offset < length; offset++) if (!isContinuation(bytes[position + offset])) return -1;
  return position + length;
}

/** `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`; returns the position after it, or -1. */
function skipNumber(bytes: Uint8Array, position: number, end: number): number {
  if (bytes[position] === MINUS) position++;
  if (position >= end || !isDigit(bytes[position])) return -1;
  if (bytes[position] === DIGIT_0) position++;
  else while (position < end && isDigit(bytes[position])) position++;
  if (position < end && bytes[position] === DOT) {
    position++;
    if (position >= end || !isDigit(bytes[position])) return -1;
    while (position < end && isDigit(bytes[position])) position++;
  }
  if (position < end && (bytes[position] === 0x65 || bytes[position] === 0x45)) {
    position++;
    if (position < end && (bytes[position] === PLUS || bytes[position] === MINUS)) position++;
    if (position >= end || !isDigit(bytes[position])) return -1;
    while (position < end && isDigit(bytes[position])) position++;
  }
  return position;
}

const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const NULL = Buffer.from('null');

function skipLiteral(bytes: Uint8Array, position: number, end: number, literal: Uint8Array): number {
  if (position + literal.length > end) return -1;
  for (let offset = 0; offset < literal.length; offset++) if (bytes[position + offset] !== literal[offset]) return -1;
  return position + literal.length;
}
