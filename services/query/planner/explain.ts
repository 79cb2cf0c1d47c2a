import { printCondition, printDuration } from '../parser/printer';
import type { ColumnExpression, SelectPlan, SlotFunction } from './plan';
import { formatTime } from './planner';

/** A type alias (not an interface) so rows are assignable to the answer's row records. */
export type ExplainRow = { step: string; detail: string };

/** The plan as rows, for `EXPLAIN SELECT ...`. */
export function explainPlan(plan: SelectPlan, shardCount: number): ExplainRow[] {
  const rows: ExplainRow[] = [
    { step: 'query', detail: plan.normalized },
    {
      step: 'range',
      detail: `${formatTime(plan.start)} (inclusive) to ${formatTime(plan.end)} (exclusive), ${printDuration(plan.end - plan.start)}${plan.isRelative ? ', relative to now()' : ''}`,
    },
    {
      step: 'windows',
      detail: plan.window
        ? `GROUP BY time(${printDuration(plan.window.interval)}${plan.window.offset ? `, ${printDuration(plan.window.offset)}` : ''}), fill(${plan.fill.kind === 'value' ? plan.fill.value : plan.fill.kind}); storage answers from the coarsest rollup tier that divides ${plan.window.interval} ms`
        : 'one window covering the whole range',
    },
    {
      step: 'groups',
      detail:
        plan.groupTags === '*'
          ? 'every tag of each series'
          : plan.groupTags.length
            ? plan.groupTags.join(', ')
            : 'none',
    },
    {
      step: 'filters pushed to storage',
      detail: plan.matchers.length
        ? plan.matchers.map((m) => `${m.key} ${m.op} ${JSON.stringify(m.value)}`).join(' AND ')
        : 'none',
    },
  ];
  if (plan.residual)
    rows.push({
      step: 'filter applied here',
      detail: `${printCondition(plan.residual)} (storage groups by every tag, series are filtered and regrouped here)`,
    });
  plan.sources.forEach((source, index) => {
    const shards = `${shardCount} shard${shardCount === 1 ? '' : 's'} in parallel`;
    let how: string;
    switch (source.strategy) {
      case 'aggregate':
        how = `POST /v1/aggregate on ${shards}, aggregates [${source.partials.join(', ')}]; partials merge exactly here`;
        break;
      case 'quantile':
        how = `one pass: POST /v1/aggregate on ${shards}, aggregates [${source.partials.join(', ')}] (rollup tiers apply); total count at most ${plan.exactPointsLimit}: raw points via POST /query, exact quantiles; more: the sketches in hand merge here, DDSketch quantiles within 1% relative error`;
        break;
      case 'raw':
        how = `count first (points limit), then raw points via POST /query on ${shards}; counter increases with resets computed here`;
        break;
      default: {
        const exhaustive: never = source.strategy;
        how = exhaustive;
      }
    }
    rows.push({ step: `source ${index + 1}: ${source.measurement}.${source.field}`, detail: how });
  });
  for (const column of plan.columns)
    rows.push({ step: `column ${column.name}`, detail: describeExpression(plan, column.expression) });
  const paging = [
    `ORDER BY time ${plan.order.toUpperCase()}`,
    plan.limit !== undefined ? `LIMIT ${plan.limit}` : '',
    plan.offset !== undefined ? `OFFSET ${plan.offset}` : '',
    plan.slimit !== undefined ? `SLIMIT ${plan.slimit}` : '',
    plan.soffset !== undefined ? `SOFFSET ${plan.soffset}` : '',
  ].filter(Boolean);
  rows.push({ step: 'output', detail: paging.join(', ') });
  return rows;
}

function describeFunction(slotFunction: SlotFunction): string {
  switch (slotFunction.kind) {
    case 'mean':
      return 'sum / count';
    case 'stddev':
      return 'sample stddev from sum, sumsq, count';
    case 'spread':
      return 'max - min';
    case 'median':
      return 'median';
    case 'percentile':
      return `percentile ${slotFunction.percentile} (nearest rank)`;
    case 'rate':
      return `counter increase per ${printDuration(slotFunction.unit)}`;
    case 'sum':
    case 'count':
    case 'min':
    case 'max':
    case 'first':
    case 'last':
      return slotFunction.kind;
    default: {
      const exhaustive: never = slotFunction;
      return exhaustive;
    }
  }
}

function describeExpression(plan: SelectPlan, expression: ColumnExpression): string {
  switch (expression.kind) {
    case 'slot': {
      const slot = plan.slots[expression.slot];
      const source = plan.sources[slot.source];
      return `${describeFunction(slot.function)} of ${source.measurement}.${source.field}`;
    }
    case 'number':
      return String(expression.value);
    case 'negate':
      return `-(${describeExpression(plan, expression.operand)})`;
    case 'binary':
      return `(${describeExpression(plan, expression.left)}) ${expression.operator} (${describeExpression(plan, expression.right)})`;
    default: {
      const exhaustive: never = expression;
      return exhaustive;
    }
  }
}
