import { ErrorCode, QueryError } from '../errors';
import type { Matcher, MetadataPlan, SelectPlan, SourcePlan } from '../planner/plan';
import { mergeShardBodies } from './merge';
import { callShard, isShardError, parseShardJson } from './storage-client';
import type { AggregateResponse, MergeLimits, Row, ShardBody } from './wire';

/** Runs the merge of big answers off the event loop (see worker-pool.ts). */
export interface MergeRunner {
  /** The merged rows as a JSON array. */
  merge(plan: SelectPlan, bodies: ShardBody[], limits: MergeLimits, signal: AbortSignal): Promise<string>;
}

export interface ExecutorOptions {
  shards: () => readonly string[];
  shardTimeoutMs: number;
  limits: MergeLimits;
  /** Answers whose shard bodies total at least this many bytes are merged by `runner`. */
  workerThresholdBytes: number;
  runner?: MergeRunner;
}

export interface ExecutionContext {
  signal: AbortSignal;
  tenant?: string;
  /** Answer from the shards that responded instead of failing; the answer lists the others. */
  allowPartial: boolean;
}

export interface Answer {
  /** The rows already serialized: a worker hands back text, so the main thread neither clones nor stringifies them. */
  rowsJson: string;
  missingShards: string[];
}

/** Fans each storage call out to every shard in parallel, then merges. */
export class Executor {
  constructor(private readonly options: ExecutorOptions) {}

  /**
   * Two rounds at most. The first asks every shard for each source's aggregates; for a quantile source that is the
   * plan's own windowed call (count and sketch, so storage can answer from its rollup tiers), for a counter source a
   * count-only call. The second fetches raw points where the counts allow or require them: a quantile source whose
   * range holds at most `exactPointsLimit` points (its sketches are then dropped) and every counter source.
   */
  async select(plan: SelectPlan, context: ExecutionContext): Promise<Answer> {
    const shards = this.liveShards();
    const missing = new Set<string>();
    const first = await this.fetch(plan, shards, 'aggregate', context, missing, (source) =>
      source.strategy === 'raw' ? countRequest(plan, source) : storageRequest(plan, source, 'aggregate'),
    );
    const counted = first.filter((body) => !missing.has(body.shard));
    const modes = plan.sources.map((source, index) =>
      chooseMode(
        source,
        source.strategy === 'aggregate' ? undefined : countPoints(counted, index),
        plan,
        this.options.limits,
      ),
    );
    const second = await this.fetch(plan, shards, 'raw', context, missing, (source, index) =>
      modes[index] === 'raw' ? storageRequest(plan, source, 'raw') : undefined,
    );
    // Ordered by source, then shard in configuration order, so float sums and first/last ties merge the same way.
    // A shard that failed some calls may have answered others; drop those so an answer never mixes halves.
    const complete = plan.sources.flatMap((_, index) =>
      (modes[index] === 'raw' ? second : first).filter((body) => body.source === index && !missing.has(body.shard)),
    );
    const size = complete.reduce((total, body) => total + body.text.length, 0);
    const { runner } = this.options;
    const rowsJson =
      runner && size >= this.options.workerThresholdBytes
        ? await runner.merge(plan, complete, this.options.limits, context.signal)
        : JSON.stringify(mergeShardBodies(plan, complete, this.options.limits));
    return { rowsJson, missingShards: [...missing].sort() };
  }

  async metadata(plan: MetadataPlan, context: ExecutionContext): Promise<Answer> {
    const shards = this.liveShards();
    const missing = new Set<string>();
    const union = async (path: string, field: string) => {
      const values = new Set<string>();
      await Promise.all(
        shards.map(async (shard) => {
          const text = await this.call(shard, path, undefined, context, missing);
          if (text !== undefined)
            for (const value of (parseShardJson(shard, text) as Record<string, string[]>)[field] ?? [])
              values.add(value);
        }),
      );
      return [...values].sort();
    };
    const measurementsOf = async (measurement: string | undefined) =>
      measurement === undefined ? union('/v1/measurements', 'measurements') : [measurement];
    const rows: Row[] = [];
    switch (plan.kind) {
      case 'show-measurements':
        for (const name of await measurementsOf(undefined)) rows.push({ name });
        break;
      case 'show-tag-keys':
        for (const measurement of await measurementsOf(plan.measurement))
          for (const tagKey of await union(`/v1/tag-keys?measurement=${encodeURIComponent(measurement)}`, 'tag_keys'))
            rows.push({ measurement, tagKey });
        break;
      case 'show-tag-values':
        for (const measurement of await measurementsOf(plan.measurement)) {
          const path = `/v1/tag-values?measurement=${encodeURIComponent(measurement)}&key=${encodeURIComponent(plan.key)}`;
          for (const value of await union(path, 'tag_values')) rows.push({ measurement, key: plan.key, value });
        }
        break;
      default: {
        const exhaustive: never = plan;
        return exhaustive;
      }
    }
    return { rowsJson: JSON.stringify(rows), missingShards: [...missing].sort() };
  }

