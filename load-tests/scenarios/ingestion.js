import { json, noise } from './scenario.js';

const HOSTS = 50;

/** @param {number} clients @param {number} metricsPerRequest @returns {import('./scenario.js').Scenario['request']} */
const metricsRequest = (clients, metricsPerRequest) => (connection, iteration) => {
  const client = `client_${(connection * 7919 + iteration) % clients}`;
  const metrics = [];
  for (let index = 0; index < metricsPerRequest; index++) {
    const host = `server${String((connection + index) % HOSTS).padStart(2, '0')}`;
    metrics.push({
      name: 'cpu_usage',
      value: Math.round(noise(connection, iteration + index) * 1000) / 10,
      type: 'gauge',
      tags: { host },
    });
  }
  return {
    method: 'POST',
    path: '/metrics',
    headers: { Authorization: client, 'Content-Type': 'application/json' },
    body: json({ metrics }),
  };
};

/** The design document's scenario: 100 concurrent clients, each limited to 10 req/s; 202 and 429 are both expected. */
/** @type {import('./scenario.js').Scenario} */
export const ingestionLimited = {
  name: 'ingestion-limited',
  description:
    '100 virtual users, 100 client ids at the 10 req/s limit: admitted (202) and limited (429) counted apart',
  service: 'ingestion',
  connections: 100,
  seconds: { smoke: 5, full: 60 },
  expectedStatuses: [202, 429],
  countedStatuses: { accepted: 202, limited: 429 },
  thresholds: { maxErrorRate: 0.01, p99Ms: 50, minRequestsPerSecond: 2000 },
  request: metricsRequest(100, 1),
};

/** Many client ids so the limit does not bind: the ceiling of accepted requests. */
/** @type {import('./scenario.js').Scenario} */
export const ingestionCeiling = {
  name: 'ingestion-ceiling',
  description: '100 virtual users, 10,000 client ids, 10 metrics per request: accepted requests/s',
  service: 'ingestion',
  connections: 100,
  seconds: { smoke: 5, full: 60 },
  expectedStatuses: [202],
  countedStatuses: { accepted: 202 },
  thresholds: { maxErrorRate: 0.01, p99Ms: 100, minRequestsPerSecond: 2000 },
  request: metricsRequest(10_000, 10),
};

export const scenarios = [ingestionLimited, ingestionCeiling];
