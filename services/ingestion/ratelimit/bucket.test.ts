import fc from 'fast-check';
import { PolicyTable, takeToken, TokenBuckets, type BucketState } from './bucket';
import { parseOverrideDocument, parseOverrideList } from './overrides';

const policy = { rate: 10, burst: 10 };

describe('takeToken', () => {
  it('admits a full burst, then one request per 1/rate seconds', () => {
    let state: BucketState | undefined;
    const decisions = [];
    for (let request = 0; request < 11; request++) {
      const step = takeToken(state, policy, 0);
      state = step.state;
      decisions.push(step.decision);
    }
    expect(decisions.slice(0, 10).every((decision) => decision.isAllowed)).toBe(true);
    expect(decisions[9]).toMatchObject({ remaining: 0, limit: 10, resetMs: 1000 });
    expect(decisions[10]).toEqual({ isAllowed: false, limit: 10, remaining: 0, retryAfterMs: 100, resetMs: 1000 });
    expect(takeToken(state, policy, 50).decision).toMatchObject({ isAllowed: false, retryAfterMs: 50 });
    expect(takeToken(state, policy, 100).decision).toMatchObject({ isAllowed: true, remaining: 0 });
  });

  it('never holds more than the burst, and tolerates a clock going backwards', () => {
    const idle = takeToken({ tokens: 3, updatedAt: 0 }, policy, 3_600_000);
    expect(idle.decision).toMatchObject({ isAllowed: true, remaining: 9 });
    const backwards = takeToken({ tokens: 0.5, updatedAt: 1000 }, policy, 500);
    expect(backwards.decision.isAllowed).toBe(false);
    expect(backwards.state.tokens).toBe(0.5);
  });

  it('admits at most burst + rate × elapsed over any schedule', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.1, max: 1000, noNaN: true }),
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 1, maxLength: 300 }),
        (rate, burst, gaps) => {
          let state: BucketState | undefined;
          let now = 0;
          let admitted = 0;
          for (const gap of gaps) {
            now += gap;
            const step = takeToken(state, { rate, burst }, now);
            state = step.state;
            if (step.decision.isAllowed) admitted++;
            else expect(step.decision.retryAfterMs).toBeGreaterThan(0);
          }
          expect(admitted).toBeLessThanOrEqual(burst + (rate * now) / 1000 + 1e-9);
        },
      ),
    );
  });

  it('admits exactly the rate under steady overload (the limiter accuracy the benchmark measures)', () => {
    let state: BucketState | undefined;
    let admitted = 0;
    // 100 requests/s for 60 s against a 10/s bucket: burst + 10/s × 60 s.
    for (let now = 0; now <= 60_000; now += 10) {
      const step = takeToken(state, policy, now);
      state = step.state;
      if (step.decision.isAllowed) admitted++;
    }
    expect(admitted).toBe(10 + 600);
  });
});

describe('TokenBuckets', () => {
  it('keeps one bucket per client, applies overrides, and sweeps full buckets', () => {
    const buckets = new TokenBuckets(new PolicyTable(policy, new Map([['vip', { rate: 100, burst: 2 }]])));
    expect(buckets.take('a', 0).isAllowed).toBe(true);
    expect(buckets.take('vip', 0)).toMatchObject({ isAllowed: true, limit: 2, remaining: 1 });
    expect(buckets.take('vip', 0)).toMatchObject({ isAllowed: true, remaining: 0 });
    expect(buckets.take('vip', 0)).toMatchObject({ isAllowed: false, retryAfterMs: 10 });
    buckets.sweep(50);
    expect(buckets.size).toBe(1);
    buckets.sweep(100);
    expect(buckets.size).toBe(0);
  });
});

describe('rate limit overrides', () => {
  it('parses the list form', () => {
    const { overrides, problems } = parseOverrideList(['a=100', 'b=5:20', 'c=0.5', 'bad', 'd=0', 'e=1:0']);
    expect([...overrides]).toEqual([
      ['a', { rate: 100, burst: 100 }],
      ['b', { rate: 5, burst: 20 }],
      ['c', { rate: 0.5, burst: 1 }],
    ]);
    expect(problems).toHaveLength(3);
  });

  it('parses the YAML/JSON file form', () => {
    const yaml = 'overrides:\n  team-a: {rate: 50, burst: 100}\n  team-b: {rate: 2}\n  team-c: {burst: 3}\n';
    const { overrides, problems } = parseOverrideDocument(yaml, 'o.yaml');
    expect([...overrides]).toEqual([
      ['team-a', { rate: 50, burst: 100 }],
      ['team-b', { rate: 2, burst: 2 }],
    ]);
    expect(problems).toEqual(['o.yaml: overrides.team-c needs "rate" > 0 and "burst" >= 1']);
    expect(parseOverrideDocument('{"overrides": []}', 'x').problems).toHaveLength(1);
    expect(parseOverrideDocument('{', 'x').problems[0]).toMatch(/not valid JSON or YAML/);
  });
});