  private liveShards(): readonly string[] {
    const shards = this.options.shards();
    if (shards.length === 0) throw new QueryError(ErrorCode.NoShards, 'no storage shards are configured');
    return shards;
  }

  /** Calls every shard for each source `request` names, in parallel; bodies in source, then shard, order. */
  private async fetch(
    plan: SelectPlan,
    shards: readonly string[],
    mode: ShardBody['mode'],
    context: ExecutionContext,
    missing: Set<string>,
    request: (source: SourcePlan, index: number) => { path: string; body: unknown } | undefined,
  ): Promise<ShardBody[]> {
    const calls = plan.sources.flatMap((source, index) => {
      const call = request(source, index);
      return call ? shards.map((shard) => ({ source: index, shard, ...call })) : [];
    });
    const answered = await Promise.all(
      calls.map(async (call) => {
        const text = await this.call(call.shard, call.path, call.body, context, missing);
        return text === undefined ? [] : [{ shard: call.shard, source: call.source, mode, text }];
      }),
    );
    return answered.flat();
  }

  /** The shard's body, or undefined when the shard failed and partial answers are allowed. */
  private async call(
    shard: string,
    path: string,
    body: unknown,
    context: ExecutionContext,
    missing: Set<string>,
  ): Promise<string | undefined> {
    if (missing.has(shard)) return undefined;
    try {
      return await callShard(
        { shard, method: body === undefined ? 'GET' : 'POST', path, body, tenant: context.tenant },
        this.options.shardTimeoutMs,
        context.signal,
      );
    } catch (error) {
      if (context.allowPartial && isShardError(error)) {
        missing.add(shard);
        return undefined;
      }
      throw error;
    }
  }
}

function chooseMode(
  source: SourcePlan,
  count: number | undefined,
  plan: SelectPlan,
  limits: MergeLimits,
): 'aggregate' | 'raw' {
  switch (source.strategy) {
    case 'aggregate':
      return 'aggregate';
    case 'quantile':
      return (count ?? Infinity) <= plan.exactPointsLimit ? 'raw' : 'aggregate';
    case 'raw':
      if ((count ?? 0) > limits.maxPoints)
        throw new QueryError(
          ErrorCode.TooManyPoints,
          `rate/derivative of ${source.measurement}.${source.field} needs ${count} raw points; the limit is ${limits.maxPoints}`,
          { points: count, limit: limits.maxPoints },
        );
      return 'raw';
    default: {
      const exhaustive: never = source.strategy;
      return exhaustive;
    }
  }
}

/** Points in range of one source over every shard that answered the first round (windows and groups partition them). */
function countPoints(bodies: readonly ShardBody[], source: number): number {
  let total = 0;
  for (const body of bodies)
    if (body.source === source)
      for (const group of (parseShardJson(body.shard, body.text) as AggregateResponse).groups ?? [])
        for (const window of group.windows) total += window.count ?? 0;
  return total;
}

/** A counter source's first call: the point count only, before any raw point moves. */
function countRequest(plan: SelectPlan, source: SourcePlan) {
  return {
    path: '/v1/aggregate',
    body: { ...aggregateBody(plan, source), window_ms: 0, group_by: [], aggregates: ['count'] },
  };
}

function aggregateBody(plan: SelectPlan, source: SourcePlan) {
  return {
    measurement: source.measurement,
    field: source.field,
    start: plan.start,
    end: plan.end,
    filters: plan.matchers.map(toStorageMatcher),
  };
}

/**
 * The language's regexes are unanchored (InfluxQL: `host =~ /web/` matches `frontend-web-1`); storage anchors its
 * matchers (Prometheus style, dotAll). `.*(?:p).*` means the same under either reading, so it is what we send.
 */
function toStorageMatcher(matcher: Matcher): Matcher {
  return matcher.op === '=~' || matcher.op === '!~' ? { ...matcher, value: `.*(?:${matcher.value}).*` } : matcher;
}

/** The storage call for one source: push-down aggregation, or raw points (`/query` has an inclusive end). */
export function storageRequest(plan: SelectPlan, source: SourcePlan, mode: 'aggregate' | 'raw') {
  if (mode === 'raw')
    return {
      path: '/query',
      body: {
        measurement: source.measurement,
        field: source.field,
        start: plan.start,
        end: plan.end - 1,
        filters: plan.matchers.map(toStorageMatcher),
      },
    };
  // A residual (OR) condition is evaluated here per series, so storage must keep series apart.
  const groupBy = plan.residual || plan.groupTags === '*' ? ['*'] : plan.groupTags;
  return {
    path: '/v1/aggregate',
    body: {
      ...aggregateBody(plan, source),
      window_ms: plan.window?.interval ?? 0,
      offset_ms: plan.window?.offset ?? 0,
      group_by: groupBy,
      aggregates: source.partials,
    },
  };
}
