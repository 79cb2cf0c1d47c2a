// @ts-expect-error plain ESM JavaScript shared with k6; jest transforms it
import { rssGrowth, summarize, violations } from './verdict.js';

const scenario = {
  name: 'ingestion-limited',
  expectedStatuses: [202, 429],
  countedStatuses: { accepted: 202, limited: 429 },
  thresholds: { maxErrorRate: 0.01, p99Ms: 50, minRequestsPerSecond: 2000 },
};
const autocannonResult = (p99: number, errors = 0) => ({ errors, timeouts: 0, latency: { p50: 1, p99, max: p99 * 2 } });

describe('load verdicts', () => {
  it('counts expected statuses apart and treats others as errors', () => {
    const summary = summarize(scenario, autocannonResult(20), { 202: 9000, 429: 900, 500: 100 }, 0, 5);
    expect(summary.countedPerSecond).toEqual({ accepted: 1800, limited: 180 });
    expect(summary.requestsPerSecond).toBe(2000);
    expect(summary.errorRate).toBeCloseTo(0.01);
    expect(violations(scenario, summary, false)).toEqual([]);
  });

  it('fails on error rate always, on latency and throughput only in full runs', () => {
    const slow = summarize(scenario, autocannonResult(80, 200), { 202: 5000 }, 0, 5);
    expect(violations(scenario, slow, false)).toEqual(['error rate 3.85% > 1%']);
    expect(violations(scenario, slow, true)).toEqual([
      'error rate 3.85% > 1%',
      'p99 80 ms > 50 ms',
      '1000 req/s < 2000 req/s',
    ]);
  });

  it('measures RSS growth after warm-up', () => {
    const samples = [{ query: 50 }, { query: 100 }, { query: 100 }, { query: 110 }, { query: 150 }];
    expect(rssGrowth(samples)).toEqual({ query: 0.5 });
  });
});
