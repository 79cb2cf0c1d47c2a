import type { Call, Condition, Expression, SelectStatement } from '../parser/ast';
import { alignWindow, planSelect, type PlannerOptions } from '../planner/planner';
import type { StoredPoint } from './storage-double';

type Row = Record<string, number | string | null>;

/**
 * Brute-force evaluation of a SELECT over raw points, written independently of the merge code, to check the executor
 * against (like raft's quorum/quick_test.go). Only the range, window and column names come from the planner.
 */
export function bruteForce(statement: SelectStatement, points: StoredPoint[], options: PlannerOptions): Row[] {
  const plan = planSelect(statement, options);
  const sourceOf = (call: Call) => ({
    measurement: statement.measurement ?? call.field,
    field: statement.measurement === undefined ? 'value' : call.field,
  });
  const calls: Call[] = [];
  const collect = (expression: Expression) => {
    if (expression.kind === 'call') calls.push(expression);
    else if (expression.kind === 'negate') collect(expression.operand);
    else if (expression.kind === 'binary') {
      collect(expression.left);
      collect(expression.right);
    }
  };
  statement.fields.forEach((field) => collect(field.expression));
  const sources = calls.map(sourceOf);
  const used = points.filter(
    (point) =>
      point.timestamp >= plan.start &&
      point.timestamp < plan.end &&
      sources.some(
        (source) => source.measurement === point.measurement && typeof point.fields[source.field] === 'number',
      ) &&
      (!statement.condition || holds(statement.condition, point.tags)),
  );
  const groupTagsOf = (tags: Record<string, string>): Record<string, string> => {
    if (plan.groupTags === '*') return { ...tags };
    return Object.fromEntries(plan.groupTags.map((key) => [key, tags[key] ?? '']));
  };
  const keyOf = (tags: Record<string, string>) =>
    JSON.stringify(
      Object.keys(tags)
        .sort()
        .map((key) => [key, tags[key]]),
    );
  const distinctGroups = new Map(used.map((point) => [keyOf(groupTagsOf(point.tags)), groupTagsOf(point.tags)]));
  const allKeys = [...new Set([...distinctGroups.values()].flatMap((tags) => Object.keys(tags)))].sort();
  const groupKeys = [...distinctGroups.keys()].sort((a, b) => {
    const left = allKeys.map((key) => distinctGroups.get(a)![key] ?? '');
    const right = allKeys.map((key) => distinctGroups.get(b)![key] ?? '');
    const index = left.findIndex((value, position) => value !== right[position]);
    return index < 0 ? 0 : left[index] < right[index] ? -1 : 1;
  });
  if (statement.order === 'desc') groupKeys.reverse();
  const windowOf = (time: number) =>
    plan.window ? alignWindow(time, plan.window.interval, plan.window.offset) : plan.start;
  const starts: number[] = [];
  if (plan.window)
    for (
      let start = alignWindow(plan.start, plan.window.interval, plan.window.offset);
      start < plan.end;
      start += plan.window.interval
    )
      starts.push(start);
  else starts.push(plan.start);
  const windowLength = plan.window ? plan.window.interval : plan.end - plan.start;

  const selected = groupKeys.slice(
    statement.soffset ?? 0,
    statement.slimit === undefined ? undefined : (statement.soffset ?? 0) + statement.slimit,
  );
  const rows: Row[] = [];
  for (const groupKey of selected) {
    const inGroup = used.filter((point) => keyOf(groupTagsOf(point.tags)) === groupKey);
    const groupTags = groupTagsOf(inGroup[0].tags);
    const valuesOf = (call: Call, start: number) => {
      const { measurement, field } = sourceOf(call);
      return inGroup
        .filter(
          (point) =>
            point.measurement === measurement &&
            typeof point.fields[field] === 'number' &&
            windowOf(point.timestamp) === start,
        )
        .sort((a, b) => a.timestamp - b.timestamp)
        .map((point) => ({ time: point.timestamp, value: point.fields[field], series: keyOf(point.tags) }));
    };
    const increase = (call: Call, start: number): number | null => {
      const { measurement, field } = sourceOf(call);
      const bySeries = new Map<string, { time: number; value: number }[]>();
      for (const point of inGroup) {
        if (point.measurement !== measurement || typeof point.fields[field] !== 'number') continue;
        const list = bySeries.get(keyOf(point.tags)) ?? [];
        list.push({ time: point.timestamp, value: point.fields[field] });
        bySeries.set(keyOf(point.tags), list);
      }
      let total = 0;
      let pairs = 0;
      for (const list of bySeries.values()) {
        list.sort((a, b) => a.time - b.time);
        for (let index = 1; index < list.length; index++) {
          if (windowOf(list[index].time) !== start) continue;
          const delta = list[index].value - list[index - 1].value;
          total += delta >= 0 ? delta : list[index].value;
          pairs++;
        }
      }
      return pairs === 0 ? null : total;
    };
    const aggregateOf = (call: Call, start: number): number | null => {
      const entries = valuesOf(call, start);
      const values = entries.map((entry) => entry.value);
      const sorted = [...values].sort((a, b) => a - b);
      const count = values.length;
      const sum = values.reduce((total, value) => total + value, 0);
      if (call.name === 'rate' || call.name === 'derivative') {
        const total = increase(call, start);
        const unit = call.name === 'derivative' && call.argument !== undefined ? call.argument : 1000;
        return total === null ? null : (total * unit) / windowLength;
      }
      if (count === 0) return null;
      const nearestRank = (percent: number) =>
        sorted[Math.min(count - 1, Math.max(0, Math.floor((count * percent) / 100 + 0.5) - 1))];
      switch (call.name) {
        case 'avg':
        case 'mean':
          return sum / count;
        case 'sum':
          return sum;
        case 'count':
          return count;
        case 'min':
          return sorted[0];
        case 'max':
          return sorted[count - 1];
        case 'first':
          return entries[0].value;
        case 'last':
          return entries[count - 1].value;
        case 'spread':
          return sorted[count - 1] - sorted[0];
        case 'stddev': {
          if (count < 2) return null;
          const mean = sum / count;
          return Math.sqrt(values.reduce((total, value) => total + (value - mean) ** 2, 0) / (count - 1));
        }
        case 'median':
          return count % 2 ? sorted[(count - 1) / 2] : (sorted[count / 2 - 1] + sorted[count / 2]) / 2;
        case 'percentile':
          return nearestRank(call.argument);
        case 'p50':
        case 'p90':
        case 'p95':
        case 'p99':
          return nearestRank(Number(call.name.slice(1)));
      }
    };
    const evaluate = (expression: Expression, start: number): number | null => {
      switch (expression.kind) {
        case 'call':
          return aggregateOf(expression, start);
        case 'number':
          return expression.value;
        case 'negate': {
          const value = evaluate(expression.operand, start);
          return value === null ? null : -value;
        }
        case 'binary': {
          const left = evaluate(expression.left, start);
          const right = evaluate(expression.right, start);
          if (left === null || right === null) return null;
          const result = { '+': left + right, '-': left - right, '*': left * right, '/': left / right }[
            expression.operator
          ];
          return Number.isFinite(result) ? result : null;
        }
      }
    };
    let groupRows = starts.map((start) => ({
      start,
      isEmpty: !inGroup.some((point) => windowOf(point.timestamp) === start),
      values: statement.fields.map((field) => evaluate(field.expression, start)),
    }));
    const fill = statement.fill ?? { kind: 'null' };
    for (let column = 0; column < statement.fields.length; column++) {
      groupRows.forEach((row, index) => {
        if (!row.isEmpty) return;
        if (fill.kind === 'value') row.values[column] = fill.value;
        if (fill.kind === 'previous') row.values[column] = index > 0 ? groupRows[index - 1].values[column] : null;
        if (fill.kind === 'linear') {
          let before = index - 1;
          while (before >= 0 && (groupRows[before].isEmpty || groupRows[before].values[column] === null)) before--;
          let after = index + 1;
          while (after < groupRows.length && (groupRows[after].isEmpty || groupRows[after].values[column] === null))
            after++;
          if (before >= 0 && after < groupRows.length) {
            const from = groupRows[before].values[column]!;
            const to = groupRows[after].values[column]!;
            row.values[column] = from + ((to - from) * (index - before)) / (after - before);
          }
        }
      });
    }
    if (fill.kind === 'none') groupRows = groupRows.filter((row) => !row.isEmpty);
    if (statement.order === 'desc') groupRows.reverse();
    const from = statement.offset ?? 0;
    groupRows = groupRows.slice(from, statement.limit === undefined ? undefined : from + statement.limit);
    for (const row of groupRows) {
      const output: Row = { time: row.start, ...groupTags };
      plan.columns.forEach((column, index) => (output[column.name] = row.values[index]));
      rows.push(output);
    }
  }
  return rows;
}

function holds(condition: Condition, tags: Record<string, string>): boolean {
  switch (condition.kind) {
    case 'and':
      return holds(condition.left, tags) && holds(condition.right, tags);
    case 'or':
      return holds(condition.left, tags) || holds(condition.right, tags);
    case 'tag':
      return condition.operator === '='
        ? (tags[condition.key] ?? '') === condition.value
        : (tags[condition.key] ?? '') !== condition.value;
    case 'regex': {
      const isMatch = new RegExp(condition.pattern).test(tags[condition.key] ?? '');
      return condition.operator === '=~' ? isMatch : !isMatch;
    }
    case 'time':
      return true;
  }
}
