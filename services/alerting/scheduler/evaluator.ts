import type { Clock } from '../../kit/clock';
import type { Logger } from '../../kit/logger';
import type { AlertingMetrics } from '../metrics';
import type { DeliveryRecord, Outbox } from '../notify/outbox';
import { ZERO_TIME, type AlertPayload, type Message } from '../notify/message';
import { compare } from '../rules/condition';
import { validateRule, type Rule, type RuleSpec } from '../rules/rule';
import { renderAnnotations } from '../rules/template';
import {
  AlertPhase,
  INACTIVE,
  fingerprint,
  nextState,
  type AlertState,
  type Observation,
  type StateRule,
} from '../state/machine';
import type { AlertingStore, StoreChange } from '../store/store';
import { nextSlot, observationsOf, slotOffset } from './observe';
import { QueryEngineUnavailable, type QueryEngine, type QueryResult } from './query-engine';

/** One alert instance: a rule and one group's labels, with its state and the outcome of its last notification. */
export interface AlertRecord {
  rule: string;
  labels: Record<string, string>;
  fingerprint: string;
  state: AlertState;
  lastNotification?: {
    channel: string;
    status: DeliveryRecord['status'];
    at: string;
    attempts: number;
    error?: string;
  };
}

export interface EvaluatorOptions {
  engine: QueryEngine;
  store: AlertingStore;
  outbox: Outbox;
  clock: Clock;
  logger: Logger;
  metrics: AlertingMetrics;
  defaultIntervalMs: number;
  renotifyIntervalMs: number;
  resolvedRetentionMs: number;
  /** Distinct queries per `POST /v1/query/batch` request at most. */
  batchSize: number;
  /** How often the scheduler wakes to look for due rules; the granularity of the spreading. */
  tickMs: number;
  /** Reload rules and channels when another replica changed them (Redis store). */
  watchConfiguration: boolean;
  onConfigurationChange(): Promise<void>;
}

/**
 * The scheduler: holds the rules and the alert instances, evaluates each rule once per interval at its slot, sends
 * the due queries of one wake-up as batches (identical queries once), runs each result through the pure state
 * machine, and persists state changes together with the notifications they produce before handing those to the
 * outbox. Runs only on the leader.
 */
export class Evaluator {
  private readonly rules = new Map<string, Rule>();
  private readonly alerts = new Map<string, AlertRecord>();
  private readonly alertsByRule = new Map<string, Set<string>>();
  private readonly dueAt = new Map<string, number>();
  private readonly busy = new Set<string>();
  /** Each rule's slot offset, computed once per rule version rather than at every wake-up. */
  private readonly offsets = new WeakMap<Rule, number>();
  private readonly running = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private isActive = false;
  private knownVersion = -1;
  private lastVersionCheck = 0;

  constructor(private readonly options: EvaluatorOptions) {}

  load(rules: Map<string, unknown>, alerts: Map<string, unknown>): void {
    this.loadRules(rules);
    this.alerts.clear();
    this.alertsByRule.clear();
    for (const record of alerts.values()) this.remember(record as AlertRecord);
  }

  loadRules(rules: Map<string, unknown>): void {
    const previous = new Map(this.rules);
    this.rules.clear();
    for (const spec of rules.values()) {
      const rule = validateRule(spec);
      this.rules.set(rule.name, rule);
      if (previous.get(rule.name)?.condition.query !== rule.condition.query) this.dueAt.delete(rule.name);
    }
    for (const name of this.dueAt.keys()) if (!this.rules.has(name)) this.dueAt.delete(name);
  }

