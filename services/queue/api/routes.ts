import type { ErrorRequestHandler, Express, Request } from 'express';
import { ApiError } from '../../kit/errors';
import { route } from '../../kit/http';
import { invalidRequest } from '../errors';
import type { QueueNode } from '../node/queue-node';
import { parseCommit, parseConsume, parseOffsetsQuery, parseProduceBatch, parseProduceOne, type Limits } from './requests';

/** The client API (docs/CONTRACTS.md) plus the peer-to-peer append used for forwarding. */
export function addQueueRoutes(app: Express, node: QueueNode, limits: Limits): void {
  app.post(
    '/produce',
    route(async (req, res) => {
      const request = parseProduceOne(req.body, limits);
      const [result] = await node.produce(request.topic, request.records);
      res.json(result);
    }),
  );

  app.post(
    '/v1/produce',
    route(async (req, res) => {
      const request = parseProduceBatch(req.body, limits);
      res.json({ results: await node.produce(request.topic, request.records) });
    }),
  );

  app.get(
    '/consume',
    route(async (req, res) => {
      const body = await node.consume(parseConsume(req.query, limits));
      res.type('application/json').send(body);
    }),
  );

  app.post(
    '/commit',
    route(async (req, res) => {
      await node.commitOffset(parseCommit(req.body));
      res.json({ ok: true });
    }),
  );

  app.get(
    '/offsets',
    route(async (req, res) => {
      const { group, topic } = parseOffsetsQuery(req.query);
      res.json({ group, topic, offsets: await node.readOffsets(group, topic, isLocal(req)) });
    }),
  );

  app.get('/topics', (_req, res) => {
    res.json({
      topics: node.topicList().map((topic) => ({ name: topic.name, partitions: topic.partitions })),
    });
  });

  app.get('/cluster', (_req, res) => {
    res.json(node.cluster());
  });

  app.post(
    '/v1/internal/append',
    route(async (req, res) => {
      const request = parseProduceBatch(req.body, limits);
      const body = req.body as { partition?: unknown };
      if (typeof body.partition !== 'number') throw invalidRequest('"partition" must be a number');
      const deadlineHeader = Number(req.headers['x-metricstream-deadline']);
      const deadline = Number.isFinite(deadlineHeader) ? deadlineHeader : Date.now() + 5_000;
      const partition = node.partition(request.topic, body.partition);
      res.json({ base_offset: await node.appendOnLeader(partition, request.records, deadline) });
    }),
  );
}

const isLocal = (req: Request) => req.query.local === '1' || req.query.local === 'true';

/** Every 503 tells the client when to come back (registered before the kit's error handler). */
export const retryAfterOn503: ErrorRequestHandler = (error, _req, res, next) => {
  if (error instanceof ApiError && error.status === 503 && !res.headersSent) {
    const seconds = Number(error.details.retry_after_seconds ?? 1);
    res.setHeader('Retry-After', String(Number.isFinite(seconds) ? seconds : 1));
  }
  next(error);
};
