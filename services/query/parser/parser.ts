import { ErrorCode, ParseError } from '../errors';
import {
  AGGREGATE_FUNCTIONS,
  isAggregateFunction,
  type Call,
  type Condition,
  type Expression,
  type Field,
  type Fill,
  type GroupBy,
  type SelectStatement,
  type Statement,
  type TimeExpression,
  type TimeOperator,
} from './ast';
import { Scanner, TokenKind, type Token } from './scanner';

/** Parses one statement. Throws only `ParseError`, whose position is a 0-based character offset into `text`. */
export function parse(text: string): Statement {
  return new Parser(text).parseQuery();
}

const TIME_OPERATORS: Partial<Record<TokenKind, TimeOperator>> = {
  [TokenKind.Equal]: '=',
  [TokenKind.Less]: '<',
  [TokenKind.LessEqual]: '<=',
  [TokenKind.Greater]: '>',
  [TokenKind.GreaterEqual]: '>=',
};

/** RFC 3339: date, `T` or space, time with optional fraction, and a zone. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/** Stand-ins for a part that failed to parse (TypeScript's createMissingNode); never returned to a caller. */
const MISSING_FIELD: Field = { expression: { kind: 'number', value: 0 } };
const MISSING_PREDICATE: Condition = { kind: 'tag', key: '', operator: '=', value: '' };

class Parser {
  private readonly scanner: Scanner;
  private current: Token;

  constructor(private readonly text: string) {
    this.scanner = new Scanner(text);
    this.current = this.scanner.scan();
  }

  /** Problems recorded while recovering; the first is thrown at the end, carrying the others. */
  private readonly errors: ParseError[] = [];

  parseQuery(): Statement {
    let statement: Statement | undefined;
    try {
      statement = this.parseStatement();
      this.accept(TokenKind.Semicolon);
      if (this.current.kind !== TokenKind.End) throw this.expected('end of query');
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      this.record(error);
    }
    if (this.errors.length > 0) throw this.errors[0].withOthers(this.errors.slice(1));
    return statement!;
  }

  /** Like TypeScript's parseErrorAtPosition: a second error at the same position adds nothing. */
  private record(error: ParseError): void {
    if (!this.errors.some((recorded) => recorded.position === error.position)) this.errors.push(error);
  }

  /**
   * Records the error and skips to a token where parsing can resume, so one run reports every independent problem.
   * A lexical error while skipping ends the run (the scanner cannot resynchronise inside a bad token).
   */
  private recover<T>(error: unknown, isResumePoint: () => boolean, placeholder: T): T {
    if (!(error instanceof ParseError)) throw error;
    this.record(error);
    while (this.current.kind !== TokenKind.End && !isResumePoint()) this.advance();
    return placeholder;
  }

  private isClauseKeyword(): boolean {
    return ['from', 'where', 'group', 'order', 'limit', 'offset', 'slimit', 'soffset'].some((keyword) =>
      this.isKeyword(keyword),
    );
  }

  private parseFieldRecovering(): Field {
    try {
      return this.parseField();
    } catch (error) {
      return this.recover(error, () => this.current.kind === TokenKind.Comma || this.isClauseKeyword(), MISSING_FIELD);
    }
  }

  private parsePredicateRecovering(): Condition {
    try {
      return this.parsePredicate();
    } catch (error) {
      return this.recover(
        error,
        () =>
          this.isKeyword('and') ||
          this.isKeyword('or') ||
          this.current.kind === TokenKind.RightParen ||
          this.isClauseKeyword(),
        MISSING_PREDICATE,
      );
    }
  }

  private parseStatement(): Statement {
    if (this.acceptKeyword('explain')) return { kind: 'explain', statement: this.parseSelect() };
    if (this.isKeyword('show')) return this.parseShow();
    if (this.isKeyword('select')) return this.parseSelect();
    throw this.expected('SELECT, EXPLAIN or SHOW');
  }

  private parseShow(): Statement {
    this.expectKeyword('show');
    if (this.acceptKeyword('measurements')) return { kind: 'show-measurements' };
    if (!this.acceptKeyword('tag')) throw this.expected('MEASUREMENTS or TAG');
    if (this.acceptKeyword('keys')) {
      const measurement = this.acceptKeyword('from') ? this.parseIdentifier('a measurement') : undefined;
      return measurement === undefined ? { kind: 'show-tag-keys' } : { kind: 'show-tag-keys', measurement };
    }
    if (!this.acceptKeyword('values')) throw this.expected('KEYS or VALUES');
    const measurement = this.acceptKeyword('from') ? this.parseIdentifier('a measurement') : undefined;
    this.expectKeyword('with');
    this.expectKeyword('key');
    this.expect(TokenKind.Equal);
    const key = this.parseIdentifier('a tag key');
    return measurement === undefined ? { kind: 'show-tag-values', key } : { kind: 'show-tag-values', measurement, key };
  }

