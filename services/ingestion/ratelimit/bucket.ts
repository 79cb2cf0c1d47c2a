/**
 * Token-bucket rate limiting, pure: every function takes `now` (ms) and touches no clock.
 * A bucket holds at most `burst` tokens and refills at `rate` tokens per second; each request takes one token.
 */
export interface BucketPolicy {
  /** Tokens added per second. */
  rate: number;
  /** Bucket capacity: the most requests admitted back to back after a quiet period. */
  burst: number;
}

export interface BucketState {
  tokens: number;
  updatedAt: number;
}

export interface Decision {
  isAllowed: boolean;
  /** The bucket capacity (`RateLimit-Limit`). */
  limit: number;
  /** Whole tokens left after this decision (`RateLimit-Remaining`). */
  remaining: number;
  /** Until a token is available; 0 when allowed (`Retry-After`). */
  retryAfterMs: number;
  /** Until the bucket is full again (`RateLimit-Reset`). */
  resetMs: number;
}

/** Refills in small steps add up to 0.9999999…; this tolerance counts them as the whole token they are. */
export const EPSILON = 1e-9;

export function takeToken(
  state: BucketState | undefined,
  policy: BucketPolicy,
  now: number,
): { state: BucketState; decision: Decision } {
  const elapsedMs = state ? Math.max(0, now - state.updatedAt) : 0;
  const available = state ? Math.min(policy.burst, state.tokens + (elapsedMs * policy.rate) / 1000) : policy.burst;
  const isAllowed = available >= 1 - EPSILON;
  const tokens = isAllowed ? Math.max(0, available - 1) : available;
  return { state: { tokens, updatedAt: now }, decision: describeDecision(isAllowed, tokens, policy) };
}

/** The decision for a bucket left holding `tokens` (shared with the Redis script, which returns the same two facts). */
export function describeDecision(isAllowed: boolean, tokens: number, policy: BucketPolicy): Decision {
  return {
    isAllowed,
    limit: policy.burst,
    remaining: Math.floor(tokens),
    retryAfterMs: isAllowed ? 0 : Math.ceil(((1 - tokens) * 1000) / policy.rate),
    resetMs: Math.ceil(((policy.burst - tokens) * 1000) / policy.rate),
  };
}

/** The policy of each client: the default, or its override. */
export class PolicyTable {
  constructor(
    readonly defaultPolicy: BucketPolicy,
    private readonly overrides: ReadonlyMap<string, BucketPolicy> = new Map(),
  ) {}

  policyFor(client: string): BucketPolicy {
    return this.overrides.get(client) ?? this.defaultPolicy;
  }
}

/** In-memory buckets for many clients. Full buckets are forgotten by `sweep`, so memory follows active clients. */
export class TokenBuckets {
  private readonly buckets = new Map<string, BucketState>();

  constructor(private readonly policies: PolicyTable) {}

  get size(): number {
    return this.buckets.size;
  }

  take(client: string, now: number): Decision {
    const policy = this.policies.policyFor(client);
    const { state, decision } = takeToken(this.buckets.get(client), policy, now);
    this.buckets.set(client, state);
    return decision;
  }

  /** Drops buckets that have refilled completely: a missing bucket is the same as a full one. */
  sweep(now: number): void {
    for (const [client, state] of this.buckets) {
      const policy = this.policies.policyFor(client);
      if (state.tokens + ((now - state.updatedAt) * policy.rate) / 1000 >= policy.burst) this.buckets.delete(client);
    }
  }
}
