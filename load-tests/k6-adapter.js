// Runs a shared scenario definition under k6. Not loaded by Node; type-checked against @types/k6.
import http from 'k6/http';
import { check } from 'k6';
import { Counter } from 'k6/metrics';
import { defaultUrls } from './scenarios/scenario.js';

const FULL = __ENV.LOAD_MODE !== 'smoke';
const statusCounters = {};

/** @param {import('./scenarios/scenario.js').Scenario} scenario */
const baseUrl = (scenario) => __ENV[`${scenario.service.toUpperCase()}_URL`] || defaultUrls[scenario.service];

/** k6 options for several scenarios run together, each as constant VUs with its own thresholds. */
export function k6Options(/** @type {import('./scenarios/scenario.js').Scenario[]} */ scenarios, seconds) {
  /** @type {Record<string, object>} */
  const k6Scenarios = {};
  /** @type {Record<string, string[]>} */
  const thresholds = {};
  for (const scenario of scenarios) {
    const duration = seconds ?? (FULL ? scenario.seconds.full : scenario.seconds.smoke);
    k6Scenarios[scenario.name] = {
      executor: 'constant-vus',
      vus: scenario.connections,
      duration: `${duration}s`,
      exec: execName(scenario),
    };
    thresholds[`http_req_failed{scenario:${scenario.name}}`] = [`rate<${scenario.thresholds.maxErrorRate}`];
    thresholds[`http_req_duration{scenario:${scenario.name}}`] = [`p(99)<${scenario.thresholds.p99Ms}`];
    thresholds[`checks{scenario:${scenario.name}}`] = [`rate>${1 - scenario.thresholds.maxErrorRate}`];
  }
  return { scenarios: k6Scenarios, thresholds };
}

export const execName = (/** @type {{ name: string }} */ scenario) => scenario.name.replace(/[^a-zA-Z0-9]/g, '_');

/** One iteration of a scenario: build the request, send it, check status and body, count the statuses it names. */
export function iterate(/** @type {import('./scenarios/scenario.js').Scenario} */ scenario) {
  const request = scenario.request(__VU - 1, __ITER);
  const response = http.request(request.method, baseUrl(scenario) + request.path, request.body ?? null, {
    headers: request.headers,
    responseCallback: http.expectedStatuses(...scenario.expectedStatuses),
  });
  for (const [label, status] of Object.entries(scenario.countedStatuses ?? {})) {
    const key = `${scenario.name}_${label}`;
    statusCounters[key] ??= new Counter(key);
    if (response.status === status) statusCounters[key].add(1);
  }
  const body = typeof response.body === 'string' ? response.body : '';
  check(response, {
    'status is expected': (r) => scenario.expectedStatuses.includes(r.status),
    'body is valid': (r) => !scenario.isBodyValid || scenario.isBodyValid(r.status, body),
  });
}
