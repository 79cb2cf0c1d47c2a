import https from 'node:https';
import http from 'node:http';
import { KubeConfig, PatchStrategy, Watch } from '@kubernetes/client-node';

/** The one field manager every server-side apply of the operator uses. */
export const fieldManager = 'metricstream-operator';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  deletionTimestamp?: string;
  creationTimestamp?: string;
  ownerReferences?: OwnerReference[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** Where a kind lives in the API: `/apis/{group}/{version}/namespaces/{namespace}/{plural}`. */
export interface Resource {
  group: string;
  version: string;
  plural: string;
  kind: string;
}

export const resources = {
  queueCluster: { group: 'metricstream.io', version: 'v1alpha1', plural: 'queueclusters', kind: 'QueueCluster' },
  storageShard: { group: 'metricstream.io', version: 'v1alpha1', plural: 'storageshards', kind: 'StorageShard' },
  alertRule: { group: 'metricstream.io', version: 'v1alpha1', plural: 'alertrules', kind: 'AlertRule' },
  statefulSet: { group: 'apps', version: 'v1', plural: 'statefulsets', kind: 'StatefulSet' },
  service: { group: '', version: 'v1', plural: 'services', kind: 'Service' },
  configMap: { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap' },
  pod: { group: '', version: 'v1', plural: 'pods', kind: 'Pod' },
  persistentVolumeClaim: { group: '', version: 'v1', plural: 'persistentvolumeclaims', kind: 'PersistentVolumeClaim' },
  event: { group: '', version: 'v1', plural: 'events', kind: 'Event' },
  podDisruptionBudget: { group: 'policy', version: 'v1', plural: 'poddisruptionbudgets', kind: 'PodDisruptionBudget' },
  lease: { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease' },
} as const satisfies Record<string, Resource>;

export const apiVersionOf = (resource: Resource) =>
  resource.group ? `${resource.group}/${resource.version}` : resource.version;

export function resourcePath(
  resource: Resource,
  namespace?: string,
  name?: string,
  subresource?: 'status' | 'scale',
): string {
  const root = resource.group ? `/apis/${resource.group}/${resource.version}` : `/api/${resource.version}`;
  const scoped = namespace ? `${root}/namespaces/${encodeURIComponent(namespace)}` : root;
  const collection = `${scoped}/${resource.plural}`;
  if (!name) return collection;
  return `${collection}/${encodeURIComponent(name)}${subresource ? `/${subresource}` : ''}`;
}

/** A failed API call, with the API server's Status reason (`NotFound`, `Conflict`, `Invalid`, ...). */
export class KubeError extends Error {
  override readonly name = 'KubeError';

  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export const isNotFound = (error: unknown) => error instanceof KubeError && error.status === 404;
export const isConflict = (error: unknown) => error instanceof KubeError && error.status === 409;

export interface ListResult<T extends KubeObject> {
  items: T[];
  resourceVersion: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchHandle {
  abort(): void;
}

/** The narrow API the operator needs; tests of reconcilers can supply their own. */
export interface KubeClient {
  get<T extends KubeObject>(resource: Resource, namespace: string, name: string): Promise<T>;
  list<T extends KubeObject>(resource: Resource, namespace?: string, labelSelector?: string): Promise<ListResult<T>>;
  watch(
    resource: Resource,
    namespace: string | undefined,
    query: Record<string, string | number | boolean | undefined>,
    onEvent: (type: WatchEventType, object: KubeObject) => void,
    onDone: (error?: unknown) => void,
  ): Promise<WatchHandle>;
  /** Server-side apply with the operator's field manager, taking over conflicting fields (`force=true`). */
  apply<T extends KubeObject>(resource: Resource, object: T, subresource?: 'status'): Promise<T>;
  /** JSON merge patch of the object or its status subresource. */
  mergePatch<T extends KubeObject>(
    resource: Resource,
    namespace: string,
    name: string,
    patch: unknown,
    subresource?: 'status',
  ): Promise<T>;
  create<T extends KubeObject>(resource: Resource, object: T): Promise<T>;
  replace<T extends KubeObject>(resource: Resource, object: T): Promise<T>;
  delete(resource: Resource, namespace: string, name: string): Promise<void>;
}

/** Loads the kubeconfig: a file when given, else the in-cluster service account. */
export function loadKubeConfig(kubeconfigPath: string | undefined): KubeConfig {
  const config = new KubeConfig();
  if (kubeconfigPath) config.loadFromFile(kubeconfigPath);
  else config.loadFromCluster();
  return config;
}

interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
}

/**
 * KubeClient over the client library's KubeConfig (TLS, tokens, exec credentials) and Watch. Plain JSON requests
 * are made here rather than through the generated typed APIs, which convert timestamps into Date objects and would
 * make listed and watched copies of the same object differ.
 */
export class HttpKubeClient implements KubeClient {
  private readonly watcher: Watch;
  /** The first request's agent, kept so connections are reused (the library builds a new agent per call). */
  private agent: https.RequestOptions['agent'];

  constructor(
    private readonly config: KubeConfig,
    private readonly timeoutMs = 30_000,
  ) {
    this.watcher = new Watch(config);
  }

  get<T extends KubeObject>(resource: Resource, namespace: string, name: string): Promise<T> {
    return this.request<T>('GET', resourcePath(resource, namespace, name));
  }

  async list<T extends KubeObject>(
    resource: Resource,
    namespace?: string,
    labelSelector?: string,
  ): Promise<ListResult<T>> {
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.request<{ items: T[]; metadata: { resourceVersion: string; continue?: string } }>(
        'GET',
        resourcePath(resource, namespace),
        { query: { labelSelector, limit: 500, continue: continueToken } },
      );
      const apiVersion = apiVersionOf(resource);
      for (const item of page.items) items.push({ ...item, apiVersion, kind: resource.kind });
      resourceVersion = page.metadata.resourceVersion;
      continueToken = page.metadata.continue || undefined;
    } while (continueToken);
    return { items, resourceVersion };
  }

  async watch(
    resource: Resource,
    namespace: string | undefined,
    query: Record<string, string | number | boolean | undefined>,
    onEvent: (type: WatchEventType, object: KubeObject) => void,
    onDone: (error?: unknown) => void,
  ): Promise<WatchHandle> {
    const controller = await this.watcher.watch(
      resourcePath(resource, namespace),
      query,
      (type, object) => onEvent(type as WatchEventType, object as KubeObject),
      onDone,
    );
    return { abort: () => controller.abort() };
  }

  apply<T extends KubeObject>(resource: Resource, object: T, subresource?: 'status'): Promise<T> {
    const { namespace, name } = object.metadata;
    return this.request<T>('PATCH', resourcePath(resource, namespace, name, subresource), {
      query: { fieldManager, force: true },
      body: object,
      contentType: PatchStrategy.ServerSideApply,
    });
  }

  mergePatch<T extends KubeObject>(
    resource: Resource,
    namespace: string,
    name: string,
    patch: unknown,
    subresource?: 'status',
  ): Promise<T> {
    return this.request<T>('PATCH', resourcePath(resource, namespace, name, subresource), {
      query: { fieldManager },
      body: patch,
      contentType: PatchStrategy.MergePatch,
    });
  }

  create<T extends KubeObject>(resource: Resource, object: T): Promise<T> {
    return this.request<T>('POST', resourcePath(resource, object.metadata.namespace), {
      query: { fieldManager },
      body: object,
    });
  }

  replace<T extends KubeObject>(resource: Resource, object: T): Promise<T> {
    return this.request<T>('PUT', resourcePath(resource, object.metadata.namespace, object.metadata.name), {
      query: { fieldManager },
      body: object,
    });
  }

  async delete(resource: Resource, namespace: string, name: string): Promise<void> {
    await this.request('DELETE', resourcePath(resource, namespace, name));
  }

  private async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const cluster = this.config.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    const url = new URL(cluster.server + path);
    for (const [key, value] of Object.entries(options.query ?? {}))
      if (value !== undefined) url.searchParams.set(key, String(value));
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const requestOptions: https.RequestOptions = {
      method,
      headers: {
        Accept: 'application/json',
        ...(body !== undefined && {
          'Content-Type': options.contentType ?? 'application/json',
          'Content-Length': Buffer.byteLength(body),
        }),
      },
      timeout: this.timeoutMs,
    };
    // Applied per request: credentials such as a projected service-account token are re-read when they rotate.
    await this.config.applyToHTTPSOptions(requestOptions);
    this.agent ??= requestOptions.agent;
    requestOptions.agent = this.agent;
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise<T>((resolve, reject) => {
      const request = transport.request(url, requestOptions, (response) => {
        const parts: Buffer[] = [];
        response.on('data', (part: Buffer) => parts.push(part));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(parts).toString('utf8');
          const status = response.statusCode ?? 0;
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          if (status >= 200 && status < 300) resolve(parsed as T);
          else {
            const statusBody = parsed as { reason?: string; message?: string } | undefined;
            reject(
              new KubeError(
                status,
                statusBody?.reason ?? 'Unknown',
                `${method} ${path}: ${status} ${statusBody?.message ?? text.slice(0, 500)}`,
              ),
            );
          }
        });
      });
      request.on('timeout', () =>
        request.destroy(new Error(`${method} ${path}: timed out after ${this.timeoutMs} ms`)),
      );
      request.on('error', reject);
      request.end(body);
    });
  }
}
