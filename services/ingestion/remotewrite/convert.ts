import type { TimeSeries } from './decode';

/** What remote-write samples become: raw metrics for the same validation as `POST /metrics`. */
export interface Conversion {
  metrics: {
    name: string | undefined;
    value: number;
    type: 'gauge';
    tags: Record<string, string>;
    timestamp: number;
  }[];
  /** NaN samples (Prometheus staleness markers) carry no value to store and are skipped, not rejected. */
  skippedNaN: number;
}

/** `__name__` becomes the metric name and every other label a tag; each sample is one gauge metric. */
export function seriesToMetrics(series: readonly TimeSeries[]): Conversion {
  const metrics: Conversion['metrics'] = [];
  let skippedNaN = 0;
  for (const one of series) {
    let name: string | undefined;
    const tags: Record<string, string> = {};
    for (const label of one.labels) {
      if (label.name === '__name__') name = label.value;
      else tags[label.name] = label.value;
    }
    for (const sample of one.samples) {
      if (Number.isNaN(sample.value)) skippedNaN++;
      else metrics.push({ name, value: sample.value, type: 'gauge', tags, timestamp: sample.timestamp });
    }
  }
  return { metrics, skippedNaN };
}
