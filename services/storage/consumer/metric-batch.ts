import { PointError, parseJsonPoint } from '../api/points';
import { DEFAULT_TENANT, type Point } from '../series/series';

/**
 * Turns the MetricBatch record values ingestion writes (docs/CONTRACTS.md) into points per tenant:
 * measurement = name, tags = tags, fields = {value}. Pure. A metric storage cannot accept is skipped and counted
 * rather than stopping the partition, since the queue would hand it back forever.
 */
export interface ConvertedBatch {
  byTenant: Map<string, Point[]>;
  skipped: { offset: number; reason: string }[];
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function convertMessages(
  messages: readonly { offset: number; value: unknown; timestamp: number }[],
): ConvertedBatch {
  const byTenant = new Map<string, Point[]>();
  const skipped: ConvertedBatch['skipped'] = [];
  for (const message of messages) {
    const value = message.value;
    if (!isRecord(value) || !Array.isArray(value.metrics)) {
      skipped.push({ offset: message.offset, reason: 'record value is not a MetricBatch' });
      continue;
    }
    const tenant =
      typeof value.tenant === 'string' && value.tenant !== '' && !value.tenant.includes('\0')
        ? value.tenant
        : DEFAULT_TENANT;
    let points = byTenant.get(tenant);
    if (points === undefined) {
      points = [];
      byTenant.set(tenant, points);
    }
    value.metrics.forEach((metric: unknown, index: number) => {
      try {
        const { name, tags, value: sample, timestamp } = isRecord(metric) ? metric : ({} as Record<string, unknown>);
        points!.push(
          parseJsonPoint({ measurement: name, tags, fields: { value: sample }, timestamp }, index, message.timestamp),
        );
      } catch (error) {
        if (!(error instanceof PointError)) throw error;
        skipped.push({ offset: message.offset, reason: error.message });
      }
    });
  }
  return { byTenant, skipped };
}
