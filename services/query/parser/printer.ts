import type { Condition, Expression, Fill, SelectStatement, Statement, TimeExpression } from './ast';
import { DURATION_UNITS } from './scanner';

/** Prints a statement in the InfluxQL-like canonical form; `parse(print(ast))` equals `ast`. */
export function print(statement: Statement): string {
  switch (statement.kind) {
    case 'select':
      return printSelect(statement);
    case 'explain':
      return `EXPLAIN ${printSelect(statement.statement)}`;
    case 'show-measurements':
      return 'SHOW MEASUREMENTS';
    case 'show-tag-keys':
      return statement.measurement === undefined
        ? 'SHOW TAG KEYS'
        : `SHOW TAG KEYS FROM ${printIdentifier(statement.measurement)}`;
    case 'show-tag-values': {
      const from = statement.measurement === undefined ? '' : ` FROM ${printIdentifier(statement.measurement)}`;
      return `SHOW TAG VALUES${from} WITH KEY = ${printIdentifier(statement.key)}`;
    }
    default: {
      const exhaustive: never = statement;
      return exhaustive;
    }
  }
}

function printSelect(statement: SelectStatement): string {
  const fields = statement.fields.map(
    (field) =>
      printExpression(field.expression) + (field.alias === undefined ? '' : ` AS ${printIdentifier(field.alias)}`),
  );
  const parts = [`SELECT ${fields.join(', ')}`];
  if (statement.measurement !== undefined) parts.push(`FROM ${printIdentifier(statement.measurement)}`);
  if (statement.condition) parts.push(`WHERE ${printCondition(statement.condition)}`);
  const { time, tags } = statement.groupBy;
  const dimensions = [
    ...(time
      ? [`time(${printDuration(time.interval)}${time.offset === 0 ? '' : `, ${printDuration(time.offset)}`})`]
      : []),
    ...(tags === '*' ? ['*'] : tags.map(printIdentifier)),
  ];
  if (dimensions.length > 0) parts.push(`GROUP BY ${dimensions.join(', ')}`);
  if (statement.fill) parts.push(printFill(statement.fill));
  if (statement.order === 'desc') parts.push('ORDER BY time DESC');
  if (statement.limit !== undefined) parts.push(`LIMIT ${statement.limit}`);
  if (statement.offset !== undefined) parts.push(`OFFSET ${statement.offset}`);
  if (statement.slimit !== undefined) parts.push(`SLIMIT ${statement.slimit}`);
  if (statement.soffset !== undefined) parts.push(`SOFFSET ${statement.soffset}`);
  return parts.join(' ');
}

const PRECEDENCE = { '+': 1, '-': 1, '*': 2, '/': 2 } as const;

const precedenceOf = (expression: Expression) => (expression.kind === 'binary' ? PRECEDENCE[expression.operator] : 3);

function printExpression(expression: Expression): string {
  switch (expression.kind) {
    case 'call': {
      const field = printIdentifier(expression.field);
      if (expression.name === 'percentile') return `percentile(${field}, ${printNumber(expression.argument)})`;
      if (expression.name === 'derivative' && expression.argument !== undefined)
        return `derivative(${field}, ${printDuration(expression.argument)})`;
      return `${expression.name}(${field})`;
    }
    case 'number':
      return printNumber(expression.value);
    case 'negate': {
      const operand = printExpression(expression.operand);
      return expression.operand.kind === 'call' ? `-${operand}` : `-(${operand})`;
    }
    case 'binary': {
      const precedence = PRECEDENCE[expression.operator];
      // Left-associative: the right operand needs parentheses at equal precedence, the left one only below it.
      const left = wrapIf(printExpression(expression.left), precedenceOf(expression.left) < precedence);
      const right = wrapIf(printExpression(expression.right), precedenceOf(expression.right) <= precedence);
      return `${left} ${expression.operator} ${right}`;
    }
    default: {
      const exhaustive: never = expression;
      return exhaustive;
    }
  }
}

const wrapIf = (text: string, isNeeded: boolean) => (isNeeded ? `(${text})` : text);

const conditionPrecedence = (condition: Condition) => (condition.kind === 'or' ? 1 : condition.kind === 'and' ? 2 : 3);

export function printCondition(condition: Condition): string {
  switch (condition.kind) {
    case 'and':
    case 'or': {
      const precedence = conditionPrecedence(condition);
      const left = wrapIf(printCondition(condition.left), conditionPrecedence(condition.left) < precedence);
      const right = wrapIf(printCondition(condition.right), conditionPrecedence(condition.right) <= precedence);
      return `${left} ${condition.kind.toUpperCase()} ${right}`;
    }
    case 'tag':
      return `${printIdentifier(condition.key)} ${condition.operator} ${printString(condition.value)}`;
    case 'regex':
      return `${printIdentifier(condition.key)} ${condition.operator} /${escapeRegex(condition.pattern)}/`;
    case 'time':
      return `time ${condition.operator} ${printTime(condition.value)}`;
    default: {
      const exhaustive: never = condition;
      return exhaustive;
    }
  }
}

function printTime(value: TimeExpression): string {
  const base =
    value.base.kind === 'now'
      ? 'now()'
      : value.base.kind === 'epoch'
        ? String(value.base.milliseconds)
        : printString(new Date(value.base.milliseconds).toISOString());
  return [
    base,
    ...value.offsets.map(
      (offset) => `${offset < 0 || Object.is(offset, -0) ? '-' : '+'} ${printDuration(Math.abs(offset))}`,
    ),
  ].join(' ');
}

function printFill(fill: Fill): string {
  return `fill(${fill.kind === 'value' ? printNumber(fill.value) : fill.kind})`;
}

const UNITS_LARGEST_FIRST = Object.entries(DURATION_UNITS).sort((a, b) => b[1] - a[1]);

/** The largest unit that divides the duration exactly: 90 minutes prints as `90m`, 36 hours as `36h`. */
export function printDuration(milliseconds: number): string {
  for (const [unit, size] of UNITS_LARGEST_FIRST) {
    if (milliseconds !== 0 && milliseconds % size === 0) return `${milliseconds / size}${unit}`;
  }
  return `${milliseconds}ms`;
}

const printNumber = (value: number) => (Object.is(value, -0) ? '-0' : String(value));

const RESERVED = new Set([
  'select',
  'from',
  'where',
  'group',
  'by',
  'fill',
  'order',
  'limit',
  'offset',
  'slimit',
  'soffset',
  'and',
  'or',
  'as',
  'asc',
  'desc',
  'explain',
  'show',
  'with',
  'key',
  'measurements',
  'tag',
  'keys',
  'values',
  'time',
  'now',
]);

function printIdentifier(name: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name) && !RESERVED.has(name.toLowerCase())) return name;
  return `"${name.replace(/[\\"]/g, (char) => '\\' + char)}"`;
}

const printString = (value: string) => `'${value.replace(/[\\']/g, (char) => '\\' + char)}'`;

/** A slash ends the literal, so it is written `\/`; other escapes (`\d`, `\.`) are kept as they are. */
function escapeRegex(pattern: string): string {
  let escaped = '';
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index];
    if (char === '\\' && index + 1 < pattern.length) {
      escaped += char + pattern[++index];
    } else escaped += char === '/' ? '\\/' : char;
  }
  return escaped;
}
