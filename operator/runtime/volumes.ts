import type { Condition } from './conditions';
import { quantityBytes } from './quantity';

/**
 * Storage changes of a StatefulSet-backed resource. A StatefulSet's volumeClaimTemplates cannot change, so the
 * StatefulSet keeps the claim template it was created with and a larger `spec.storage.size` is applied to the
 * claims themselves (volume expansion). What no volume can do is refused rather than retried in a loop: shrinking,
 * and moving to another StorageClass.
 */

/** Condition type reporting whether the volumes match `spec.storage`. */
export const storageConditionType = 'StorageSynced';

/** The claim name the data volume of one pod gets from the StatefulSet controller: `<template>-<set>-<ordinal>`. */
export const dataClaimPattern = (statefulSetName: string) =>
  new RegExp(`^data-${statefulSetName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-\\d+$`);

export interface VolumeRequest {
  size: string;
  storageClassName?: string;
}

export interface ObservedClaim {
  name: string;
  /** `spec.resources.requests.storage`. */
  requested: string;
  /** `status.capacity.storage`, once a volume is bound. */
  capacity?: string;
  /** Only a bound claim can be expanded (the API server refuses the others). */
  isBound: boolean;
}

export interface VolumeInput {
  desired: VolumeRequest;
  /** The live StatefulSet's data claim template; undefined until the StatefulSet exists. */
  template?: VolumeRequest;
  claims: readonly ObservedClaim[];
}

export type VolumeRefusalReason = 'StorageShrinkRefused' | 'StorageClassChangeRefused' | 'StorageExpansionUnsupported';

export type VolumePlan =
  | { kind: 'synced'; message: string }
  /** Claims to expand to the desired size now (each a patch of its request). */
  | { kind: 'expand'; claims: string[]; message: string }
  /** Nothing to do but wait: a claim not bound yet, or a volume still being resized. */
  | { kind: 'waiting'; message: string }
  | { kind: 'refused'; reason: VolumeRefusalReason; message: string };

const className = (request: { storageClassName?: string } | undefined) =>
  request?.storageClassName ? `"${request.storageClassName}"` : 'the default class';

/** The next storage step: expand claims to the desired size, or refuse what cannot be done to a volume. */
export function planVolumes(input: VolumeInput): VolumePlan {
  const { desired, template, claims } = input;
  if (template && (template.storageClassName ?? '') !== (desired.storageClassName ?? ''))
    return {
      kind: 'refused',
      reason: 'StorageClassChangeRefused',
      message:
        `storage class change to ${className(desired)} refused: the volumes stay in ${className(template)} ` +
        '(a volume cannot move to another class, and a StatefulSet cannot change its claim template)',
    };
  const wanted = quantityBytes(desired.size);
  const largest = [template?.size, ...claims.map((claim) => claim.requested)]
    .filter((size): size is string => size !== undefined)
    .sort((a, b) => quantityBytes(b) - quantityBytes(a))[0];
  if (largest !== undefined && wanted < quantityBytes(largest))
    return {
      kind: 'refused',
      reason: 'StorageShrinkRefused',
      message: `storage size ${desired.size} refused: the volumes already hold ${largest} and a volume cannot shrink`,
    };
  const smaller = claims.filter((claim) => quantityBytes(claim.requested) < wanted);
  const expandable = smaller.filter((claim) => claim.isBound).map((claim) => claim.name);
  if (expandable.length > 0)
    return { kind: 'expand', claims: expandable, message: `expanding ${expandable.join(', ')} to ${desired.size}` };
  if (smaller.length > 0)
    return {
      kind: 'waiting',
      message: `waiting for ${smaller.map((claim) => claim.name).join(', ')} to be bound before expanding to ${desired.size}`,
    };
  const resizing = claims.filter(
    (claim) => claim.capacity !== undefined && quantityBytes(claim.capacity) < quantityBytes(claim.requested),
  );
  if (resizing.length > 0)
    return {
      kind: 'waiting',
      message: `waiting for the storage provider to resize ${resizing.map((claim) => claim.name).join(', ')} to ${desired.size}`,
    };
  return {
    kind: 'synced',
    message: claims.length === 0 ? `volumes will request ${desired.size}` : `every volume requests ${desired.size}`,
  };
}

/** The `StorageSynced` condition for a plan (an expansion in progress is not synced yet). */
export function storageCondition(plan: VolumePlan): Omit<Condition, 'lastTransitionTime' | 'observedGeneration'> {
  switch (plan.kind) {
    case 'synced':
      return { type: storageConditionType, status: 'True', reason: 'Synced', message: plan.message };
    case 'expand':
      return { type: storageConditionType, status: 'False', reason: 'Expanding', message: plan.message };
    case 'waiting':
      return { type: storageConditionType, status: 'False', reason: 'Resizing', message: plan.message };
    case 'refused':
      return { type: storageConditionType, status: 'False', reason: plan.reason, message: plan.message };
    default: {
      const exhaustive: never = plan;
      return exhaustive;
    }
  }
}