  private parseSelect(): SelectStatement {
    this.expectKeyword('select');
    const fields = [this.parseFieldRecovering()];
    while (this.accept(TokenKind.Comma)) fields.push(this.parseFieldRecovering());
    const statement: SelectStatement = { kind: 'select', fields, groupBy: { tags: [] }, order: 'asc' };
    if (this.acceptKeyword('from')) statement.measurement = this.parseIdentifier('a measurement');
    if (this.acceptKeyword('where')) statement.condition = this.parseCondition();
    if (this.acceptKeyword('group')) {
      this.expectKeyword('by');
      statement.groupBy = this.parseGroupBy();
      if (this.acceptKeyword('fill')) statement.fill = this.parseFill();
    }
    if (this.acceptKeyword('order')) {
      this.expectKeyword('by');
      this.expectKeyword('time');
      if (this.acceptKeyword('desc')) statement.order = 'desc';
      else this.acceptKeyword('asc');
    }
    if (this.acceptKeyword('limit')) statement.limit = this.parseCount('LIMIT');
    if (this.acceptKeyword('offset')) statement.offset = this.parseCount('OFFSET');
    if (this.acceptKeyword('slimit')) statement.slimit = this.parseCount('SLIMIT');
    if (this.acceptKeyword('soffset')) statement.soffset = this.parseCount('SOFFSET');
    return statement;
  }

  private parseField(): Field {
    const start = this.current.start;
    const expression = this.parseExpression();
    if (!containsCall(expression))
      throw new ParseError(
        ErrorCode.ParseError,
        `expected an aggregate function such as avg(...) in the field at ${start}`,
        start,
      );
    if (this.acceptKeyword('as')) return { expression, alias: this.parseIdentifier('an alias') };
    return { expression };
  }

  private parseExpression(): Expression {
    let left = this.parseTerm();
    for (;;) {
      const operator = this.accept(TokenKind.Plus) ? '+' : this.accept(TokenKind.Minus) ? '-' : undefined;
      if (!operator) return left;
      left = { kind: 'binary', operator, left, right: this.parseTerm() };
    }
  }

  private parseTerm(): Expression {
    let left = this.parseFactor();
    for (;;) {
      const operator = this.accept(TokenKind.Star) ? '*' : this.accept(TokenKind.Slash) ? '/' : undefined;
      if (!operator) return left;
      left = { kind: 'binary', operator, left, right: this.parseFactor() };
    }
  }

  private parseFactor(): Expression {
    const token = this.current;
    if (this.accept(TokenKind.Minus)) {
      const operand = this.parseFactor();
      // `-5` is the number -5, so that printing a negative number and reading it back gives the same tree.
      return operand.kind === 'number' ? { kind: 'number', value: -operand.value } : { kind: 'negate', operand };
    }
    if (this.accept(TokenKind.Number)) return { kind: 'number', value: token.number };
    if (this.accept(TokenKind.LeftParen)) {
      const inner = this.parseExpression();
      this.expect(TokenKind.RightParen);
      return inner;
    }
    if (token.kind === TokenKind.Identifier) return this.parseCall();
    if (token.kind === TokenKind.Duration)
      throw new ParseError(
        ErrorCode.ParseError,
        `unexpected duration '${token.text}' at ${token.start}: durations belong in time conditions and GROUP BY time(...)`,
        token.start,
      );
    throw this.expected('an aggregate function, a number or (');
  }

  private parseCall(): Call {
    const nameToken = this.advance();
    const name = nameToken.value.toLowerCase();
    if (this.current.kind !== TokenKind.LeftParen)
      throw new ParseError(
        ErrorCode.ParseError,
        `expected an aggregate function call such as avg(${nameToken.value}) at ${nameToken.start}, found '${nameToken.text}'`,
        nameToken.start,
      );
    if (!isAggregateFunction(name))
      throw new ParseError(
        ErrorCode.UnknownFunction,
        `unknown function '${nameToken.value}' at ${nameToken.start}; expected one of ${AGGREGATE_FUNCTIONS.join(', ')}`,
        nameToken.start,
      );
    this.expect(TokenKind.LeftParen);
    const field = this.parseIdentifier('a field or measurement name');
    let call: Call;
    if (name === 'percentile') {
      this.expect(TokenKind.Comma);
      const token = this.expect(TokenKind.Number);
      if (!(token.number >= 0 && token.number <= 100))
        throw new ParseError(
          ErrorCode.ParseError,
          `expected a percentile between 0 and 100 at ${token.start}, found ${token.text}`,
          token.start,
        );
      call = { kind: 'call', name, field, argument: token.number };
    } else if (name === 'derivative') {
      call = { kind: 'call', name, field };
      if (this.accept(TokenKind.Comma)) call.argument = this.parsePositiveDuration('the derivative unit');
    } else {
      call = { kind: 'call', name, field };
    }
    this.expect(TokenKind.RightParen);
    return call;
  }

