import { isKeyword, tokenize, TokenKind, type Token } from './tokens';

export const RELATIVE_RANGES = ['15m', '1h', '6h', '24h'] as const;
export type RelativeRange = (typeof RELATIVE_RANGES)[number];

export type TimeRange = { kind: 'relative'; last: RelativeRange } | { kind: 'absolute'; from: number; to: number };

/** Text inserted into the query the user wrote, at an offset of that text. */
export interface Insertion {
  at: number;
  text: string;
}

export interface RangedQuery {
  /** The query sent to the query service. */
  text: string;
  insertions: Insertion[];
  /** False when the query already bounds time itself (its own range wins) or is not a SELECT. */
  isRangeApplied: boolean;
}

const CLAUSES_AFTER_WHERE = ['GROUP', 'ORDER', 'LIMIT', 'OFFSET', 'SLIMIT', 'SOFFSET'];

export function rangeCondition(range: TimeRange): string {
  switch (range.kind) {
    case 'relative':
      return `time > now() - ${range.last}`;
    case 'absolute':
      return `time >= ${Math.floor(range.from)} AND time <= ${Math.floor(range.to)}`;
    default:
      return assertNever(range);
  }
}

/**
 * Adds the picked range to a SELECT: `WHERE c GROUP BY ...` becomes `WHERE (c) AND <range> GROUP BY ...`, and a
 * query without WHERE gets one. The insertions are kept so error positions can be mapped back to the editor.
 */
export function applyRange(query: string, range: TimeRange): RangedQuery {
  const unchanged: RangedQuery = { text: query, insertions: [], isRangeApplied: false };
  const tokens = tokenize(query);
  const selectIndex = isKeyword(tokens[0], 'EXPLAIN') ? 1 : 0;
  if (!isKeyword(tokens[selectIndex], 'SELECT')) return unchanged;
  const whereIndex = tokens.findIndex((token) => isKeyword(token, 'WHERE'));
  const clauseEndIndex = tokens.findIndex(
    (token, index) => index > Math.max(whereIndex, selectIndex) && endsCondition(token),
  );
  const conditionEnd = clauseEndIndex === -1 ? trimmedEnd(query) : tokens[clauseEndIndex].start;
  const condition = rangeCondition(range);
  if (whereIndex === -1) {
    const text = needsSpaceBefore(query, conditionEnd) ? ` WHERE ${condition}` : `WHERE ${condition}`;
    const needsSpaceAfter = conditionEnd < query.length && !/\s/.test(query[conditionEnd]);
    const insertion = { at: conditionEnd, text: needsSpaceAfter ? `${text} ` : text };
    return { text: insert(query, [insertion]), insertions: [insertion], isRangeApplied: true };
  }
  const conditionTokens = tokens.slice(whereIndex + 1, clauseEndIndex === -1 ? tokens.length : clauseEndIndex);
  if (conditionTokens.some((token, index) => isTimeBound(token, conditionTokens[index + 1]))) return unchanged;
  if (conditionTokens.length === 0) return unchanged;
  const conditionStart = conditionTokens[0].start;
  const lastConditionEnd = conditionTokens[conditionTokens.length - 1].end;
  const insertions = [
    { at: conditionStart, text: '(' },
    { at: lastConditionEnd, text: `) AND ${condition}` },
  ];
  return { text: insert(query, insertions), insertions, isRangeApplied: true };
}

const endsCondition = (token: Token) =>
  (token.kind === TokenKind.Word && CLAUSES_AFTER_WHERE.includes(token.text.toUpperCase())) || token.text === ';';

const isTimeBound = (token: Token, next: Token | undefined) =>
  token.kind === TokenKind.Word &&
  token.text.toLowerCase() === 'time' &&
  next?.kind === TokenKind.Operator &&
  ['=', '<', '<=', '>', '>='].includes(next.text);

const trimmedEnd = (text: string) => text.replace(/\s+$/, '').length;
const needsSpaceBefore = (text: string, at: number) => at > 0 && !/\s/.test(text[at - 1]);

function insert(text: string, insertions: readonly Insertion[]): string {
  let result = '';
  let previous = 0;
  for (const insertion of insertions) {
    result += text.slice(previous, insertion.at) + insertion.text;
    previous = insertion.at;
  }
  return result + text.slice(previous);
}

/**
 * Maps an offset in the sent query back to the text the user wrote. An offset inside inserted text maps to where
 * the insertion was made; the result is clamped to the original text.
 */
export function mapPositionToEditor(position: number, insertions: readonly Insertion[], editorLength: number): number {
  let shift = 0;
  for (const insertion of insertions) {
    const sentStart = insertion.at + shift;
    if (position < sentStart) break;
    if (position < sentStart + insertion.text.length) return Math.min(insertion.at, editorLength);
    shift += insertion.text.length;
  }
  return Math.max(0, Math.min(position - shift, editorLength));
}

/** 1-based line and column of an offset, for messages ("line 2, column 7"). */
export function lineAndColumn(text: string, position: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(position, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: lines[lines.length - 1].length + 1 };
}

export function rangeBounds(range: TimeRange, now: number): { from: number; to: number } {
  switch (range.kind) {
    case 'relative':
      return { from: now - durationMs(range.last), to: now };
    case 'absolute':
      return { from: range.from, to: range.to };
    default:
      return assertNever(range);
  }
}

const durationMs = (last: RelativeRange) => {
  const amount = Number.parseInt(last, 10);
  return last.endsWith('h') ? amount * 3_600_000 : amount * 60_000;
};

export function assertNever(value: never): never {
  throw new Error(`unexpected value ${JSON.stringify(value)}`);
}
