import type { Express, Request, Response } from 'express';
import type { Clock } from '../../kit/clock';
import { route } from '../../kit/http';
import type { Engine, SeriesSamples } from '../engine/engine';
import { invalidMatcher, invalidPoint, invalidRequest, tooManyPoints, unsupportedMediaType } from '../errors';
import { InvalidMatcherError } from '../index/tag-index';
import { tagRecord } from '../series/series';
import { PointError, SeriesSections, parseJsonPoints, parseLineProtocol, type Precision } from './points';
import { parseAggregateRequest, parseQueryRequest, parseTenant } from './requests';

export interface RoutesOptions {
  engine: Engine;
  clock: Clock;
  /** Largest number of points one `POST /query` answers. */
  maxPoints: number;
}

/** Rejections listed in a write answer; the count is always complete. */
const MAX_LISTED_REJECTIONS = 100;
/** Points per streamed piece of a query answer. */
const POINTS_PER_PIECE = 4096;

export function addRoutes(app: Express, options: RoutesOptions): void {
  const { engine, clock } = options;
  // Line-protocol series sections parsed by earlier requests: most bodies repeat the same series.
  const sections = new SeriesSections();

  app.post(
    '/write',
    route(async (req, res) => {
      const tenant = parseTenant(req.headers['x-metricstream-tenant']);
      const points = readPoints(req, clock.now(), sections);
      const result = await engine.write(tenant, points);
      const body: Record<string, unknown> = { written: result.written };
      if (result.rejections.length > 0) {
        body.rejected = result.rejections.length;
        body.rejections = result.rejections.slice(0, MAX_LISTED_REJECTIONS);
      }
      res.json(body);
    }),
  );

  app.post(
    '/query',
    route(async (req, res) => {
      const tenant = parseTenant(req.headers['x-metricstream-tenant']);
      const request = parseQueryRequest(req.body);
      const series = await withMatcherErrors(() => engine.query(tenant, request.selection, request.start, request.end));
      const total = series.reduce((sum, entry) => sum + entry.samples.timestamps.length, 0);
      if (total > options.maxPoints) throw tooManyPoints(options.maxPoints);
      await streamDataPoints(res, series);
    }),
  );

  app.post(
    '/v1/aggregate',
    route(async (req, res) => {
      const tenant = parseTenant(req.headers['x-metricstream-tenant']);
      const request = parseAggregateRequest(req.body);
      const { groups } = await withMatcherErrors(() => engine.aggregate(tenant, request.selection, request.spec));
      res.json({ groups });
    }),
  );

  app.get(
    '/v1/measurements',
    route(async (req, res) => {
      const tenant = parseTenant(req.headers['x-metricstream-tenant']);
      res.json({ measurements: await engine.measurements(tenant, queryText(req, 'prefix', false)) });
    }),
  );

  app.get(
    '/v1/tag-keys',
    route(async (req, res) => {
      const tenant = parseTenant(req.headers['x-metricstream-tenant']);
      res.json({ tag_keys: await engine.tagKeys(tenant, queryText(req, 'measurement', true)) });
    }),
  );

  app.get(
    '/v1/tag-values',
    route(async (req, res) => {
      const tenant = parseTenant(req.headers['x-metricstream-tenant']);
      const measurement = queryText(req, 'measurement', true);
      res.json({ tag_values: await engine.tagValues(tenant, measurement, queryText(req, 'key', true)) });
    }),
  );
}

function queryText(req: Request, name: string, isRequired: boolean): string {
  const value = req.query[name];
  if (value === undefined && !isRequired) return '';
  if (typeof value !== 'string' || (isRequired && value === ''))
    throw invalidRequest(`query parameter ${name} is required`, { field: name });
  return value;
}

function readPoints(req: Request, now: number, sections: SeriesSections) {
  const contentType = req.headers['content-type'] ?? '';
  try {
    if (req.rawBody !== undefined) {
      if (!/^text\/plain\b/i.test(contentType)) throw unsupportedMediaType(contentType);
      const precision = req.query.precision ?? 'ns';
      if (precision !== 'ns' && precision !== 'us' && precision !== 'ms' && precision !== 's')
        throw invalidRequest('precision must be one of ns, us, ms, s', { field: 'precision' });
      return parseLineProtocol(req.rawBody.toString('utf8'), precision as Precision, now, sections);
    }
    if (req.body === undefined) throw invalidRequest('the body is empty');
    return parseJsonPoints(req.body, now);
  } catch (error) {
    if (error instanceof PointError) throw invalidPoint(error.index, error.reason, error.line);
    throw error;
  }
}

async function withMatcherErrors<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof InvalidMatcherError) throw invalidMatcher(error.message, error.matcher);
    throw error;
  }
}

/**
 * Writes `{"data_points": [...]}` piece by piece (chunked transfer), waiting for the socket to drain, so the JSON text
 * of a large answer is never held whole.
 */
async function streamDataPoints(res: Response, series: readonly SeriesSamples[]): Promise<void> {
  res.status(200).type('application/json');
  let piece = '{"data_points":[';
  let isFirst = true;
  let pointsInPiece = 0;
  for (const { labels, samples } of series) {
    const tags = JSON.stringify(tagRecord(labels.tags));
    for (let index = 0; index < samples.timestamps.length; index++) {
      piece += `${isFirst ? '' : ','}{"timestamp":${samples.timestamps[index]},"value":${JSON.stringify(samples.values[index])},"tags":${tags}}`;
      isFirst = false;
      if (++pointsInPiece >= POINTS_PER_PIECE) {
        if (!res.write(piece)) await drained(res);
        if (res.destroyed) return;
        piece = '';
        pointsInPiece = 0;
      }
    }
  }
  res.end(piece + ']}');
}

/** Resolves when the socket wants more, or when the client has gone (then the caller stops writing). */
function drained(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}
