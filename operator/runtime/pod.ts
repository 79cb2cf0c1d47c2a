/** Pod-spec pieces every MetricStream StatefulSet shares: probes, a locked-down container, and its data volume. */

/** Pods run as a fixed non-root user with the runtime's default seccomp profile. */
export const podSecurityContext = () => ({
  runAsNonRoot: true,
  runAsUser: 10001,
  fsGroup: 10001,
  seccompProfile: { type: 'RuntimeDefault' },
});

/** Probes, security context and mounts of a service container that keeps its data under /data. */
export const serviceContainerDefaults = () => ({
  readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 5 },
  livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10, failureThreshold: 6 },
  securityContext: {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
  },
  volumeMounts: [
    { name: 'data', mountPath: '/data' },
    { name: 'tmp', mountPath: '/tmp' },
  ],
});

export const scratchVolumes = () => [{ name: 'tmp', emptyDir: {} }];

export function dataVolumeClaim(
  labels: Record<string, string>,
  storage: { size?: string; storageClassName?: string } | undefined,
  defaultSize: string,
) {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'data', labels },
    spec: {
      accessModes: ['ReadWriteOnce'],
      ...(storage?.storageClassName && { storageClassName: storage.storageClassName }),
      resources: { requests: { storage: storage?.size ?? defaultSize } },
    },
  };
}