  private parseCondition(): Condition {
    let left = this.parseConjunction();
    while (this.acceptKeyword('or')) left = { kind: 'or', left, right: this.parseConjunction() };
    return left;
  }

  private parseConjunction(): Condition {
    let left = this.parsePredicateRecovering();
    while (this.acceptKeyword('and')) left = { kind: 'and', left, right: this.parsePredicateRecovering() };
    return left;
  }

  private parsePredicate(): Condition {
    if (this.accept(TokenKind.LeftParen)) {
      const inner = this.parseCondition();
      this.expect(TokenKind.RightParen);
      return inner;
    }
    if (this.isKeyword('time')) {
      this.advance();
      const operatorToken = this.current;
      const operator = TIME_OPERATORS[operatorToken.kind];
      if (!operator) throw this.expected("a time comparison '=', '<', '<=', '>' or '>='");
      this.advance();
      return { kind: 'time', operator, value: this.parseTimeExpression() };
    }
    const key = this.parseIdentifier('a tag key, time or (');
    const operatorToken = this.current;
    switch (operatorToken.kind) {
      case TokenKind.Equal:
      case TokenKind.NotEqual: {
        this.advance();
        const value = this.expect(TokenKind.String).value;
        return { kind: 'tag', key, operator: operatorToken.kind, value };
      }
      case TokenKind.Match:
      case TokenKind.NotMatch: {
        const regex = this.scanner.scanRegex(operatorToken.end);
        this.current = this.scanner.scan();
        return { kind: 'regex', key, operator: operatorToken.kind, pattern: regex.value };
      }
      default:
        throw this.expected("'=', '!=', '=~' or '!~' after the tag key");
    }
  }

  private parseTimeExpression(): TimeExpression {
    const token = this.current;
    let base: TimeExpression['base'];
    if (this.isKeyword('now')) {
      this.advance();
      this.expect(TokenKind.LeftParen);
      this.expect(TokenKind.RightParen);
      base = { kind: 'now' };
    } else if (token.kind === TokenKind.String) {
      this.advance();
      const milliseconds = Date.parse(token.value.replace(' ', 'T'));
      if (!RFC3339.test(token.value) || !Number.isFinite(milliseconds))
        throw new ParseError(
          ErrorCode.ParseError,
          `expected an RFC 3339 time such as '2023-10-08T18:00:00Z' at ${token.start}, found ${token.text}`,
          token.start,
        );
      base = { kind: 'timestamp', milliseconds };
    } else if (token.kind === TokenKind.Number && Number.isSafeInteger(token.number)) {
      this.advance();
      base = { kind: 'epoch', milliseconds: token.number };
    } else {
      throw this.expected('now(), an RFC 3339 time string or epoch milliseconds');
    }
    const offsets: number[] = [];
    for (;;) {
      const sign = this.accept(TokenKind.Plus) ? 1 : this.accept(TokenKind.Minus) ? -1 : 0;
      if (sign === 0) return { base, offsets };
      offsets.push(sign * this.expectDuration('a duration'));
    }
  }

  private parseGroupBy(): GroupBy {
    const groupBy: GroupBy = { tags: [] };
    do {
      const token = this.current;
      if (this.isKeyword('time') && this.peekIsCall()) {
        if (groupBy.time)
          throw new ParseError(ErrorCode.ParseError, `GROUP BY has a second time(...) at ${token.start}`, token.start);
        this.advance();
        this.expect(TokenKind.LeftParen);
        const interval = this.parsePositiveDuration('the GROUP BY interval');
        const offset = this.accept(TokenKind.Comma) ? this.expectDuration('an offset duration') : 0;
        this.expect(TokenKind.RightParen);
        groupBy.time = { interval, offset };
      } else if (this.accept(TokenKind.Star)) {
        if (groupBy.tags !== '*' && groupBy.tags.length > 0)
          throw new ParseError(
            ErrorCode.ParseError,
            `GROUP BY * cannot be combined with tag keys (at ${token.start})`,
            token.start,
          );
        groupBy.tags = '*';
      } else {
        const key = this.parseIdentifier('time(...), a tag key or *');
        if (groupBy.tags === '*')
          throw new ParseError(
            ErrorCode.ParseError,
            `GROUP BY * cannot be combined with tag keys (at ${token.start})`,
            token.start,
          );
        groupBy.tags.push(key);
      }
    } while (this.accept(TokenKind.Comma));
    return groupBy;
  }

