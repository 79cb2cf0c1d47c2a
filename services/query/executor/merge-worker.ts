import { parentPort } from 'node:worker_threads';
import { QueryError } from '../errors';
import { mergeShardBodies } from './merge';
import type { MergeRequest, MergeReply } from './worker-pool';

/** Worker thread body: parses and merges one answer at a time, off the main event loop. */
parentPort!.on('message', (request: MergeRequest) => {
  let reply: MergeReply;
  try {
    reply = {
      id: request.id,
      rowsJson: JSON.stringify(mergeShardBodies(request.plan, request.bodies, request.limits)),
    };
  } catch (error) {
    reply =
      error instanceof QueryError
        ? { id: request.id, error: { code: error.code, message: error.message, details: { ...error.details } } }
        : { id: request.id, error: { message: (error as Error).message ?? String(error) } };
  }
  parentPort!.postMessage(reply);
});
