import type { ErrorRequestHandler, Express, Request } from 'express';
import { ApiError } from '../../kit/errors';
import { route } from '../../kit/http';
import { invalidRequest } from '../errors';
import type { ClusterAdmin } from '../node/admin';
import type { CatchUpNotice, CatchUpStager } from '../node/catch-up';
import type { QueueNode } from '../node/queue-node';
import type { RaftReplication } from '../node/raft-replication';
import type { ConfigChange } from '../raft/types';
import { decodeForwardedParts } from './produce-batch';
import {
  integerParameter,
  isBatchContentType,
  parseCommit,
  parseConsume,
  parseOffsetsQuery,
  parseProduceBatch,
  parseProduceBatchRequest,
  parseProduceOne,
  type Limits,
} from './requests';

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
      const request = parseProduceBatchRequest(
        { body: req.body, rawBody: req.rawBody, contentType: req.headers['content-type'], query: req.query },
        limits,
      );
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
      if (req.rawBody && isBatchContentType(req.headers['content-type'])) {
        res.json({ results: await node.appendForwarded(decodeForwardedParts(req.rawBody)) });
        return;
      }
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

/** Peer-to-peer routes (Raft messages, catch-up) and the operator's cluster endpoints. */
export function addClusterRoutes(
  app: Express,
  node: QueueNode,
  replication: RaftReplication,
  stager: CatchUpStager,
  admin: ClusterAdmin,
): void {
  app.post('/v1/internal/catch-up', (req, res) => {
    const notice = req.body as CatchUpNotice;
    if (typeof notice?.leaderUrl !== 'string' || notice.message?.type !== 'snapshot')
      throw invalidRequest('expected a catch-up notice');
    stager.accept(node.partition(notice.topic, notice.partition), notice, replication);
    res.status(202).json({ ok: true });
  });

  app.get(
    '/v1/internal/log',
    route(async (req, res) => {
      const partition = node.partition(String(req.query.topic), integerParameter(req.query, 'partition'));
      const upTo = integerParameter(req.query, 'to');
      if (upTo > partition.commitIndex) throw invalidRequest(`index ${upTo} is not committed here`);
      await stager.serveLog(partition, upTo, res);
    }),
  );

  app.post('/v1/internal/peer-url', (req, res) => {
    const body = req.body as { id?: unknown; url?: unknown };
    if (typeof body?.id !== 'string' || typeof body.url !== 'string') throw invalidRequest('expected {"id", "url"}');
    admin.learnPeer(body.id, body.url);
    res.json({ ok: true });
  });

  app.post(
    '/v1/internal/config-change',
    route(async (req, res) => {
      const body = req.body as { topic?: unknown; partition?: unknown; change?: ConfigChange };
      const change = body?.change;
      if (
        typeof body?.topic !== 'string' ||
        typeof body.partition !== 'number' ||
        !change ||
        (change.type !== 'add' && change.type !== 'remove') ||
        typeof change.node !== 'string'
      )
        throw invalidRequest('expected {"topic", "partition", "change": {"type", "node"}}');
      const partition = node.partition(body.topic, body.partition);
      const deadlineHeader = Number(req.headers['x-metricstream-deadline']);
      const deadline = Number.isFinite(deadlineHeader) ? deadlineHeader : Date.now() + 5_000;
      await admin.proposeHere(partition, { type: change.type, node: change.node }, deadline);
      res.json({ ok: true });
    }),
  );

  app.post('/v1/internal/draining', (req, res) => {
    const body = req.body as { id?: unknown; ms?: unknown };
    if (typeof body?.id !== 'string' || typeof body.ms !== 'number' || !(body.ms >= 0))
      throw invalidRequest('expected {"id", "ms"}');
    admin.markDraining(body.id, body.ms);
    res.json({ ok: true });
  });

  app.post(
    '/v1/internal/transfer-away',
    route(async (_req, res) => {
      res.json({ remaining: await admin.transferAway() });
    }),
  );

  app.post(
    '/v1/cluster/members',
    route(async (req, res) => {
      const body = req.body as { id?: unknown; url?: unknown };
      if (typeof body?.id !== 'string' || typeof body.url !== 'string')
        throw invalidRequest('body must be {"id", "url"}');
      res.json({ id: body.id, ...(await admin.addMember(body.id, body.url.replace(/\/+$/, ''))) });
    }),
  );

  app.delete(
    '/v1/cluster/members/:id',
    route(async (req, res) => {
      const id = String(req.params.id);
      res.json({ id, ...(await admin.removeMember(id)) });
    }),
  );

  app.post(
    '/v1/cluster/transfer-leadership',
    route(async (req, res) => {
      const body = req.body as { from?: unknown };
      if (typeof body?.from !== 'string' || body.from === '') throw invalidRequest('body must be {"from": "peerId"}');
      res.json(await admin.transferFrom(body.from));
    }),
  );
}
