export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime?: string;
}

/**
 * Merges freshly computed conditions into the previous ones: a condition whose status did not change keeps its
 * lastTransitionTime, so recomputing status never produces a write on its own.
 */
export function mergeConditions(
  previous: readonly Condition[] | undefined,
  next: readonly Omit<Condition, 'lastTransitionTime'>[],
  now: number,
): Condition[] {
  return next.map((condition) => {
    const before = previous?.find((candidate) => candidate.type === condition.type);
    const lastTransitionTime =
      before && before.status === condition.status && before.lastTransitionTime
        ? before.lastTransitionTime
        : new Date(Math.floor(now / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    return { ...condition, lastTransitionTime };
  });
}

export const findCondition = (conditions: readonly Condition[] | undefined, type: string) =>
  conditions?.find((condition) => condition.type === type);

/** Structural equality of JSON values, ignoring key order; undefined fields count as absent. */
export function isSameJson(left: unknown, right: unknown): boolean {
  if (left === right) return true;
  if (typeof left !== 'object' || typeof right !== 'object' || left === null || right === null) return false;
  if (Array.isArray(left) !== Array.isArray(right)) return false;
  if (Array.isArray(left) && Array.isArray(right))
    return left.length === right.length && left.every((item, index) => isSameJson(item, right[index]));
  const leftRecord = left as Record<string, unknown>;
  const rightRecord = right as Record<string, unknown>;
  const keys = new Set(
    [...Object.keys(leftRecord), ...Object.keys(rightRecord)].filter(
      (key) => leftRecord[key] !== undefined || rightRecord[key] !== undefined,
    ),
  );
  for (const key of keys) if (!isSameJson(leftRecord[key], rightRecord[key])) return false;
  return true;
}
