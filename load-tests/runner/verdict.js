// Pure helpers of the Node load runner: turn autocannon results into figures and threshold verdicts.

/** Expected-status responses minus invalid bodies are successes; everything else (and transport errors) are errors. */
export function summarize(scenario, result, statuses, invalidBodies, seconds) {
  const responses = Object.values(statuses).reduce((sum, count) => sum + count, 0);
  const unexpected = Object.entries(statuses)
    .filter(([status]) => !scenario.expectedStatuses.includes(Number(status)))
    .reduce((sum, [, count]) => sum + count, 0);
  const attempts = responses + result.errors + result.timeouts;
  const counted = Object.fromEntries(
    Object.entries(scenario.countedStatuses ?? {}).map(([label, status]) => [label, statuses[status] ?? 0]),
  );
  return {
    scenario: scenario.name,
    seconds,
    connections: scenario.connections,
    requests: attempts,
    requestsPerSecond: Math.round(responses / seconds),
    countedPerSecond: Object.fromEntries(
      Object.entries(counted).map(([label, count]) => [label, Math.round(count / seconds)]),
    ),
    statuses,
    errorRate: attempts === 0 ? 1 : (unexpected + invalidBodies + result.errors + result.timeouts) / attempts,
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
  };
}

/** Error rate always counts; latency and throughput floors only in full runs (smoke runs share CI's CPU). */
export function violations(scenario, summary, isFull) {
  const problems = [];
  if (summary.requests === 0) problems.push('no request completed');
  if (summary.errorRate > scenario.thresholds.maxErrorRate)
    problems.push(`error rate ${(summary.errorRate * 100).toFixed(2)}% > ${scenario.thresholds.maxErrorRate * 100}%`);
  if (isFull && summary.latencyMs.p99 > scenario.thresholds.p99Ms)
    problems.push(`p99 ${summary.latencyMs.p99} ms > ${scenario.thresholds.p99Ms} ms`);
  const floor = scenario.thresholds.minRequestsPerSecond;
  if (isFull && floor && summary.requestsPerSecond < floor)
    problems.push(`${summary.requestsPerSecond} req/s < ${floor} req/s`);
  return problems;
}

/** Relative growth of each service's RSS from the end of the first quarter of samples (after warm-up) to the last. */
export function rssGrowth(samples) {
  const growth = {};
  if (samples.length < 4) return growth;
  const baseline = samples[Math.floor(samples.length / 4)];
  const last = samples[samples.length - 1];
  for (const [service, bytes] of Object.entries(last)) {
    if (baseline[service])
      growth[service] = Math.round(((bytes - baseline[service]) / baseline[service]) * 1000) / 1000;
  }
  return growth;
}
