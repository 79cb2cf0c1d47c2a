import { json, parseOrUndefined } from './scenario.js';

/** Rule writes (PUT, idempotent by name) mixed with GET /alerts reads, 1 write for 4 reads. */
/** @type {import('./scenario.js').Scenario} */
export const alertingApi = {
  name: 'alerting-api',
  description: '10 connections: PUT /rules/{name} for 500 distinct rules and GET /alerts, 1:4',
  service: 'alerting',
  connections: 10,
  seconds: { smoke: 5, full: 60 },
  expectedStatuses: [200, 201],
  thresholds: { maxErrorRate: 0.01, p99Ms: 200 },
  request: (connection, iteration) => {
    if ((connection + iteration) % 5 !== 0) return { method: 'GET', path: '/alerts' };
    const name = `load_rule_${(connection * 131 + iteration) % 500}`;
    return {
      method: 'PUT',
      path: `/rules/${name}`,
      headers: { 'Content-Type': 'application/json' },
      body: json({ name, query: `avg(cpu_usage) > ${50 + (iteration % 40)}`, duration: '1m', channels: [] }),
    };
  },
  isBodyValid: (status, body) => status !== 200 || parseOrUndefined(body) !== undefined,
};

export const scenarios = [alertingApi];
