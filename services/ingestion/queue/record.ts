import type { Metric } from '../validation/metric';

/**
 * Serialises the queue record `{"key": client, "value": MetricBatch}` of one accepted request (docs/CONTRACTS.md).
 *
 * Equal to `JSON.stringify` of the same object, about twice as fast, which matters on the hot path. It relies on
 * validation: names and tag keys match patterns with no character JSON must escape, values and timestamps are finite
 * numbers (whose JavaScript string form is their JSON form), so only the client, tenant and tag values need escaping.
 */
export function serializeRecord(client: string, tenant: string, metrics: readonly Metric[]): string {
  const quotedClient = JSON.stringify(client);
  let text = `{"key":${quotedClient},"value":{"tenant":${JSON.stringify(tenant)},"client":${quotedClient},"metrics":[`;
  for (let index = 0; index < metrics.length; index++) {
    const metric = metrics[index];
    if (index > 0) text += ',';
    text += `{"name":"${metric.name}","value":${metric.value},"type":"${metric.type}","tags":{`;
    let isFirstTag = true;
    for (const key in metric.tags) {
      text += `${isFirstTag ? '' : ','}"${key}":${JSON.stringify(metric.tags[key])}`;
      isFirstTag = false;
    }
    text += `},"timestamp":${metric.timestamp}}`;
  }
  return text + ']}}';
}
