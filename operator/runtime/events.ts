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
