import type { SketchWire } from '../../kit/sketch';

/** Storage's answers (docs/CONTRACTS.md), as the query engine reads them. */
export interface AggregateWindowWire {
  start: number;
  count?: number;
  sum?: number;
  sumsq?: number;
  min?: number;
  max?: number;
  first?: number;
  first_time?: number;
  last?: number;
  last_time?: number;
  sketch?: SketchWire;
}

export interface AggregateResponse {
  groups: { tags: Record<string, string>; windows: AggregateWindowWire[] }[];
}

export interface RawResponse {
  data_points: { timestamp: number; value: number; tags?: Record<string, string> }[];
}

export type TagSet = Record<string, string>;

/** One answer row: `time`, the group's tag values, then one value per column (null when there is none). */
export type Row = Record<string, number | string | null>;

/** What the merge step reads: each shard's response body for one source, unparsed (parsing may run in a worker). */
export interface ShardBody {
  shard: string;
  source: number;
  mode: 'aggregate' | 'raw';
  text: string;
}

export interface MergeLimits {
  maxSeries: number;
  maxPoints: number;
}
