/**
 * A forgiving tokenizer for the query language (services/query/API.md), used for autocomplete and to place the time
 * range in a query. It never throws: an unterminated string or regex is one token with `isClosed` false.
 */
export const TokenKind = {
  Word: 'word',
  Number: 'number',
  String: 'string',
  QuotedIdentifier: 'quoted',
  Regex: 'regex',
  Operator: 'operator',
  Punctuation: 'punctuation',
} as const;
export type TokenKind = (typeof TokenKind)[keyof typeof TokenKind];

export interface Token {
  kind: TokenKind;
  text: string;
  start: number;
  end: number;
  isClosed: boolean;
}

const WORD_START = /[A-Za-z_]/;
const WORD_PART = /[A-Za-z0-9_.]/;
const DIGIT = /[0-9]/;
const TWO_CHARACTER_OPERATORS = ['=~', '!~', '!=', '<>', '<=', '>='];

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  const push = (kind: TokenKind, start: number, end: number, isClosed = true) =>
    tokens.push({ kind, text: text.slice(start, end), start, end, isClosed });
  while (index < text.length) {
    const character = text[index];
    const start = index;
    if (/\s/.test(character)) {
      index++;
    } else if (WORD_START.test(character)) {
      while (index < text.length && WORD_PART.test(text[index])) index++;
      push(TokenKind.Word, start, index);
    } else if (DIGIT.test(character)) {
      // Durations (5m, 1h30m) and numbers with exponents stay one token.
      while (index < text.length && /[0-9.A-Za-z]/.test(text[index])) index++;
      push(TokenKind.Number, start, index);
    } else if (character === "'" || character === '"') {
      const end = closingIndex(text, index + 1, character);
      index = end === -1 ? text.length : end + 1;
      push(character === "'" ? TokenKind.String : TokenKind.QuotedIdentifier, start, index, end !== -1);
    } else if (character === '/' && isRegexPosition(tokens)) {
      const end = closingIndex(text, index + 1, '/');
      index = end === -1 ? text.length : end + 1;
      push(TokenKind.Regex, start, index, end !== -1);
    } else if (TWO_CHARACTER_OPERATORS.includes(text.slice(index, index + 2))) {
      index += 2;
      push(TokenKind.Operator, start, index);
    } else if ('=<>+-*/'.includes(character)) {
      index++;
      push(TokenKind.Operator, start, index);
    } else {
      index++;
      push(TokenKind.Punctuation, start, index);
    }
  }
  return tokens;
}

function closingIndex(text: string, from: number, quote: string): number {
  for (let index = from; index < text.length; index++) {
    if (text[index] === '\\') index++;
    else if (text[index] === quote) return index;
  }
  return -1;
}

const isRegexPosition = (tokens: readonly Token[]) => {
  const previous = tokens[tokens.length - 1];
  return previous?.kind === TokenKind.Operator && (previous.text === '=~' || previous.text === '!~');
};

export const isKeyword = (token: Token | undefined, ...keywords: string[]) =>
  token?.kind === TokenKind.Word && keywords.includes(token.text.toUpperCase());

/** The text of a string or quoted identifier without its quotes and escapes. */
export function unquote(token: Token): string {
  if (token.kind !== TokenKind.String && token.kind !== TokenKind.QuotedIdentifier) return token.text;
  const inner = token.text.slice(1, token.isClosed ? -1 : undefined);
  return inner.replace(/\\(.)/g, '$1');
}
