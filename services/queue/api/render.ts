import type { ConsumedRecord } from '../log/segment-log';

/**
 * The consume response, written as text: stored values already are JSON text, so they are spliced in as they are
 * instead of being parsed and serialised again.
 */
export function renderConsumeBody(records: readonly ConsumedRecord[], nextOffset: number): string {
  const parts: string[] = [];
  for (const record of records)
    parts.push(
      `{"offset":${record.offset},"key":${JSON.stringify(record.key)},"value":${Buffer.from(record.value.buffer, record.value.byteOffset, record.value.byteLength).toString('utf8')},"timestamp":${record.timestamp}}`,
    );
  return `{"messages":[${parts.join(',')}],"next_offset":${nextOffset}}`;
}

/** The body a peer forwards to a partition's leader: values stay JSON text. */
export function renderAppendBody(
  topic: string,
  partition: number,
  records: ReadonlyArray<{ key: string; value: Buffer }>,
): string {
  const parts = records.map(
    (record) => `{"key":${JSON.stringify(record.key)},"value":${record.value.toString('utf8')}}`,
  );
  return `{"topic":${JSON.stringify(topic)},"partition":${partition},"records":[${parts.join(',')}]}`;
}
