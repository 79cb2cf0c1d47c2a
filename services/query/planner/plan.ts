import type { Condition, Fill } from '../parser/ast';

/** The partial aggregates storage's `POST /v1/aggregate` can compute per window (docs/CONTRACTS.md). */
export type PartialName = 'count' | 'sum' | 'sumsq' | 'min' | 'max' | 'first' | 'last' | 'sketch';

export type MatchOperator = '=' | '!=' | '=~' | '!~';

/** A tag filter storage applies (`filters` of `/v1/aggregate` and `/query`). */
export interface Matcher {
  key: string;
  op: MatchOperator;
  value: string;
}

/** What one aggregate call computes per group and window. */
export type SlotFunction =
  | { kind: 'mean' }
  | { kind: 'sum' }
  | { kind: 'count' }
  | { kind: 'min' }
  | { kind: 'max' }
  | { kind: 'first' }
  | { kind: 'last' }
  | { kind: 'stddev' }
  | { kind: 'spread' }
  | { kind: 'median' }
  /** `percentile` is 0–100, nearest rank as InfluxDB defines it. */
  | { kind: 'percentile'; percentile: number }
  /** Counter increase per `unit` milliseconds over the window (rate: unit = 1 s). */
  | { kind: 'rate'; unit: number };

export interface Slot {
  source: number;
  function: SlotFunction;
}

/**
 * How a source's data is fetched:
 * - `aggregate`: one `/v1/aggregate` call per shard; partials merge exactly.
 * - `quantile`: one `/v1/aggregate` call per shard with the plan's window, `count` and `sketch` (so storage can use
 *   its rollup tiers); if the counts total at most `exactPointsLimit` points the raw points are fetched and
 *   quantiles are exact, otherwise the DDSketches already fetched (relative error alpha = 0.01) are merged.
 * - `raw`: counters (rate, derivative) need every point to see resets; a count-only call first checks the points limit.
 */
export type Strategy = 'aggregate' | 'quantile' | 'raw';

export interface SourcePlan {
  measurement: string;
  field: string;
  strategy: Strategy;
  partials: PartialName[];
}

export type ColumnExpression =
  | { kind: 'slot'; slot: number }
  | { kind: 'number'; value: number }
  | { kind: 'negate'; operand: ColumnExpression }
  | { kind: 'binary'; operator: '+' | '-' | '*' | '/'; left: ColumnExpression; right: ColumnExpression };

export interface Column {
  name: string;
  expression: ColumnExpression;
}

export interface SelectPlan {
  kind: 'select';
  /** The statement printed canonically (cache key material). */
  normalized: string;
  /** Query range: `start` inclusive, `end` exclusive, epoch milliseconds. */
  start: number;
  end: number;
  /** Whether the range moves with now() (a dashboard query); such answers are cached aligned to the window. */
  isRelative: boolean;
  window?: { interval: number; offset: number };
  /** Tag keys the answer is grouped by, or '*' for every tag of each series. */
  groupTags: string[] | '*';
  matchers: Matcher[];
  /** Tag conditions storage cannot apply (OR): evaluated here on each series' tags, with storage grouping by '*'. */
  residual?: Condition;
  sources: SourcePlan[];
  slots: Slot[];
  columns: Column[];
  fill: Fill;
  order: 'asc' | 'desc';
  limit?: number;
  offset?: number;
  slimit?: number;
  soffset?: number;
  exactPointsLimit: number;
}

export type MetadataPlan =
  | { kind: 'show-measurements' }
  | { kind: 'show-tag-keys'; measurement?: string }
  | { kind: 'show-tag-values'; measurement?: string; key: string };

export type Plan = SelectPlan | { kind: 'explain'; plan: SelectPlan } | MetadataPlan;
