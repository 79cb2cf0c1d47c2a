import { ErrorCode, QueryError } from '../errors';
import type { Call, Condition, Expression, SelectStatement, Statement, TimeExpression } from '../parser/ast';
import { print, printDuration } from '../parser/printer';
import type {
  Column,
  ColumnExpression,
  Matcher,
  PartialName,
  Plan,
  SelectPlan,
  Slot,
  SlotFunction,
  SourcePlan,
} from './plan';

export interface PlannerOptions {
  /** The query's now(), injected. */
  now: number;
  /** Range used when the query gives no lower time bound. */
  defaultRangeMs: number;
  /** Largest number of windows (and raw points) one query may touch. */
  maxPoints: number;
  /** Quantiles are exact (raw points) up to this many points in range, sketched above. */
  exactPointsLimit: number;
}

export function planStatement(statement: Statement, options: PlannerOptions): Plan {
  switch (statement.kind) {
    case 'select':
      return planSelect(statement, options);
    case 'explain':
      return { kind: 'explain', plan: planSelect(statement.statement, options) };
    case 'show-measurements':
    case 'show-tag-keys':
    case 'show-tag-values':
      return statement;
    default: {
      const exhaustive: never = statement;
      return exhaustive;
    }
  }
}

export function planSelect(statement: SelectStatement, options: PlannerOptions): SelectPlan {
  const split = splitCondition(statement.condition);
  const range = resolveRange(split.times, options);
  const window = statement.groupBy.time;
  if (window) {
    const firstWindow = alignWindow(range.start, window.interval, window.offset);
    const windows = Math.ceil((range.end - firstWindow) / window.interval);
    if (windows > options.maxPoints)
      throw new QueryError(
        ErrorCode.TooManyPoints,
        `GROUP BY time(${printDuration(window.interval)}) over this range makes ${windows} windows; the limit is ${options.maxPoints}`,
        { windows, limit: options.maxPoints },
      );
  }
  const sources: SourcePlan[] = [];
  const slots: Slot[] = [];
  const slotIndexes = new Map<string, number>();
  const toColumn = (expression: Expression): ColumnExpression => {
    switch (expression.kind) {
      case 'call': {
        const sourceIndex = findSource(sources, statement, expression);
        const slotFunction = functionOf(expression);
        const key = `${sourceIndex}:${JSON.stringify(slotFunction)}`;
        let slot = slotIndexes.get(key);
        if (slot === undefined) {
          slot = slots.push({ source: sourceIndex, function: slotFunction }) - 1;
          slotIndexes.set(key, slot);
          requirePartials(sources[sourceIndex], slotFunction);
        }
        return { kind: 'slot', slot };
      }
      case 'number':
        return expression;
      case 'negate':
        return { kind: 'negate', operand: toColumn(expression.operand) };
      case 'binary':
        return {
          kind: 'binary',
          operator: expression.operator,
          left: toColumn(expression.left),
          right: toColumn(expression.right),
        };
      default: {
        const exhaustive: never = expression;
        return exhaustive;
      }
    }
  };
  const columns: Column[] = [];
  const taken = new Set<string>();
  for (const field of statement.fields) {
    const expression = toColumn(field.expression);
    const base = field.alias ?? defaultName(field.expression);
    let name = base;
    for (let suffix = 1; taken.has(name); suffix++) name = `${base}_${suffix}`;
    taken.add(name);
    columns.push({ name, expression });
  }
  return {
    kind: 'select',
    normalized: print(statement),
    start: range.start,
    end: range.end,
    isRelative: range.isRelative,
    ...(window ? { window: { interval: window.interval, offset: window.offset } } : {}),
    groupTags: statement.groupBy.tags,
    matchers: split.matchers,
    ...(split.residual ? { residual: split.residual } : {}),
    sources,
    slots,
    columns,
    fill: statement.fill ?? { kind: 'null' },
    order: statement.order,
    limit: statement.limit,
    offset: statement.offset,
    slimit: statement.slimit,
    soffset: statement.soffset,
    exactPointsLimit: options.exactPointsLimit,
  };
}

/** The start of the window holding `time`: windows begin at `offset + k * interval`. */
export const alignWindow = (time: number, interval: number, offset: number) =>
  Math.floor((time - offset) / interval) * interval + offset;

function findSource(sources: SourcePlan[], statement: SelectStatement, call: Call): number {
  // Without FROM the argument names the measurement (the design document's form) and the field is `value`.
  const measurement = statement.measurement ?? call.field;
  const field = statement.measurement === undefined ? 'value' : call.field;
  const index = sources.findIndex((source) => source.measurement === measurement && source.field === field);
  if (index >= 0) return index;
  // count is always fetched: it tells an empty window from a window whose first/last/min/max happen to be missing.
  return sources.push({ measurement, field, strategy: 'aggregate', partials: ['count'] }) - 1;
}

function functionOf(call: Call): SlotFunction {
  switch (call.name) {
    case 'avg':
    case 'mean':
      return { kind: 'mean' };
    case 'sum':
    case 'count':
    case 'min':
    case 'max':
    case 'first':
    case 'last':
    case 'stddev':
    case 'spread':
    case 'median':
      return { kind: call.name };
    case 'percentile':
      return { kind: 'percentile', percentile: call.argument };
    case 'p50':
    case 'p90':
    case 'p95':
    case 'p99':
      return { kind: 'percentile', percentile: Number(call.name.slice(1)) };
    case 'rate':
      return { kind: 'rate', unit: 1000 };
    case 'derivative':
      return { kind: 'rate', unit: call.argument ?? 1000 };
    default: {
      const exhaustive: never = call;
      return exhaustive;
    }
  }
}

