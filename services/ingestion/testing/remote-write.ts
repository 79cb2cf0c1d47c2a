import { compress } from 'snappyjs';
import type { TimeSeries } from '../remotewrite/decode';

/** Hand-encodes a remote-write 1.0 WriteRequest (the inverse of remotewrite/decode.ts), for tests. */
export function encodeWriteRequest(series: readonly TimeSeries[]): Uint8Array {
  const bytes: number[] = [];
  for (const one of series) {
    const body: number[] = [];
    for (const label of one.labels) {
      const labelBytes = [...field(1, utf8(label.name)), ...field(2, utf8(label.value))];
      body.push(...field(1, labelBytes));
    }
    for (const sample of one.samples) {
      const value = new Uint8Array(new Float64Array([sample.value]).buffer);
      body.push(...field(2, [0x09, ...value, 0x10, ...varint(sample.timestamp)]));
    }
    bytes.push(...field(1, body));
  }
  return Uint8Array.from(bytes);
}

/** The body a Prometheus server would POST: snappy block format over the protobuf. */
export const remoteWriteBody = (series: readonly TimeSeries[]) => Buffer.from(compress(encodeWriteRequest(series)));

const utf8 = (text: string) => [...Buffer.from(text, 'utf8')];

function field(number: number, content: number[]): number[] {
  return [...varint(number * 8 + 2), ...varint(content.length), ...content];
}

/** Two's complement for negatives, as protobuf encodes int64. */
function varint(value: number): number[] {
  let rest = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (rest >= 0x80n) {
    out.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  out.push(Number(rest));
  return out;
}
