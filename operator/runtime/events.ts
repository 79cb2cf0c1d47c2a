import { apiVersionOf, resources, type KubeClient, type KubeObject, type Resource } from './kube';
import type { Logger } from '../../services/kit/logger';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  record(resource: Resource, object: KubeObject, type: EventType, reason: string, message: string): void;
}

/**
 * Writes core/v1 Events (what `kubectl describe` shows). Recording never fails the reconcile that asked for it: an
 * Event that cannot be written is logged and dropped.
 */
export class KubeEventRecorder implements EventRecorder {
  constructor(
    private readonly client: KubeClient,
    private readonly logger: Logger,
    private readonly now: () => number,
    private readonly component = 'metricstream-operator',
  ) {}

  record(resource: Resource, object: KubeObject, type: EventType, reason: string, message: string): void {
    const namespace = object.metadata.namespace ?? 'default';
    const timestamp = new Date(this.now()).toISOString();
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${object.metadata.name}.`, namespace, name: '' },
      involvedObject: {
        apiVersion: apiVersionOf(resource),
        kind: resource.kind,
        name: object.metadata.name,
        namespace,
        uid: object.metadata.uid,
        resourceVersion: object.metadata.resourceVersion,
      },
      type,
      reason,
      message: message.slice(0, 1024),
      source: { component: this.component },
      reportingComponent: this.component,
      firstTimestamp: timestamp,
      lastTimestamp: timestamp,
      count: 1,
    };
    this.logger.info('event', {
      object: `${namespace}/${object.metadata.name}`,
      kind: resource.kind,
      type,
      reason,
      message,
    });
    this.client.create(resources.event, event as unknown as KubeObject).catch((error: unknown) => {
      this.logger.warn('could not record event', { reason, error: String(error) });
    });
  }
}

/**
 * Which refusal was last reported for each object, so that one is reported once. The stored condition alone is not
 * enough: the informer cache can lag this operator's own status write, and a reconcile reading the older status
 * would report the same refusal again.
 */
export class ReportedReasons {
  private readonly reasons = new Map<string, string>();

  /**
   * Whether `reason` (undefined: no refusal now) should be reported for `key`: it is neither the stored
   * condition's reason nor the one reported last. Remembers it either way.
   */
  isNew(key: string, reason: string | undefined, storedReason: string | undefined): boolean {
    if (reason === undefined) {
      this.reasons.delete(key);
      return false;
    }
    const isNew = reason !== storedReason && reason !== this.reasons.get(key);
    this.reasons.set(key, reason);
    return isNew;
  }
}