  private parseFill(): Fill {
    this.expect(TokenKind.LeftParen);
    const token = this.current;
    let fill: Fill;
    if (this.accept(TokenKind.Number)) fill = { kind: 'value', value: token.number };
    else if (this.accept(TokenKind.Minus)) fill = { kind: 'value', value: -this.expect(TokenKind.Number).number };
    else {
      const word = token.kind === TokenKind.Identifier ? token.value.toLowerCase() : '';
      if (word !== 'none' && word !== 'null' && word !== 'previous' && word !== 'linear')
        throw this.expected('none, null, previous, linear or a number');
      this.advance();
      fill = { kind: word };
    }
    this.expect(TokenKind.RightParen);
    return fill;
  }

  private parseCount(clause: string): number {
    const token = this.current;
    if (token.kind !== TokenKind.Number || !Number.isSafeInteger(token.number) || token.number < 0)
      throw this.expected(`a whole number after ${clause}`);
    this.advance();
    return token.number;
  }

  private parsePositiveDuration(what: string): number {
    const token = this.current;
    const duration = this.expectDuration(what);
    if (duration <= 0)
      throw new ParseError(
        ErrorCode.InvalidDuration,
        `${what} must be longer than zero at ${token.start}, found ${token.text}`,
        token.start,
      );
    return duration;
  }

  private expectDuration(what: string): number {
    const token = this.current;
    if (token.kind === TokenKind.Number)
      throw new ParseError(
        ErrorCode.InvalidDuration,
        `expected ${what} with a unit (ms, s, m, h, d or w) at ${token.start}, found ${token.text}`,
        token.start,
      );
    return this.expect(TokenKind.Duration, what).number;
  }

  private parseIdentifier(what: string): string {
    const token = this.current;
    if (token.kind === TokenKind.QuotedIdentifier || token.kind === TokenKind.Identifier) {
      this.advance();
      return token.value;
    }
    throw this.expected(what);
  }

  private peekIsCall(): boolean {
    const after = this.text.slice(this.current.end).trimStart();
    return after.startsWith('(');
  }

  private isKeyword(keyword: string): boolean {
    return this.current.kind === TokenKind.Identifier && this.current.value.toLowerCase() === keyword;
  }

  private acceptKeyword(keyword: string): boolean {
    if (!this.isKeyword(keyword)) return false;
    this.advance();
    return true;
  }

  private expectKeyword(keyword: string): void {
    if (!this.acceptKeyword(keyword)) throw this.expected(keyword.toUpperCase());
  }

  private accept(kind: TokenKind): boolean {
    if (this.current.kind !== kind) return false;
    this.advance();
    return true;
  }

  private expect(kind: TokenKind, what?: string): Token {
    const token = this.current;
    if (token.kind !== kind) throw this.expected(what ?? describeKind(kind));
    this.advance();
    return token;
  }

  private advance(): Token {
    const token = this.current;
    this.current = this.scanner.scan();
    return token;
  }

  private expected(what: string): ParseError {
    const token = this.current;
    const found = token.kind === TokenKind.End ? 'end of query' : `'${token.text}'`;
    return new ParseError(ErrorCode.ParseError, `expected ${what} at ${token.start}, found ${found}`, token.start);
  }
}

function describeKind(kind: TokenKind): string {
  switch (kind) {
    case TokenKind.Identifier:
    case TokenKind.QuotedIdentifier:
    case TokenKind.Number:
    case TokenKind.Duration:
    case TokenKind.Regex:
      return `a ${kind}`;
    case TokenKind.String:
      return "a quoted string 'like this'";
    case TokenKind.End:
      return kind;
    default:
      return `'${kind}'`;
  }
}

function containsCall(expression: Expression): boolean {
  switch (expression.kind) {
    case 'call':
      return true;
    case 'number':
      return false;
    case 'negate':
      return containsCall(expression.operand);
    case 'binary':
      return containsCall(expression.left) || containsCall(expression.right);
    default: {
      const exhaustive: never = expression;
      return exhaustive;
    }
  }
}
