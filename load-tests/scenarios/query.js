import { json, parseOrUndefined } from './scenario.js';

const DASHBOARD = [
  'SELECT avg(cpu_usage) WHERE time > now() - 1h GROUP BY time(5m)',
  'SELECT avg(cpu_usage) WHERE time > now() - 1h GROUP BY time(5m), host',
  "SELECT max(cpu_usage), min(cpu_usage) WHERE host='server01' AND time > now() - 15m GROUP BY time(1m)",
  'SELECT p95(cpu_usage) WHERE time > now() - 6h',
  'SELECT count(cpu_usage) WHERE time > now() - 24h GROUP BY time(1h)',
];

/** Dashboard-like queries; run it while an ingestion scenario runs. */
/** @type {import('./scenario.js').Scenario} */
export const queryDashboard = {
  name: 'query-dashboard',
  description: '20 connections cycling through five dashboard queries',
  service: 'query',
  connections: 20,
  seconds: { smoke: 5, full: 60 },
  expectedStatuses: [200],
  thresholds: { maxErrorRate: 0.01, p99Ms: 500 },
  request: (connection, iteration) => ({
    method: 'POST',
    path: '/query',
    headers: { 'Content-Type': 'application/json' },
    body: json({ query: DASHBOARD[(connection + iteration) % DASHBOARD.length] }),
  }),
  isBodyValid: (_status, body) => Array.isArray(parseOrUndefined(body)?.series),
};

export const scenarios = [queryDashboard];
