import { ErrorCode, ParseError } from '../errors';

export const TokenKind = {
  Identifier: 'identifier',
  QuotedIdentifier: 'quoted identifier',
  String: 'string',
  Number: 'number',
  Duration: 'duration',
  Regex: 'regex',
  LeftParen: '(',
  RightParen: ')',
  Comma: ',',
  Semicolon: ';',
  Star: '*',
  Plus: '+',
  Minus: '-',
  Slash: '/',
  Equal: '=',
  NotEqual: '!=',
  Less: '<',
  LessEqual: '<=',
  Greater: '>',
  GreaterEqual: '>=',
  Match: '=~',
  NotMatch: '!~',
  End: 'end of query',
} as const;
export type TokenKind = (typeof TokenKind)[keyof typeof TokenKind];

export interface Token {
  kind: TokenKind;
  /** The source text of the token. */
  text: string;
  /** Decoded content: the unquoted string, identifier or regex source. */
  value: string;
  /** Numbers and durations (milliseconds). */
  number: number;
  start: number;
  end: number;
}

export const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const OPERATORS: readonly [string, TokenKind][] = [
  ['!=', TokenKind.NotEqual],
  ['<>', TokenKind.NotEqual],
  ['!~', TokenKind.NotMatch],
  ['=~', TokenKind.Match],
  ['<=', TokenKind.LessEqual],
  ['>=', TokenKind.GreaterEqual],
  ['(', TokenKind.LeftParen],
  [')', TokenKind.RightParen],
  [',', TokenKind.Comma],
  [';', TokenKind.Semicolon],
  ['*', TokenKind.Star],
  ['+', TokenKind.Plus],
  ['-', TokenKind.Minus],
  ['/', TokenKind.Slash],
  ['=', TokenKind.Equal],
  ['<', TokenKind.Less],
  ['>', TokenKind.Greater],
];

const isDigit = (char: string) => char >= '0' && char <= '9';
const isIdentifierStart = (char: string) => /[A-Za-z_]/.test(char);
const isIdentifierPart = (char: string) => /[A-Za-z0-9_.]/.test(char);

/** Reads one token at a time from the query text; the parser asks for a regex where one may appear. */
export class Scanner {
  private position = 0;

  constructor(private readonly text: string) {}

  scan(): Token {
    this.skipWhitespace();
    const start = this.position;
    if (start >= this.text.length) return this.token(TokenKind.End, start, '', 0);
    const char = this.text[start];
    if (isDigit(char) || (char === '.' && isDigit(this.text[start + 1] ?? ''))) return this.scanNumber(start);
    if (isIdentifierStart(char)) {
      while (this.position < this.text.length && isIdentifierPart(this.text[this.position])) this.position++;
      return this.token(TokenKind.Identifier, start, this.text.slice(start, this.position), 0);
    }
    if (char === "'") return this.scanQuoted(start, "'", TokenKind.String);
    if (char === '"') return this.scanQuoted(start, '"', TokenKind.QuotedIdentifier);
    for (const [operator, kind] of OPERATORS) {
      if (this.text.startsWith(operator, start)) {
        this.position += operator.length;
        return this.token(kind, start, operator, 0);
      }
    }
    throw new ParseError(ErrorCode.ParseError, `unexpected character '${char}' at ${start}`, start);
  }

  /** Re-reads from `start` as a `/regex/` literal (after `=~` or `!~`). `\/` stands for a slash in the pattern. */
  scanRegex(from: number): Token {
    this.position = from;
    this.skipWhitespace();
    const start = this.position;
    if (this.text[start] !== '/')
      throw new ParseError(
        ErrorCode.ParseError,
        `expected a regular expression /.../ at ${start}, found ${this.describeAt(start)}`,
        start,
      );
    let pattern = '';
    let index = start + 1;
    for (;;) {
      const char = this.text[index];
      if (char === undefined)
        throw new ParseError(ErrorCode.ParseError, `unterminated regular expression starting at ${start}`, start);
      if (char === '/') break;
      if (char === '\\' && index + 1 < this.text.length) {
        const next = this.text[index + 1];
        pattern += next === '/' ? '/' : char + next;
        index += 2;
        continue;
      }
      pattern += char;
      index++;
    }
    try {
      new RegExp(pattern);
    } catch (error) {
      throw new ParseError(
        ErrorCode.ParseError,
        `invalid regular expression at ${start}: ${(error as Error).message}`,
        start,
      );
    }
    this.position = index + 1;
    return this.token(TokenKind.Regex, start, pattern, 0);
  }

  private describeAt(position: number): string {
    this.position = position;
    const token = this.scan();
    return token.kind === TokenKind.End ? 'end of query' : `'${token.text}'`;
  }

  private skipWhitespace(): void {
    while (this.position < this.text.length && /\s/.test(this.text[this.position])) this.position++;
  }

  private scanNumber(start: number): Token {
    const number = /^(\d*\.?\d+|\d+\.)([eE][+-]?\d+)?/.exec(this.text.slice(start))!;
    this.position = start + number[0].length;
    const unitStart = this.position;
    while (this.position < this.text.length && /[A-Za-z0-9_]/.test(this.text[this.position])) this.position++;
    if (this.position === unitStart) return this.token(TokenKind.Number, start, number[0], Number(number[0]));
    return this.scanDuration(start);
  }

  /** `5m`, `1h30m`, `250ms`: whole numbers, each followed by a unit. */
  private scanDuration(start: number): Token {
    const text = this.text.slice(start, this.position);
    const part = /(\d+)(ms|s|m|h|d|w)/y;
    let total = 0;
    let consumed = 0;
    for (let match = part.exec(text); match; match = part.exec(text)) {
      total += Number(match[1]) * DURATION_UNITS[match[2]];
      consumed = part.lastIndex;
    }
    if (consumed !== text.length || !Number.isSafeInteger(total))
      throw new ParseError(
        ErrorCode.InvalidDuration,
        `invalid duration '${text}' at ${start}: expected whole numbers with units ms, s, m, h, d or w (e.g. 5m, 1h30m)`,
        start,
      );
    return this.token(TokenKind.Duration, start, text, total);
  }

  private scanQuoted(start: number, quote: string, kind: TokenKind): Token {
    let value = '';
    let index = start + 1;
    for (;;) {
      const char = this.text[index];
      if (char === undefined) {
        const what = kind === TokenKind.String ? 'string' : 'quoted identifier';
        throw new ParseError(ErrorCode.ParseError, `unterminated ${what} starting at ${start}`, start);
      }
      if (char === quote) break;
      if (char === '\\' && index + 1 < this.text.length) {
        value += this.text[index + 1];
        index += 2;
        continue;
      }
      value += char;
      index++;
    }
    this.position = index + 1;
    return { kind, text: this.text.slice(start, this.position), value, number: 0, start, end: this.position };
  }

  private token(kind: TokenKind, start: number, value: string, number: number): Token {
    return { kind, text: this.text.slice(start, this.position), value, number, start, end: this.position };
  }
}