  listRules(): RuleSpec[] {
    return [...this.rules.values()].map((rule) => rule.spec).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  getRule(name: string): Rule | undefined {
    return this.rules.get(name);
  }

  async putRule(rule: Rule): Promise<void> {
    await this.options.store.apply([{ collection: 'rules', key: rule.name, value: rule.spec }]);
    const previous = this.rules.get(rule.name);
    this.rules.set(rule.name, rule);
    if (previous?.condition.query !== rule.condition.query || previous?.intervalMs !== rule.intervalMs)
      this.dueAt.delete(rule.name);
  }

  /** Deletes the rule and forgets its alerts; the firing ones are resolved first, so no incident stays open. */
  async deleteRule(name: string): Promise<void> {
    const fingerprints = [...(this.alertsByRule.get(name) ?? [])];
    const rule = this.rules.get(name);
    const messages = rule ? this.resolveOnDelete(rule, fingerprints) : [];
    await this.options.store.apply([
      { collection: 'rules', key: name },
      ...fingerprints.map((key): StoreChange => ({ collection: 'alerts', key })),
      ...this.options.outbox.changesFor(messages),
    ]);
    this.rules.delete(name);
    this.dueAt.delete(name);
    for (const key of fingerprints) this.alerts.delete(key);
    this.alertsByRule.delete(name);
    this.options.outbox.accept(messages);
  }

  listAlerts(): AlertRecord[] {
    return [...this.alerts.values()];
  }

  countAlerts(): Record<string, number> {
    const counts: Record<string, number> = { pending: 0, firing: 0, resolved: 0 };
    for (const record of this.alerts.values()) counts[record.state.phase] = (counts[record.state.phase] ?? 0) + 1;
    return counts;
  }

  /** Shows a delivery's outcome on the alerts it carried (`lastNotification` in `GET /alerts`). */
  recordOutcome(message: Message, record: DeliveryRecord): void {
    for (const alert of message.alerts) {
      const found = this.alerts.get(alert.fingerprint);
      if (!found) continue;
      found.lastNotification = {
        channel: record.channel,
        status: record.status,
        at: record.at,
        attempts: record.attempts,
        ...(record.error ? { error: record.error } : {}),
      };
    }
  }

  start(): void {
    if (this.isActive) return;
    this.isActive = true;
    const loop = () => {
      if (!this.isActive) return;
      this.tick();
      this.timer = setTimeout(loop, this.options.tickMs);
    };
    loop();
  }

  async stop(): Promise<void> {
    this.isActive = false;
    clearTimeout(this.timer);
    while (this.running.size > 0) await Promise.all(this.running);
  }

  private intervalOf(rule: Rule): number {
    return rule.intervalMs ?? this.options.defaultIntervalMs;
  }

  /** Starts the evaluations that are due; returns at once (evaluations finish in the background). */
  tick(): void {
    const now = this.options.clock.now();
    if (this.options.watchConfiguration && now - this.lastVersionCheck >= 1000) {
      this.lastVersionCheck = now;
      this.track(this.checkConfiguration());
    }
    const due: Rule[] = [];
    for (const rule of this.rules.values()) {
      if (!rule.spec.enabled) continue;
      const interval = this.intervalOf(rule);
      let offset = this.offsets.get(rule);
      if (offset === undefined) {
        offset = slotOffset(rule.condition.query, interval);
        this.offsets.set(rule, offset);
      }
      let dueAt = this.dueAt.get(rule.name);
      if (dueAt === undefined) {
        dueAt = nextSlot(now, interval, offset);
        this.dueAt.set(rule.name, dueAt);
      }
      if (dueAt > now) continue;
      this.dueAt.set(rule.name, nextSlot(now, interval, offset));
      if (this.busy.has(rule.name)) {
        this.options.metrics.missedEvaluations.inc();
        continue;
      }
      due.push(rule);
    }
    if (due.length === 0) return;
    const byQuery = new Map<string, Rule[]>();
    for (const rule of due) {
      const group = byQuery.get(rule.condition.query);
      if (group) group.push(rule);
      else byQuery.set(rule.condition.query, [rule]);
    }
    const queries = [...byQuery.keys()];
    for (let start = 0; start < queries.length; start += this.options.batchSize) {
      const chunk = queries.slice(start, start + this.options.batchSize);
      this.track(this.evaluateBatch(chunk, byQuery, now));
    }
  }

  private track(work: Promise<void>): void {
    const tracked = work.finally(() => this.running.delete(tracked));
    this.running.add(tracked);
  }

  private async checkConfiguration(): Promise<void> {
    try {
      const version = await this.options.store.configurationVersion();
      if (version !== this.knownVersion) {
        if (this.knownVersion !== -1) await this.options.onConfigurationChange();
        this.knownVersion = version;
      }
    } catch (error) {
      this.options.logger.warn('could not check the configuration version', { error: (error as Error).message });
    }
  }

  private async evaluateBatch(queries: string[], byQuery: Map<string, Rule[]>, now: number): Promise<void> {
    const rules = queries.flatMap((query) => byQuery.get(query)!);
    for (const rule of rules) this.busy.add(rule.name);
    const stopTimer = this.options.metrics.batchDuration.startTimer();
    try {
      let results: QueryResult[];
      try {
        this.options.metrics.queries.inc(queries.length);
        results = await this.options.engine.batch(queries);
      } catch (error) {
        const reason = error instanceof QueryEngineUnavailable ? 'query_engine_unavailable' : 'query_error';
        this.options.metrics.evaluationFailures.inc({ reason }, rules.length);
        this.options.logger.warn('query batch failed', { queries: queries.length, error: (error as Error).message });
        return;
      }
      const changes: StoreChange[] = [];
      const messages: Message[] = [];
      queries.forEach((query, index) => {
        const result = results[index];
        for (const rule of byQuery.get(query)!) {
          if (!this.isActive || this.rules.get(rule.name) !== rule) continue;
          if ('error' in result) {
            this.options.metrics.evaluationFailures.inc({ reason: 'query_error' });
            this.options.logger.warn('rule evaluation failed', { rule: rule.name, error: result.error });
            continue;
          }
          this.options.metrics.evaluations.inc();
          this.evaluateRule(rule, result.series, now, changes, messages);
        }
      });
      if (changes.length === 0 && messages.length === 0) return;
      changes.push(...this.options.outbox.changesFor(messages));
      try {
        await this.options.store.apply(changes);
      } catch (error) {
        // Delivering without a durable record risks a repeat after a crash; staying silent risks a missed page.
        this.options.logger.error('could not persist alert states; notifying anyway', {
          error: (error as Error).message,
        });
      }
      this.options.outbox.accept(messages);
    } finally {
      stopTimer();
      for (const rule of rules) this.busy.delete(rule.name);
    }
  }

  private stateRuleOf(rule: Rule): StateRule {
    return {
      durationMs: rule.durationMs,
      keepFiringForMs: rule.keepFiringForMs,
      renotifyIntervalMs: rule.renotifyIntervalMs ?? this.options.renotifyIntervalMs,
      nodata: rule.spec.nodata,
      resolvedRetentionMs: this.options.resolvedRetentionMs,
    };
  }

  private evaluateRule(
    rule: Rule,
    rows: Record<string, unknown>[],
    now: number,
    changes: StoreChange[],
    messages: Message[],
  ): void {
    const stateRule = this.stateRuleOf(rule);
    const observed = new Map<string, { labels: Record<string, string>; observation: Observation }>();
    for (const group of observationsOf(rows)) {
      const observation: Observation =
        group.value === null
          ? { kind: 'nodata' }
          : {
              kind: 'value',
              value: group.value,
              isTrue: compare(group.value, rule.condition.comparator, rule.condition.threshold),
            };
      observed.set(fingerprint(rule.name, group.labels), { labels: group.labels, observation });
    }
    for (const key of this.alertsByRule.get(rule.name) ?? [])
      if (!observed.has(key))
        observed.set(key, { labels: this.alerts.get(key)!.labels, observation: { kind: 'nodata' } });
    if (observed.size === 0 && rule.condition.groupBy.length === 0)
      observed.set(fingerprint(rule.name, {}), { labels: {}, observation: { kind: 'nodata' } });

    const payloads: AlertPayload[] = [];
    for (const [key, { labels, observation }] of observed) {
      const existing = this.alerts.get(key);
      const previous = existing?.state ?? INACTIVE;
      const transition = nextState(previous, observation, now, stateRule);
      const record: AlertRecord = existing ?? { rule: rule.name, labels, fingerprint: key, state: previous };
      record.state = transition.state;
      if (transition.state.phase === AlertPhase.Inactive) {
        if (existing) {
          this.forget(record);
          changes.push({ collection: 'alerts', key });
        }
      } else {
        if (!existing) this.remember(record);
        if (hasDurableChange(previous, transition.state)) changes.push({ collection: 'alerts', key, value: record });
      }
      for (const notification of transition.notifications)
        payloads.push(this.payloadOf(rule, record, notification.kind, notification.isRepeat));
    }
    messages.push(...this.messagesFor(rule, payloads, now));
  }

  /** One message per channel of the rule, carrying every alert that changed in one evaluation. */
  private messagesFor(rule: Rule, payloads: AlertPayload[], now: number): Message[] {
    if (payloads.length === 0) return [];
    payloads.sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : 1));
    return rule.spec.channels.map((channel) => ({
      id: `${rule.name}/${now}/${channel}`,
      rule: rule.name,
      channel,
      severity: rule.spec.severity,
      createdAt: now,
      alerts: payloads,
    }));
  }

  private resolveOnDelete(rule: Rule, fingerprints: string[]): Message[] {
    const now = this.options.clock.now();
    const payloads = fingerprints
      .map((key) => this.alerts.get(key)!)
      .filter((record) => record.state.phase === AlertPhase.Firing)
      .map((record) =>
        this.payloadOf(rule, { ...record, state: { ...record.state, resolvedAt: now } }, 'resolved', false),
      );
    return this.messagesFor(rule, payloads, now);
  }

  private payloadOf(rule: Rule, record: AlertRecord, status: 'firing' | 'resolved', isRepeat: boolean): AlertPayload {
    const labels = { alertname: rule.name, severity: rule.spec.severity, ...rule.spec.labels, ...record.labels };
    const value = record.state.value;
    return {
      status,
      labels,
      annotations: renderAnnotations(rule.spec.annotations, {
        value,
        labels,
        rule: rule.name,
        threshold: rule.condition.threshold,
      }),
      value,
      startsAt: new Date(record.state.firedAt ?? record.state.activeAt ?? 0).toISOString(),
      endsAt:
        status === 'resolved' ? new Date(record.state.resolvedAt ?? this.options.clock.now()).toISOString() : ZERO_TIME,
      fingerprint: record.fingerprint,
      isRepeat,
    };
  }

  private remember(record: AlertRecord): void {
    this.alerts.set(record.fingerprint, record);
    const keys = this.alertsByRule.get(record.rule);
    if (keys) keys.add(record.fingerprint);
    else this.alertsByRule.set(record.rule, new Set([record.fingerprint]));
  }

  private forget(record: AlertRecord): void {
    this.alerts.delete(record.fingerprint);
    this.alertsByRule.get(record.rule)?.delete(record.fingerprint);
  }
}

/** Values change every evaluation; only phase and timestamps must survive a restart, so only they cause a write. */
function hasDurableChange(previous: AlertState, next: AlertState): boolean {
  return (
    previous.phase !== next.phase ||
    previous.activeAt !== next.activeAt ||
    previous.firedAt !== next.firedAt ||
    previous.resolvedAt !== next.resolvedAt ||
    previous.keepFiringSince !== next.keepFiringSince ||
    previous.notifiedAt !== next.notifiedAt
  );
}
