/**
 * A scenario is plain data plus pure request builders, so both k6 (`k6 run load-tests/<name>.js`) and the Node runner
 * (`npm run load`, autocannon) execute the same definition.
 *
 * @typedef {{ method: string, path: string, headers?: Record<string, string>, body?: string }} LoadRequest
 * @typedef {{
 *   name: string,
 *   description: string,
 *   service: 'ingestion' | 'queue' | 'storage' | 'query' | 'alerting',
 *   connections: number,
 *   seconds: { smoke: number, full: number },
 *   expectedStatuses: number[],
 *   countedStatuses?: Record<string, number>,
 *   thresholds: { maxErrorRate: number, p99Ms: number, minRequestsPerSecond?: number },
 *   request: (connection: number, iteration: number) => LoadRequest,
 *   isBodyValid?: (status: number, body: string) => boolean,
 * }} Scenario
 */

/** Deterministic pseudo-random in [0, 1) from two integers, so runs are repeatable without shared state. */
export function noise(a, b) {
  let x = (Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x7f4a7c15, 0xc2b2ae35)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b) >>> 0;
  return ((x ^ (x >>> 13)) >>> 0) / 4294967296;
}

export const json = (value) => JSON.stringify(value);

/** @param {string} body */
export function parseOrUndefined(body) {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** Default local-platform addresses; override with INGESTION_URL, QUEUE_URL, ... */
export const defaultUrls = {
  ingestion: 'http://127.0.0.1:8080',
  queue: 'http://127.0.0.1:8081',
  storage: 'http://127.0.0.1:8082',
  query: 'http://127.0.0.1:8083',
  alerting: 'http://127.0.0.1:8084',
};
