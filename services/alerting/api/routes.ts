import type { Express, Request } from 'express';
import { ApiError } from '../../kit/errors';
import { route } from '../../kit/http';
import { alertingError, ErrorCode, RuleError, toApiError } from '../errors';
import { maskChannel, validateChannel } from '../notify/channel';
import type { DeliveryRecord, Outbox } from '../notify/outbox';
import type { ChannelRegistry } from '../notify/registry';
import { validateRule, type Rule } from '../rules/rule';
import type { AlertRecord, Evaluator } from '../scheduler/evaluator';
import { QueryEngineUnavailable, type QueryEngine } from '../scheduler/query-engine';
import { AlertPhase } from '../state/machine';
import type { AlertingStore } from '../store/store';

export interface RouteDependencies {
  evaluator: Evaluator;
  channels: ChannelRegistry;
  outbox: Outbox;
  engine: QueryEngine;
  store: AlertingStore;
  isLeader(): boolean;
}

const PHASES: readonly string[] = Object.values(AlertPhase);

const labelText = (labels: Record<string, string>) =>
  Object.keys(labels)
    .sort()
    .map((key) => `${key}=${labels[key]}`)
    .join(',');

const iso = (time: number | undefined) => (time === undefined ? null : new Date(time).toISOString());

/** One entry of `GET /alerts` (the design document's fields first). */
function alertView(record: AlertRecord, rule: Rule | undefined) {
  return {
    rule: record.rule,
    state: record.state.phase,
    value: record.state.value,
    labels: record.labels,
    activeAt: iso(record.state.activeAt),
    firedAt: iso(record.state.firedAt),
    resolvedAt: iso(record.state.resolvedAt),
    lastNotification: record.lastNotification ?? null,
    lastEvaluation: iso(record.state.evaluatedAt),
    severity: rule?.spec.severity ?? null,
    fingerprint: record.fingerprint,
  };
}

async function checkedRule(body: unknown, engine: QueryEngine, nameFromPath?: string): Promise<Rule> {
  let rule: Rule;
  try {
    rule = validateRule(body, nameFromPath);
  } catch (error) {
    if (error instanceof RuleError) throw toApiError(error);
    throw error;
  }
  let validation;
  try {
    validation = await engine.validate(rule.condition.query);
  } catch (error) {
    if (error instanceof QueryEngineUnavailable)
      throw alertingError(ErrorCode.QueryEngineUnavailable, `cannot validate the query: ${error.message}`);
    throw error;
  }
  if (!validation.isValid) {
    const { code, message, ...extra } = validation.error;
    // The query engine's own code (parse_error, unknown_function, ...) and position, in the translated query.
    throw new ApiError(400, code, message, { ...extra, translated_query: rule.condition.query });
  }
  return rule;
}

