import { isSameJson } from './conditions';
import { apiVersionOf, type KubeClient, type KubeObject, type Resource } from './kube';

/**
 * Writes `status` through server-side apply on the status subresource, only when it differs from the stored one:
 * an unchanged status costs no request, so status updates never feed a reconcile loop. Applying (rather than merge
 * patching) drops fields the operator stopped reporting, such as a peer that left `partitionLeaders`.
 */
export async function applyStatusIfChanged(
  client: KubeClient,
  resource: Resource,
  object: KubeObject & { status?: unknown },
  status: unknown,
): Promise<boolean> {
  if (isSameJson(object.status ?? {}, status)) return false;
  await client.apply(
    resource,
    {
      apiVersion: apiVersionOf(resource),
      kind: resource.kind,
      metadata: { name: object.metadata.name, namespace: object.metadata.namespace },
      status,
    },
    'status',
  );
  return true;
}

export const isControlledBy = (object: KubeObject, owner: KubeObject) =>
  object.metadata.ownerReferences?.some((reference) => reference.controller && reference.uid === owner.metadata.uid) ??
  false;

/** The namespace/name key of the object's controlling owner of the given kind, if any. */
export function controllerKey(object: KubeObject, kind: string): string | undefined {
  const owner = object.metadata.ownerReferences?.find((reference) => reference.controller && reference.kind === kind);
  return owner ? `${object.metadata.namespace}/${owner.name}` : undefined;
}
