import { ErrorCode, RuleError } from '../errors';

/**
 * A rule's condition: an aggregate compared with a number. Two forms are accepted (API.md, "Conditions"):
 *
 * - shorthand: `avg(cpu_usage{host="a", dc!="x", pod=~"web-.*"}) by (host) > 80`, `p99(latency_ms) >= 250`,
 *   `percentile(latency_ms, 95) > 100`. Tag filters use the PromQL matcher syntax inside the call's braces.
 * - a full query: `SELECT avg(cpu_usage) WHERE host='a' GROUP BY host > 80`, sent to the query engine as written
 *   (plus `time > now() - <window>` when it has no time condition of its own).
 *
 * Either way the result is the query-language text the query engine evaluates and the comparison applied to each
 * returned row. Pure: the query engine validates the translated query separately.
 */
export type Comparator = '>' | '>=' | '<' | '<=' | '==' | '!=';

export interface Condition {
  /** The query-language text sent to the query engine. */
  query: string;
  comparator: Comparator;
  threshold: number;
  /** Tag keys one alert instance per group is kept for (empty: a single instance). */
  groupBy: string[];
}

type MatcherOperator = '=' | '!=' | '=~' | '!~';
interface Matcher {
  key: string;
  operator: MatcherOperator;
  value: string;
}

export function compare(value: number, comparator: Comparator, threshold: number): boolean {
  switch (comparator) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '==':
      return value === threshold;
    case '!=':
      return value !== threshold;
    default: {
      const exhaustive: never = comparator;
      return exhaustive;
    }
  }
}

const parseError = (message: string, position: number) =>
  new RuleError(ErrorCode.ParseError, `${message} at ${position}`, { position });

/** `60000` → `1m`, `90000` → `90s`: the largest unit that divides the duration exactly. */
export function formatDuration(milliseconds: number): string {
  const units: [string, number][] = [
    ['w', 604_800_000],
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ];
  for (const [unit, size] of units)
    if (milliseconds >= size && milliseconds % size === 0) return `${milliseconds / size}${unit}`;
  return `${milliseconds}ms`;
}

