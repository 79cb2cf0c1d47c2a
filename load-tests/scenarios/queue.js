import { json, parseOrUndefined } from './scenario.js';

const value = (connection, iteration) => ({
  tenant: 'default',
  client: `client_${connection}`,
  metrics: [
    {
      name: 'cpu_usage',
      value: (iteration % 1000) / 10,
      type: 'gauge',
      tags: { host: `server${connection % 50}` },
      timestamp: 1700000000000 + iteration,
    },
  ],
});

/** Batched produce, 100 records per request, as ingestion does. */
/** @type {import('./scenario.js').Scenario} */
export const queueProduce = {
  name: 'queue-produce',
  description: '20 connections producing batches of 100 ~200-byte records to metrics.inbound',
  service: 'queue',
  connections: 20,
  seconds: { smoke: 5, full: 60 },
  expectedStatuses: [200],
  thresholds: { maxErrorRate: 0.001, p99Ms: 100 },
  request: (connection, iteration) => ({
    method: 'POST',
    path: '/v1/produce',
    headers: { 'Content-Type': 'application/json' },
    body: json({
      topic: 'metrics.inbound',
      records: Array.from({ length: 100 }, (_, index) => ({
        key: `client_${connection}_${index % 10}`,
        value: value(connection, iteration * 100 + index),
      })),
    }),
  }),
  isBodyValid: (_status, body) => parseOrUndefined(body)?.results?.length === 100,
};

/** Consumers reading each partition from the start, 500 at a time. */
/** @type {import('./scenario.js').Scenario} */
export const queueConsume = {
  name: 'queue-consume',
  description: '12 connections (one per partition) reading 500 messages per request',
  service: 'queue',
  connections: 12,
  seconds: { smoke: 5, full: 60 },
  expectedStatuses: [200],
  thresholds: { maxErrorRate: 0.001, p99Ms: 100 },
  request: (connection, iteration) => ({
    method: 'GET',
    path: `/consume?partition=${connection % 12}&offset=${(iteration * 500) % 50_000}&count=500`,
  }),
  isBodyValid: (_status, body) => Array.isArray(parseOrUndefined(body)?.messages),
};

export const scenarios = [queueProduce, queueConsume];
