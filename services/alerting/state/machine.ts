import type { NodataPolicy } from '../rules/rule';

/**
 * The life of one alert instance (a rule plus one group's labels), as a pure function in the manner of Prometheus's
 * `AlertingRule.Eval`: the evaluation time and the observation come in, the next state and the notifications to send
 * come out. Nothing here reads a clock or does I/O, so every sequence is replayable from a table.
 *
 *   inactive ──true──▶ pending ──true for ≥ duration──▶ firing ──false (after keep_firing_for)──▶ resolved
 *      ▲                 │ false                          │ true: re-notify every renotify interval      │ true
 *      └─────────────────┴──────── resolved and false for the resolved retention ◀──────────────────────┘ → pending
 */
export const AlertPhase = {
  Inactive: 'inactive',
  Pending: 'pending',
  Firing: 'firing',
  Resolved: 'resolved',
} as const;
export type AlertPhase = (typeof AlertPhase)[keyof typeof AlertPhase];

export interface AlertState {
  phase: AlertPhase;
  /** The last observed value; null when the last evaluation had no data. */
  value: number | null;
  /** When the condition became true (start of pending). */
  activeAt?: number;
  firedAt?: number;
  resolvedAt?: number;
  /** First evaluation at which a firing alert's condition was false again, for `keep_firing_for`. */
  keepFiringSince?: number;
  /** When the last firing notification (first or repeat) was emitted, for the re-notify interval. */
  notifiedAt?: number;
  evaluatedAt?: number;
}

export type Observation = { kind: 'value'; value: number; isTrue: boolean } | { kind: 'nodata' };

export interface StateRule {
  durationMs: number;
  keepFiringForMs: number;
  /** 0 never repeats a firing notification. */
  renotifyIntervalMs: number;
  nodata: NodataPolicy;
  /** How long a resolved alert stays visible before it becomes inactive (Prometheus keeps 15 minutes). */
  resolvedRetentionMs: number;
}

export type NotificationKind = 'firing' | 'resolved';
export interface StateNotification {
  kind: NotificationKind;
  /** A reminder for an alert that keeps firing rather than a change. */
  isRepeat: boolean;
}

export interface Transition {
  state: AlertState;
  notifications: StateNotification[];
}

export const INACTIVE: AlertState = Object.freeze({ phase: AlertPhase.Inactive, value: null });

/** `nodata` means what the rule says: a false condition, a true one, or the previous observation again. */
function resolveObservation(
  state: AlertState,
  observation: Observation,
  policy: NodataPolicy,
): { value: number | null; isTrue: boolean } {
  if (observation.kind === 'value') return { value: observation.value, isTrue: observation.isTrue };
  switch (policy) {
    case 'ok':
      return { value: null, isTrue: false };
    case 'alerting':
      return { value: null, isTrue: true };
    case 'keep_last':
      return {
        value: state.value,
        isTrue: state.phase === AlertPhase.Pending || state.phase === AlertPhase.Firing,
      };
    default: {
      const exhaustive: never = policy;
      return exhaustive;
    }
  }
}

export function nextState(state: AlertState, observation: Observation, now: number, rule: StateRule): Transition {
  const { value, isTrue } = resolveObservation(state, observation, rule.nodata);
  const base = { ...state, value, evaluatedAt: now };
  return isTrue ? whenTrue(base, now, rule) : whenFalse(base, now, rule);
}

function fire(state: AlertState, now: number): Transition {
  return {
    state: { ...state, phase: AlertPhase.Firing, firedAt: now, notifiedAt: now, keepFiringSince: undefined },
    notifications: [{ kind: 'firing', isRepeat: false }],
  };
}

function whenTrue(state: AlertState, now: number, rule: StateRule): Transition {
  switch (state.phase) {
    case AlertPhase.Inactive:
    case AlertPhase.Resolved: {
      const pending: AlertState = {
        phase: AlertPhase.Pending,
        value: state.value,
        activeAt: now,
        evaluatedAt: now,
      };
      return rule.durationMs === 0 ? fire(pending, now) : { state: pending, notifications: [] };
    }
    case AlertPhase.Pending:
      return now - (state.activeAt ?? now) >= rule.durationMs ? fire(state, now) : { state, notifications: [] };
    case AlertPhase.Firing: {
      const steady = { ...state, keepFiringSince: undefined };
      const isDue =
        rule.renotifyIntervalMs > 0 && now - (state.notifiedAt ?? state.firedAt ?? now) >= rule.renotifyIntervalMs;
      return isDue
        ? { state: { ...steady, notifiedAt: now }, notifications: [{ kind: 'firing', isRepeat: true }] }
        : { state: steady, notifications: [] };
    }
    default: {
      const exhaustive: never = state.phase;
      return exhaustive;
    }
  }
}

function whenFalse(state: AlertState, now: number, rule: StateRule): Transition {
  switch (state.phase) {
    case AlertPhase.Inactive:
      return { state, notifications: [] };
    case AlertPhase.Pending:
      return { state: { phase: AlertPhase.Inactive, value: state.value, evaluatedAt: now }, notifications: [] };
    case AlertPhase.Firing: {
      const since = state.keepFiringSince ?? now;
      if (rule.keepFiringForMs > 0 && now - since < rule.keepFiringForMs)
        return { state: { ...state, keepFiringSince: since }, notifications: [] };
      return {
        state: { ...state, phase: AlertPhase.Resolved, resolvedAt: now, keepFiringSince: undefined },
        notifications: [{ kind: 'resolved', isRepeat: false }],
      };
    }
    case AlertPhase.Resolved:
      return now - (state.resolvedAt ?? now) >= rule.resolvedRetentionMs
        ? { state: { phase: AlertPhase.Inactive, value: state.value, evaluatedAt: now }, notifications: [] }
        : { state, notifications: [] };
    default: {
      const exhaustive: never = state.phase;
      return exhaustive;
    }
  }
}

/**
 * A stable identity for (rule, labels), as 16 hex digits: two 32-bit FNV-1a style hashes (different offset bases and primes) over the
 * rule name and the sorted labels. Computed for every group at every evaluation, so it avoids BigInt arithmetic.
 */
export function fingerprint(rule: string, labels: Readonly<Record<string, string>>): string {
  const text = [
    rule,
    ...Object.keys(labels)
      .sort()
      .map((key) => `${key}\u0000${labels[key]}`),
  ].join('\u0001');
  let first = 0x811c9dc5;
  let second = 0x2f8a6b1d;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    first = Math.imul(first ^ code, 0x01000193) >>> 0;
    second = Math.imul(second ^ code, 0x5bd1e995) >>> 0;
  }
  return first.toString(16).padStart(8, '0') + second.toString(16).padStart(8, '0');
}