const PARTIALS: Record<SlotFunction['kind'], PartialName[]> = {
  mean: ['sum', 'count'],
  sum: ['sum'],
  count: ['count'],
  min: ['min'],
  max: ['max'],
  first: ['first'],
  last: ['last'],
  stddev: ['sum', 'sumsq', 'count'],
  spread: ['min', 'max'],
  median: ['count', 'sketch'],
  percentile: ['count', 'sketch'],
  rate: [],
};

function requirePartials(source: SourcePlan, slotFunction: SlotFunction): void {
  for (const partial of PARTIALS[slotFunction.kind])
    if (!source.partials.includes(partial)) source.partials.push(partial);
  if (slotFunction.kind === 'rate') source.strategy = 'raw';
  else if ((slotFunction.kind === 'median' || slotFunction.kind === 'percentile') && source.strategy === 'aggregate')
    source.strategy = 'quantile';
}

/** InfluxDB's naming: a call is named by its function, an expression by its functions joined with `_`. */
function defaultName(expression: Expression): string {
  const names: string[] = [];
  const collect = (node: Expression) => {
    if (node.kind === 'call') names.push(node.name);
    else if (node.kind === 'negate') collect(node.operand);
    else if (node.kind === 'binary') {
      collect(node.left);
      collect(node.right);
    }
  };
  collect(expression);
  return names.join('_');
}

interface SplitCondition {
  times: { operator: '=' | '<' | '<=' | '>' | '>='; value: TimeExpression }[];
  matchers: Matcher[];
  residual?: Condition;
}

/**
 * Splits the top-level AND chain: time bounds set the range, simple tag matchers go to storage, and OR subtrees
 * stay here. A time bound inside OR cannot be a range, so it is refused.
 */
function splitCondition(condition: Condition | undefined): SplitCondition {
  const split: SplitCondition = { times: [], matchers: [] };
  const visit = (node: Condition) => {
    switch (node.kind) {
      case 'and':
        visit(node.left);
        visit(node.right);
        return;
      case 'time':
        split.times.push({ operator: node.operator, value: node.value });
        return;
      case 'tag':
        split.matchers.push({ key: node.key, op: node.operator, value: node.value });
        return;
      case 'regex':
        split.matchers.push({ key: node.key, op: node.operator, value: node.pattern });
        return;
      case 'or':
        if (mentionsTime(node))
          throw new QueryError(
            ErrorCode.UnsupportedCondition,
            'time conditions must be joined to the rest of the WHERE clause with AND, not OR',
          );
        split.residual = split.residual ? { kind: 'and', left: split.residual, right: node } : node;
        return;
      default: {
        const exhaustive: never = node;
        return exhaustive;
      }
    }
  };
  if (condition) visit(condition);
  return split;
}

const mentionsTime = (node: Condition): boolean =>
  node.kind === 'time' ||
  ((node.kind === 'and' || node.kind === 'or') && (mentionsTime(node.left) || mentionsTime(node.right)));

function evaluateTime(value: TimeExpression, now: number): number {
  const base = value.base.kind === 'now' ? now : value.base.milliseconds;
  return value.offsets.reduce((sum, offset) => sum + offset, base);
}

function resolveRange(
  times: SplitCondition['times'],
  options: PlannerOptions,
): { start: number; end: number; isRelative: boolean } {
  let start: number | undefined;
  let end: number | undefined;
  const raiseStart = (value: number) => (start = start === undefined ? value : Math.max(start, value));
  const lowerEnd = (value: number) => (end = end === undefined ? value : Math.min(end, value));
  for (const { operator, value } of times) {
    const time = evaluateTime(value, options.now);
    switch (operator) {
      case '>':
        raiseStart(time + 1);
        break;
      case '>=':
        raiseStart(time);
        break;
      case '<':
        lowerEnd(time);
        break;
      case '<=':
        lowerEnd(time + 1);
        break;
      case '=':
        raiseStart(time);
        lowerEnd(time + 1);
        break;
      default: {
        const exhaustive: never = operator;
        return exhaustive;
      }
    }
  }
  const isRelative = times.some(({ value }) => value.base.kind === 'now') || end === undefined || start === undefined;
  const resolvedEnd = end ?? options.now + 1;
  const resolvedStart = start ?? resolvedEnd - options.defaultRangeMs;
  if (resolvedStart >= resolvedEnd)
    throw new QueryError(
      ErrorCode.EmptyTimeRange,
      `the time range is empty: it starts at ${formatTime(resolvedStart)} and ends (exclusive) at ${formatTime(resolvedEnd)}`,
      { start: resolvedStart, end: resolvedEnd },
    );
  return { start: resolvedStart, end: resolvedEnd, isRelative };
}

/** ISO 8601 when the time is representable, epoch milliseconds otherwise. */
export const formatTime = (milliseconds: number) =>
  Math.abs(milliseconds) <= 8.64e15 ? new Date(milliseconds).toISOString() : `${milliseconds} ms`;
