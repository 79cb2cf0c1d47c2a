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