const TRAILING_COMPARISON = /(>=|<=|==|!=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$/;

export function parseCondition(text: string, windowMs: number): Condition {
  const leading = text.length - text.trimStart().length;
  if (/^select\b/i.test(text.trimStart())) return parseSelectCondition(text, windowMs);
  return new ShorthandParser(text, windowMs, leading).parse();
}

function parseSelectCondition(text: string, windowMs: number): Condition {
  const match = TRAILING_COMPARISON.exec(text);
  if (!match) throw parseError('expected the SELECT to end with a comparison such as > 80', text.trimEnd().length);
  const selectText = text.slice(0, match.index).trim();
  const words = scanWords(selectText);
  const hasTime = words.some((word, index) => word.lower === 'time' && index > 0 && isInWhere(words, index));
  const groupIndex = words.findIndex((word, index) => word.lower === 'group' && words[index + 1]?.lower === 'by');
  const groupBy =
    groupIndex < 0
      ? []
      : words
          .slice(groupIndex + 2)
          .filter((word) => !/^(fill|order|limit|offset|slimit|soffset|time)$/.test(word.lower))
          .map((word) => word.text);
  const timeCondition = `time > now() - ${formatDuration(windowMs)}`;
  let query = selectText;
  if (!hasTime) {
    const where = words.find((word) => word.lower === 'where');
    const clauseEnd = words.find((word) => CLAUSE_KEYWORDS.has(word.lower));
    if (where) {
      const end = clauseEnd ? clauseEnd.start : selectText.length;
      const conditions = selectText.slice(where.start + 5, end).trim();
      query = `${selectText.slice(0, where.start)}WHERE (${conditions}) AND ${timeCondition}${clauseEnd ? ' ' + selectText.slice(clauseEnd.start) : ''}`;
    } else {
      const end = clauseEnd ? clauseEnd.start : selectText.length;
      query = `${selectText.slice(0, end).trimEnd()} WHERE ${timeCondition}${clauseEnd ? ' ' + selectText.slice(clauseEnd.start) : ''}`;
    }
  }
  return { query, comparator: match[1] as Comparator, threshold: Number(match[2]), groupBy };
}

const CLAUSE_KEYWORDS = new Set(['group', 'fill', 'order', 'limit', 'offset', 'slimit', 'soffset']);

interface Word {
  text: string;
  lower: string;
  start: number;
}

/** The bare words of a query, skipping quoted strings, quoted identifiers and /regex/ literals. */
function scanWords(text: string): Word[] {
  const words: Word[] = [];
  let index = 0;
  let previousOperator = '';
  while (index < text.length) {
    const char = text[index];
    if (char === "'" || char === '"' || (char === '/' && (previousOperator === '=~' || previousOperator === '!~'))) {
      index = skipQuoted(text, index, char);
      previousOperator = '';
      continue;
    }
    if (/[A-Za-z_]/.test(char)) {
      const start = index;
      while (index < text.length && /[A-Za-z0-9_.]/.test(text[index])) index++;
      const word = text.slice(start, index);
      words.push({ text: word, lower: word.toLowerCase(), start });
      previousOperator = '';
      continue;
    }
    if (text.startsWith('=~', index) || text.startsWith('!~', index)) {
      previousOperator = text.slice(index, index + 2);
      index += 2;
      continue;
    }
    if (!/\s/.test(char)) previousOperator = '';
    index++;
  }
  return words;
}

function skipQuoted(text: string, start: number, quote: string): number {
  let index = start + 1;
  while (index < text.length && text[index] !== quote) index += text[index] === '\\' ? 2 : 1;
  return index + 1;
}

function isInWhere(words: Word[], index: number): boolean {
  const where = words.findIndex((word) => word.lower === 'where');
  const clauseEnd = words.findIndex((word) => CLAUSE_KEYWORDS.has(word.lower));
  return where >= 0 && index > where && (clauseEnd < 0 || index < clauseEnd);
}

const PERCENTILE_SHORTHAND = /^p(\d{1,2}(?:\.\d+)?)$/;

/** A hand-written scanner over the shorthand form, so each problem carries the position where it is. */
class ShorthandParser {
  private position: number;

  constructor(
    private readonly text: string,
    private readonly windowMs: number,
    start: number,
  ) {
    this.position = start;
  }

  parse(): Condition {
    const functionStart = this.position;
    const functionName = this.identifier('an aggregate function such as avg');
    this.expect('(');
    const measurement = this.identifier('a measurement name');
    const matchers = this.peek() === '{' ? this.matchers() : [];
    let argument: number | undefined;
    if (this.accept(',')) argument = this.number('a percentile between 0 and 100');
    this.expect(')');
    const name = functionName.toLowerCase();
    if (name === 'percentile' && argument === undefined)
      throw parseError('percentile needs a second argument such as percentile(x, 95)', this.position - 1);
    if (name !== 'percentile' && argument !== undefined && !PERCENTILE_SHORTHAND.test(name))
      throw parseError(`${functionName} takes one argument`, functionStart);
    const groupBy = this.groupBy();
    const comparator = this.comparator();
    const threshold = this.number('a number to compare with');
    this.skipSpace();
    if (this.position < this.text.length) throw parseError('expected end of condition', this.position);
    const call =
      argument === undefined ? `${name}(${quoteName(measurement)})` : `${name}(${quoteName(measurement)}, ${argument})`;
    const filters = [...matchers.map(printMatcher), `time > now() - ${formatDuration(this.windowMs)}`];
    const grouping = groupBy.length > 0 ? ` GROUP BY ${groupBy.map(quoteName).join(', ')}` : '';
    return {
      query: `SELECT ${call} AS value WHERE ${filters.join(' AND ')}${grouping}`,
      comparator,
      threshold,
      groupBy,
    };
  }

  private matchers(): Matcher[] {
    this.expect('{');
    const matchers: Matcher[] = [];
    if (this.accept('}')) return matchers;
    do {
      const key = this.identifier('a tag key');
      this.skipSpace();
      const operator = (['=~', '!~', '!=', '='] as const).find((candidate) =>
        this.text.startsWith(candidate, this.position),
      );
      if (!operator) throw parseError("expected '=', '!=', '=~' or '!~' after the tag key", this.position);
      this.position += operator.length;
      const valueStart = this.skipSpace();
      const value = this.quoted();
      if (operator === '=~' || operator === '!~') {
        try {
          new RegExp(value);
        } catch (error) {
          throw parseError(`invalid regular expression (${(error as Error).message})`, valueStart);
        }
      }
      matchers.push({ key, operator, value });
    } while (this.accept(','));
    this.expect('}');
    return matchers;
  }

  private groupBy(): string[] {
    const before = this.skipSpace();
    if (!/^by\b/i.test(this.text.slice(this.position))) return [];
    this.position += 2;
    this.expect('(');
    const keys = [this.identifier('a tag key')];
    while (this.accept(',')) keys.push(this.identifier('a tag key'));
    this.expect(')');
    if (keys.length === 0) throw parseError('expected a tag key', before);
    return keys;
  }

  private comparator(): Comparator {
    this.skipSpace();
    const found = (['>=', '<=', '==', '!=', '>', '<'] as const).find((candidate) =>
      this.text.startsWith(candidate, this.position),
    );
    if (!found) throw parseError("expected a comparison '>', '>=', '<', '<=', '==' or '!='", this.position);
    this.position += found.length;
    return found;
  }

  private number(what: string): number {
    const start = this.skipSpace();
    const match = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/.exec(this.text.slice(start));
    if (!match) throw parseError(`expected ${what}`, start);
    this.position += match[0].length;
    return Number(match[0]);
  }

  private identifier(what: string): string {
    const start = this.skipSpace();
    const match = /^[A-Za-z_][A-Za-z0-9_.:]*/.exec(this.text.slice(start));
    if (!match) throw parseError(`expected ${what}`, start);
    this.position += match[0].length;
    return match[0];
  }

  private quoted(): string {
    const start = this.position;
    const quote = this.text[start];
    if (quote !== '"' && quote !== "'") throw parseError('expected a quoted tag value', start);
    let value = '';
    let index = start + 1;
    for (;;) {
      const char = this.text[index];
      if (char === undefined) throw parseError('unterminated tag value', start);
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
    return value;
  }

  private peek(): string | undefined {
    this.skipSpace();
    return this.text[this.position];
  }

  private accept(token: string): boolean {
    this.skipSpace();
    if (!this.text.startsWith(token, this.position)) return false;
    this.position += token.length;
    return true;
  }

  private expect(token: string): void {
    if (!this.accept(token)) throw parseError(`expected '${token}'`, this.position);
  }

  private skipSpace(): number {
    while (this.position < this.text.length && /\s/.test(this.text[this.position])) this.position++;
    return this.position;
  }
}

/** Names with characters the query language's bare identifiers lack (such as `:`) are double-quoted. */
const quoteName = (name: string) =>
  /^[A-Za-z_][A-Za-z0-9_.]*$/.test(name) ? name : `"${name.replace(/["\\]/g, '\\$&')}"`;

function printMatcher(matcher: Matcher): string {
  switch (matcher.operator) {
    case '=':
    case '!=':
      return `${quoteName(matcher.key)} ${matcher.operator} '${matcher.value.replace(/['\\]/g, '\\$&')}'`;
    case '=~':
    case '!~':
      return `${quoteName(matcher.key)} ${matcher.operator} /${matcher.value.replace(/\//g, '\\/')}/`;
    default: {
      const exhaustive: never = matcher.operator;
      return exhaustive;
    }
  }
}
