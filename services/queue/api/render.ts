import type { ConsumedRecord } from '../log/segment-log';

/**
 * The consume response, written straight into one Buffer: stored values already are JSON text, so their bytes are
 * copied in as they are instead of being decoded, parsed or serialised again.
 */
export function renderConsumeBody(records: readonly ConsumedRecord[], nextOffset: number): Buffer {
  const prefixes = records.map(
    (record, index) =>
      `${index === 0 ? '' : ','}{"offset":${record.offset},"key":${JSON.stringify(record.key)},"value":`,
  );
  const suffixes = records.map((record) => `,"timestamp":${record.timestamp}}`);
  const head = '{"messages":[';
  const tail = `],"next_offset":${nextOffset}}`;
  let size = head.length + tail.length;
  for (let index = 0; index < records.length; index++)
    size += Buffer.byteLength(prefixes[index]) + records[index].value.length + suffixes[index].length;
  const out = Buffer.allocUnsafe(size);
  let position = out.write(head, 0, 'latin1');
  for (let index = 0; index < records.length; index++) {
    position += out.write(prefixes[index], position, 'utf8');
    out.set(records[index].value, position);
    position += records[index].value.length;
    position += out.write(suffixes[index], position, 'latin1');
  }
  out.write(tail, position, 'latin1');
  return out;
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
