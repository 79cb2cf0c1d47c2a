import { ingestionCeiling } from './ingestion.js';
import { queryDashboard } from './query.js';

/**
 * A mixed soak: ingestion at a fixed share of the ceiling plus dashboard queries, for minutes; the runner samples each
 * service's resident memory and fails when it keeps growing.
 */
export const soak = {
  name: 'soak',
  description: 'ingestion (50 connections) and dashboard queries (5 connections) together; RSS must stay flat',
  /** @type {import('./scenario.js').Scenario[]} */
  parts: [
    { ...ingestionCeiling, name: 'soak-ingestion', connections: 50 },
    { ...queryDashboard, name: 'soak-query', connections: 5 },
  ],
  seconds: { smoke: 10, full: 300 },
  /** Allowed growth of RSS between the second quarter and the end of the run. */
  maxRssGrowth: 0.25,
};
