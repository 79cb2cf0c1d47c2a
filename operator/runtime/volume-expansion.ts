import type { Condition } from './conditions';
import type { EventRecorder, ReportedReasons } from './events';
import { KubeError, resources, type KubeClient, type KubeObject, type Resource } from './kube';
import {
  dataClaimPattern,
  planVolumes,
  storageConditionType,
  type ObservedClaim,
  type VolumePlan,
  type VolumeRequest,
} from './volumes';

interface ClaimTemplate {
  metadata?: { name?: string };
  spec?: { storageClassName?: string; resources?: { requests?: { storage?: string } } };
  status?: unknown;
}

const claimTemplatesOf = (statefulSet: KubeObject) =>
  ((statefulSet.spec ?? {}) as { volumeClaimTemplates?: ClaimTemplate[] }).volumeClaimTemplates;

/**
 * The live StatefulSet's claim templates, to be applied back unchanged: the API server refuses any change to them,
 * so a new `spec.storage` reaches the volumes through expansion instead (and a peer added later starts at the
 * template's size and is expanded like the others).
 */
export function liveClaimTemplates(statefulSet: KubeObject | undefined): unknown[] | undefined {
  const templates = statefulSet && claimTemplatesOf(statefulSet);
  return templates?.map(({ status: _status, ...template }) => template);
}

function templateRequest(statefulSet: KubeObject | undefined): VolumeRequest | undefined {
  const data = statefulSet && claimTemplatesOf(statefulSet)?.find((template) => template.metadata?.name === 'data');
  const size = data?.spec?.resources?.requests?.storage;
  return size === undefined ? undefined : { size, storageClassName: data?.spec?.storageClassName };
}

interface Claim extends KubeObject {
  spec?: { resources?: { requests?: { storage?: string } } };
  status?: { phase?: string; capacity?: { storage?: string } };
}

export interface VolumeTarget {
  /** The resource whose spec asks for the storage (where conditions and Events go). */
  resource: Resource;
  owner: KubeObject;
  statefulSetName: string;
  statefulSet?: KubeObject;
  /** Labels of the claim template, which the StatefulSet controller copies onto each claim. */
  claimLabels: Record<string, string>;
  desired: VolumeRequest;
  /** The `StorageSynced` condition last written, so that an Event is emitted once per refusal. */
  previous?: Condition;
  reported: ReportedReasons;
}

/**
 * Brings the data volumes of a StatefulSet to `spec.storage`: reads the claims, expands the ones below the desired
 * size (a merge patch of the request; the API server's admission allows it only when the claim's StorageClass has
 * `allowVolumeExpansion`), and records an Event for every expansion and once for every refusal.
 */
export async function syncVolumes(
  client: KubeClient,
  recorder: EventRecorder,
  target: VolumeTarget,
): Promise<VolumePlan> {
  const namespace = target.owner.metadata.namespace ?? 'default';
  const pattern = dataClaimPattern(target.statefulSetName);
  const selector = Object.entries(target.claimLabels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
  const { items } = await client.list<Claim>(resources.persistentVolumeClaim, namespace, selector);
  const claims: ObservedClaim[] = items
    .filter((claim) => pattern.test(claim.metadata.name))
    .flatMap((claim) => {
      const requested = claim.spec?.resources?.requests?.storage;
      return requested === undefined
        ? []
        : [
            {
              name: claim.metadata.name,
              requested,
              capacity: claim.status?.capacity?.storage,
              isBound: claim.status?.phase === 'Bound',
            },
          ];
    });
  const plan = await expand(
    client,
    recorder,
    target,
    claims,
    planVolumes({ desired: target.desired, template: templateRequest(target.statefulSet), claims }),
  );
  const isNewRefusal = target.reported.isNew(
    `${target.owner.metadata.uid}/${storageConditionType}`,
    plan.kind === 'refused' ? plan.reason : undefined,
    target.previous?.reason,
  );
  if (plan.kind === 'refused' && isNewRefusal)
    recorder.record(target.resource, target.owner, 'Warning', plan.reason, plan.message);
  return plan;
}

async function expand(
  client: KubeClient,
  recorder: EventRecorder,
  target: VolumeTarget,
  claims: readonly ObservedClaim[],
  plan: VolumePlan,
): Promise<VolumePlan> {
  if (plan.kind !== 'expand') return plan;
  const namespace = target.owner.metadata.namespace ?? 'default';
  const { size } = target.desired;
  for (const name of plan.claims) {
    try {
      await client.mergePatch(resources.persistentVolumeClaim, namespace, name, {
        spec: { resources: { requests: { storage: size } } },
      });
    } catch (error) {
      // Forbidden: the StorageClass does not allow expansion (or the volume was not provisioned dynamically).
      if (error instanceof KubeError && (error.status === 403 || error.status === 422))
        return {
          kind: 'refused',
          reason: 'StorageExpansionUnsupported',
          message: `expanding ${name} to ${size} was refused by the API server: ${error.message}`,
        };
      throw error;
    }
    const before = claims.find((claim) => claim.name === name)?.requested;
    recorder.record(
      target.resource,
      target.owner,
      'Normal',
      'StorageExpanded',
      `expanded ${name} from ${before} to ${size}`,
    );
  }
  return plan;
}