function stringParameter(req: Request, name: string): string | undefined {
  const value = req.query[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function addRoutes(app: Express, deps: RouteDependencies): void {
  const { evaluator, channels, outbox, engine, store } = deps;

  app.post(
    '/rules',
    route(async (req, res) => {
      const rule = await checkedRule(req.body, engine);
      if (evaluator.getRule(rule.name))
        throw alertingError(
          ErrorCode.RuleExists,
          `a rule named "${rule.name}" exists; PUT /rules/${rule.name} replaces it`,
        );
      await evaluator.putRule(rule);
      res.status(201).json(rule.spec);
    }),
  );

  app.get('/rules', (_req, res) => {
    res.json({ rules: evaluator.listRules() });
  });

  app.get('/rules/:name', (req, res) => {
    const rule = evaluator.getRule(String(req.params.name));
    if (!rule) throw alertingError(ErrorCode.RuleNotFound, `no rule named "${String(req.params.name)}"`);
    res.json({ ...rule.spec, translated_query: rule.condition.query });
  });

  app.put(
    '/rules/:name',
    route(async (req, res) => {
      const name = String(req.params.name);
      const rule = await checkedRule(req.body, engine, name);
      const isNew = !evaluator.getRule(name);
      await evaluator.putRule(rule);
      res.status(isNew ? 201 : 200).json(rule.spec);
    }),
  );

  app.delete(
    '/rules/:name',
    route(async (req, res) => {
      const name = String(req.params.name);
      if (!evaluator.getRule(name)) throw alertingError(ErrorCode.RuleNotFound, `no rule named "${name}"`);
      await evaluator.deleteRule(name);
      res.status(204).end();
    }),
  );

  app.get(
    '/alerts',
    route(async (req, res) => {
      const states = stringParameter(req, 'state')?.split(',');
      const invalid = states?.find((state) => !PHASES.includes(state));
      if (invalid)
        throw alertingError(ErrorCode.InvalidFilter, `state "${invalid}" is not one of ${PHASES.join(', ')}`);
      const ruleName = stringParameter(req, 'rule');
      // A follower does not evaluate; it answers from the state the leader persisted.
      const records = deps.isLeader()
        ? evaluator.listAlerts()
        : [...(await store.loadCollection('alerts')).values()].map((value) => value as AlertRecord);
      const alerts = records
        .filter((record) => (!states || states.includes(record.state.phase)) && (!ruleName || record.rule === ruleName))
        .map((record) => ({ record, key: `${record.rule}\u0000${labelText(record.labels)}` }))
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
        .map(({ record }) => record)
        .map((record) => alertView(record, evaluator.getRule(record.rule)));
      res.json({ alerts });
    }),
  );

  app.post(
    '/channels',
    route(async (req, res) => {
      let channel;
      try {
        channel = validateChannel(req.body);
      } catch (error) {
        if (error instanceof RuleError) throw toApiError(error);
        throw error;
      }
      if (channels.get(channel.name))
        throw alertingError(ErrorCode.ChannelExists, `a channel named "${channel.name}" exists; delete it first`);
      await channels.add(channel);
      res.status(201).json(maskChannel(channel));
    }),
  );

  app.get('/channels', (_req, res) => {
    res.json({ channels: channels.list().map(maskChannel) });
  });

  app.get('/channels/:name', (req, res) => {
    const channel = channels.get(String(req.params.name));
    if (!channel) throw alertingError(ErrorCode.ChannelNotFound, `no channel named "${String(req.params.name)}"`);
    res.json(maskChannel(channel));
  });

  app.delete(
    '/channels/:name',
    route(async (req, res) => {
      const name = String(req.params.name);
      const channel = channels.get(name);
      if (!channel) throw alertingError(ErrorCode.ChannelNotFound, `no channel named "${name}"`);
      if (channel.isFromFile)
        throw alertingError(ErrorCode.ChannelFromFile, `channel "${name}" comes from the channels file; edit the file`);
      await channels.remove(name);
      res.status(204).end();
    }),
  );

  app.get(
    '/notifications',
    route(async (req, res) => {
      const limit = Number(stringParameter(req, 'limit') ?? 100);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
        throw alertingError(ErrorCode.InvalidFilter, 'limit must be an integer from 1 to 1000');
      const status = stringParameter(req, 'status');
      if (status && !['delivered', 'retrying', 'failed'].includes(status))
        throw alertingError(ErrorCode.InvalidFilter, 'status must be delivered, retrying or failed');
      const channel = stringParameter(req, 'channel');
      const ruleName = stringParameter(req, 'rule');
      const history: DeliveryRecord[] = deps.isLeader()
        ? [...outbox.recent()]
        : [...(await store.loadCollection('deliveries')).values()].map((value) => value as DeliveryRecord);
      const notifications = history
        .filter(
          (record) =>
            (!status || record.status === status) &&
            (!channel || record.channel === channel) &&
            (!ruleName || record.rule === ruleName),
        )
        .sort((a, b) => b.sequence - a.sequence)
        .slice(0, limit);
      const pending = outbox.pending().map((entry) => ({
        id: entry.message.id,
        rule: entry.message.rule,
        channel: entry.message.channel,
        attempts: entry.attempts,
        next_attempt_at: iso(entry.nextAttemptAt),
        last_error: entry.lastError ?? null,
      }));
      res.json({ notifications, pending });
    }),
  );
}
