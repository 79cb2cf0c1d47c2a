import { DEFAULT_TENANT } from '../kit/auth';
import type { Clock } from '../kit/clock';
import { cacheKey, cacheLifetime, type ResultsCache } from './cache/results-cache';
import { ErrorCode, QueryError } from './errors';
import type { Answer, Executor } from './executor/executor';
import type { Statement } from './parser/ast';
import { parse } from './parser/parser';
import { explainPlan } from './planner/explain';
import type { Plan } from './planner/plan';
import { planStatement, type PlannerOptions } from './planner/planner';

export interface EngineOptions {
  clock: Clock;
  executor: Executor;
  shardCount: () => number;
  planner: Omit<PlannerOptions, 'now'>;
  queryTimeoutMs: number;
  maxResponseBytes: number;
  cache?: ResultsCache;
  cacheTtlMs: number;
}

export interface QueryRequest {
  query: string;
  /** Set when multi-tenancy is on; storage calls then carry it, and absent means the default tenant. */
  tenant?: string;
  allowPartial: boolean;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** False for callers that need the current answer, such as alert evaluation (the batch endpoint). */
  isCacheable?: boolean;
}

/** The outcome of one query: the JSON body, already serialized (it may come straight from the cache). */
export interface QueryOutcome {
  body: string;
  isCached: boolean;
}

/** parse → plan → (cache) → execute → serialize, under the query timeout. */
export class QueryEngine {
  constructor(private readonly options: EngineOptions) {}

  /** Parses and plans without running: the checks of `POST /v1/validate`. */
  validate(query: string): Plan {
    return this.plan(parse(query));
  }

  async run(request: QueryRequest): Promise<QueryOutcome> {
    const plan = this.plan(parse(request.query));
    const controller = new AbortController();
    const timeout = setTimeout(
      () =>
        controller.abort(
          new QueryError(ErrorCode.QueryTimeout, `the query did not finish within ${this.options.queryTimeoutMs} ms`),
        ),
      this.options.queryTimeoutMs,
    );
    const forwardAbort = () => controller.abort(request.signal.reason);
    request.signal.addEventListener('abort', forwardAbort, { once: true });
    const context = { signal: controller.signal, tenant: request.tenant, allowPartial: request.allowPartial };
    try {
      switch (plan.kind) {
        case 'select': {
          const { cache, cacheTtlMs } = this.options;
          const key =
            cache && cacheTtlMs > 0 && request.isCacheable !== false
              ? cacheKey(plan, request.tenant ?? DEFAULT_TENANT, cacheTtlMs)
              : undefined;
          const cached = key ? await cache!.get(key) : undefined;
          if (cached !== undefined) return { body: cached, isCached: true };
          const answer = await this.options.executor.select(plan, context);
          const body = this.serialize(answer);
          if (key && answer.missingShards.length === 0) await cache!.set(key, body, cacheLifetime(plan, cacheTtlMs));
          return { body, isCached: false };
        }
        case 'explain':
          return {
            body: this.serialize({
              rowsJson: JSON.stringify(explainPlan(plan.plan, this.options.shardCount())),
              missingShards: [],
            }),
            isCached: false,
          };
        case 'show-measurements':
        case 'show-tag-keys':
        case 'show-tag-values':
          return { body: this.serialize(await this.options.executor.metadata(plan, context)), isCached: false };
        default: {
          const exhaustive: never = plan;
          return exhaustive;
        }
      }
    } finally {
      clearTimeout(timeout);
      request.signal.removeEventListener('abort', forwardAbort);
    }
  }

  private plan(statement: Statement): Plan {
    return planStatement(statement, { ...this.options.planner, now: this.options.clock.now() });
  }

  private serialize(answer: Answer): string {
    const partial =
      answer.missingShards.length > 0 ? `,"partial":true,"missing_shards":${JSON.stringify(answer.missingShards)}` : '';
    const body = `{"series":${answer.rowsJson}${partial}}`;
    if (body.length > this.options.maxResponseBytes)
      throw new QueryError(
        ErrorCode.ResponseTooLarge,
        `the answer is ${body.length} bytes, over the limit of ${this.options.maxResponseBytes}; narrow the query or use LIMIT/SLIMIT`,
        { bytes: body.length, limit: this.options.maxResponseBytes },
      );
    return body;
  }
}
