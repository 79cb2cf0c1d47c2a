/**
 * The query language's syntax tree. It holds no positions so that `parse(print(ast))` can equal `ast`; durations and
 * times are kept in milliseconds, names as written (functions lower-cased).
 */

export const AGGREGATE_FUNCTIONS = [
  'avg',
  'mean',
  'sum',
  'min',
  'max',
  'count',
  'first',
  'last',
  'median',
  'percentile',
  'p50',
  'p90',
  'p95',
  'p99',
  'stddev',
  'spread',
  'rate',
  'derivative',
] as const;
export type AggregateFunction = (typeof AGGREGATE_FUNCTIONS)[number];

export const isAggregateFunction = (name: string): name is AggregateFunction =>
  (AGGREGATE_FUNCTIONS as readonly string[]).includes(name);

/**
 * `percentile(x, 95)` carries `argument: 95`; `derivative(x, 1m)` carries the unit in milliseconds (absent = 1 s).
 * `field` is the measurement in the design-document form (no FROM) and the field in the InfluxQL form.
 */
export type Call =
  | { kind: 'call'; name: 'percentile'; field: string; argument: number }
  | { kind: 'call'; name: 'derivative'; field: string; argument?: number }
  | { kind: 'call'; name: Exclude<AggregateFunction, 'percentile' | 'derivative'>; field: string };

export type ArithmeticOperator = '+' | '-' | '*' | '/';

export type Expression =
  | Call
  | { kind: 'number'; value: number }
  | { kind: 'negate'; operand: Expression }
  | { kind: 'binary'; operator: ArithmeticOperator; left: Expression; right: Expression };

export interface Field {
  expression: Expression;
  alias?: string;
}

export type TimeOperator = '=' | '<' | '<=' | '>' | '>=';

/** `now() - 1h` is `{base: {kind: 'now'}, offsets: [-3600000]}`; each offset is one `+ d` or `- d` as written. */
export interface TimeExpression {
  base: { kind: 'now' } | { kind: 'epoch'; milliseconds: number } | { kind: 'timestamp'; milliseconds: number };
  offsets: number[];
}

export type Condition =
  | { kind: 'and' | 'or'; left: Condition; right: Condition }
  | { kind: 'tag'; key: string; operator: '=' | '!='; value: string }
  | { kind: 'regex'; key: string; operator: '=~' | '!~'; pattern: string }
  | { kind: 'time'; operator: TimeOperator; value: TimeExpression };

export type Fill =
  { kind: 'none' } | { kind: 'null' } | { kind: 'previous' } | { kind: 'linear' } | { kind: 'value'; value: number };

export interface GroupBy {
  time?: { interval: number; offset: number };
  /** Tag keys, or `'*'` for every tag. */
  tags: string[] | '*';
}

export interface SelectStatement {
  kind: 'select';
  fields: Field[];
  measurement?: string;
  condition?: Condition;
  groupBy: GroupBy;
  fill?: Fill;
  order: 'asc' | 'desc';
  limit?: number;
  offset?: number;
  slimit?: number;
  soffset?: number;
}

export type Statement =
  | SelectStatement
  | { kind: 'explain'; statement: SelectStatement }
  | { kind: 'show-measurements' }
  | { kind: 'show-tag-keys'; measurement?: string }
  | { kind: 'show-tag-values'; measurement?: string; key: string };
