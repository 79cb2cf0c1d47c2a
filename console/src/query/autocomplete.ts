import { isKeyword, tokenize, TokenKind, unquote, type Token } from './tokens';

/** What the editor should offer at the cursor, and which text a chosen suggestion replaces. */
export type CompletionContext =
  | { kind: 'keyword'; prefix: string; from: number }
  | { kind: 'function'; prefix: string; from: number }
  | { kind: 'measurement'; prefix: string; from: number }
  | { kind: 'field'; prefix: string; from: number }
  | { kind: 'tagKey'; prefix: string; from: number; measurement: string | undefined; allowsTime: boolean }
  | {
      kind: 'tagValue';
      prefix: string;
      from: number;
      measurement: string | undefined;
      key: string;
      /** False when the cursor is already inside the opening quote. */
      needsOpeningQuote: boolean;
    }
  | { kind: 'none' };

export const FUNCTIONS = [
  'avg',
  'mean',
  'sum',
  'min',
  'max',
  'count',
  'first',
  'last',
  'median',
  'p50',
  'p90',
  'p95',
  'p99',
  'stddev',
  'spread',
  'rate',
  'percentile',
  'derivative',
];
export const STATEMENT_KEYWORDS = ['SELECT', 'SHOW MEASUREMENTS', 'SHOW TAG KEYS', 'SHOW TAG VALUES', 'EXPLAIN'];

const CLAUSE_KEYWORDS = ['SELECT', 'FROM', 'WHERE', 'GROUP', 'ORDER', 'LIMIT', 'OFFSET', 'SLIMIT', 'SOFFSET', 'WITH'];
const COMPARISONS = ['=', '!=', '<>'];

export function completionContext(text: string, cursor: number): CompletionContext {
  const tokens = tokenize(text.slice(0, cursor));
  const all = tokenize(text);
  const measurement = measurementOf(all);
  let last = tokens[tokens.length - 1];
  const touchesCursor = last !== undefined && last.end === cursor;
  if (touchesCursor && last.kind === TokenKind.String && !last.isClosed) {
    const key = tagKeyBefore(tokens, tokens.length - 1);
    return key === undefined
      ? { kind: 'none' }
      : { kind: 'tagValue', prefix: unquote(last), from: last.start + 1, measurement, key, needsOpeningQuote: false };
  }
  let prefix = '';
  let from = cursor;
  let before = tokens;
  if (touchesCursor && last.kind === TokenKind.Word) {
    prefix = last.text;
    from = last.start;
    before = tokens.slice(0, -1);
    last = before[before.length - 1];
  } else if (touchesCursor && last.kind !== TokenKind.Punctuation && last.kind !== TokenKind.Operator) {
    return { kind: 'none' };
  }
  if (before.length === 0) return { kind: 'keyword', prefix, from };
  const clause = currentClause(before);
  if (isKeyword(last, 'FROM')) return { kind: 'measurement', prefix, from };
  if (last.kind === TokenKind.Operator && COMPARISONS.includes(last.text)) {
    const key = tagKeyBefore(before, before.length);
    if (key !== undefined && clause !== 'SELECT')
      return { kind: 'tagValue', prefix, from, measurement, key, needsOpeningQuote: true };
  }
  switch (clause) {
    case 'SELECT':
      if (last.text === '(') {
        const hasFrom = all.some((token) => isKeyword(token, 'FROM'));
        return hasFrom ? { kind: 'field', prefix, from } : { kind: 'measurement', prefix, from };
      }
      if (isKeyword(last, 'SELECT') || last.text === ',' || last.kind === TokenKind.Operator)
        return { kind: 'function', prefix, from };
      return { kind: 'none' };
    case 'WHERE':
      if (isKeyword(last, 'WHERE', 'AND', 'OR') || last.text === '(')
        return { kind: 'tagKey', prefix, from, measurement, allowsTime: true };
      return { kind: 'none' };
    case 'GROUP':
      if (isKeyword(last, 'BY') || last.text === ',')
        return { kind: 'tagKey', prefix, from, measurement, allowsTime: true };
      return { kind: 'none' };
    case 'WITH':
      if (last.text === '=') return { kind: 'tagKey', prefix, from, measurement, allowsTime: false };
      return { kind: 'none' };
    default:
      return { kind: 'none' };
  }
}

function currentClause(tokens: readonly Token[]): string | undefined {
  for (let index = tokens.length - 1; index >= 0; index--) {
    const token = tokens[index];
    if (token.kind === TokenKind.Word && CLAUSE_KEYWORDS.includes(token.text.toUpperCase()))
      return token.text.toUpperCase();
  }
  return undefined;
}

/** The tag key of `key = ` just before `end` (the comparison operator is at `end - 1`), unless it is `time`. */
function tagKeyBefore(tokens: readonly Token[], end: number): string | undefined {
  const operator = tokens[end - 1];
  const key = tokens[end - 2];
  if (!operator || operator.kind !== TokenKind.Operator || !COMPARISONS.includes(operator.text)) return undefined;
  if (!key) return undefined;
  if (key.kind === TokenKind.QuotedIdentifier) return unquote(key);
  if (key.kind !== TokenKind.Word || key.text.toLowerCase() === 'time' || isKeyword(key, 'KEY')) return undefined;
  return key.text;
}

/** The measurement the query reads: `FROM m`, or else the first call's argument (`avg(cpu_usage)`). */
export function measurementOf(tokens: readonly Token[]): string | undefined {
  const fromIndex = tokens.findIndex((token) => isKeyword(token, 'FROM'));
  const afterFrom = fromIndex === -1 ? undefined : tokens[fromIndex + 1];
  if (afterFrom && (afterFrom.kind === TokenKind.Word || afterFrom.kind === TokenKind.QuotedIdentifier))
    return unquote(afterFrom);
  for (let index = 0; index + 2 < tokens.length; index++) {
    const [name, open, argument] = [tokens[index], tokens[index + 1], tokens[index + 2]];
    if (name.kind === TokenKind.Word && open.text === '(' && FUNCTIONS.includes(name.text.toLowerCase())) {
      if (argument.kind === TokenKind.Word || argument.kind === TokenKind.QuotedIdentifier) return unquote(argument);
    }
  }
  return undefined;
}

/** Suggestions that start with the prefix (case-insensitively), then those that merely contain it. */
export function rankSuggestions(candidates: readonly string[], prefix: string, limit = 50): string[] {
  const lower = prefix.toLowerCase();
  const starts = candidates.filter((candidate) => candidate.toLowerCase().startsWith(lower));
  const contains = candidates.filter(
    (candidate) => !candidate.toLowerCase().startsWith(lower) && candidate.toLowerCase().includes(lower),
  );
  return [...starts, ...contains].slice(0, limit);
}

/** The edited text and cursor after choosing `suggestion` in `context`. */
export function applySuggestion(
  text: string,
  cursor: number,
  context: Exclude<CompletionContext, { kind: 'none' }>,
  suggestion: string,
): { text: string; cursor: number } {
  let insert = suggestion;
  let end = cursor;
  if (context.kind === 'tagValue') {
    const escaped = suggestion.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
    const hasClosingQuote = !context.needsOpeningQuote && text[cursor] === "'";
    insert = `${context.needsOpeningQuote ? "'" : ''}${escaped}'`;
    if (hasClosingQuote) end = cursor + 1;
  } else {
    while (end < text.length && /[A-Za-z0-9_.]/.test(text[end])) end++;
    if (context.kind === 'function') insert = `${suggestion}(`;
  }
  return { text: text.slice(0, context.from) + insert + text.slice(end), cursor: context.from + insert.length };
}
