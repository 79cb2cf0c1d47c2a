/**
 * Prometheus remote-write 1.0 `WriteRequest` decoding, by hand (pure). Only the fields MetricStream uses are read;
 * everything else (metadata, exemplars, native histograms) is skipped by wire type.
 *
 *   WriteRequest { repeated TimeSeries timeseries = 1; }
 *   TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
 *   Label        { string name = 1; string value = 2; }
 *   Sample       { double value = 1; int64 timestamp = 2; }
 */
export interface Label {
  name: string;
  value: string;
}

export interface Sample {
  value: number;
  timestamp: number;
}

export interface TimeSeries {
  labels: Label[];
  samples: Sample[];
}

export class ProtobufError extends Error {
  override readonly name = 'ProtobufError';

  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at byte ${offset}`);
  }
}

const WireType = { Varint: 0, Fixed64: 1, LengthDelimited: 2, Fixed32: 5 } as const;

const utf8 = new TextDecoder('utf-8');

class Reader {
  position: number;

  constructor(
    private readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.position = start;
  }

  get isDone(): boolean {
    return this.position >= this.end;
  }

  /** Varints up to 64 bits; values above 2^53 lose precision (timestamps never get there). */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let shift = 0; shift < 70; shift += 7) {
      if (this.position >= this.end) throw new ProtobufError('truncated varint', this.position);
      const byte = this.bytes[this.position++];
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new ProtobufError('varint longer than 10 bytes', this.position);
  }

  /** An int64: negative values arrive as 10-byte two's complement varints, re-read exactly with BigInt. */
  int64(): number {
    const start = this.position;
    const unsigned = this.varint();
    if (this.position - start < 10) return unsigned;
    let exact = 0n;
    for (let index = this.position - 1; index >= start; index--)
      exact = (exact << 7n) | BigInt(this.bytes[index] & 0x7f);
    return Number(BigInt.asIntN(64, exact));
  }

  double(): number {
    if (this.end - this.position < 8) throw new ProtobufError('truncated double', this.position);
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.position, 8);
    this.position += 8;
    return view.getFloat64(0, true);
  }

  /** The bounds of a length-delimited field, which the caller reads with a sub-reader. */
  delimited(): Reader {
    const length = this.varint();
    const start = this.position;
    if (length > this.end - start) throw new ProtobufError('length-delimited field runs past its end', start);
    this.position = start + length;
    return new Reader(this.bytes, start, start + length);
  }

  string(): string {
    const field = this.delimited();
    return utf8.decode(this.bytes.subarray(field.position, field.end));
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WireType.Varint:
        this.varint();
        return;
      case WireType.Fixed64:
        this.advance(8);
        return;
      case WireType.LengthDelimited:
        this.delimited();
        return;
      case WireType.Fixed32:
        this.advance(4);
        return;
      default:
        throw new ProtobufError(`unsupported wire type ${wireType}`, this.position);
    }
  }

  private advance(count: number): void {
    if (this.end - this.position < count) throw new ProtobufError('truncated field', this.position);
    this.position += count;
  }

  /** Reads a field tag; returns [fieldNumber, wireType]. */
  tag(): [number, number] {
    const tag = this.varint();
    return [Math.floor(tag / 8), tag % 8];
  }
}

export function decodeWriteRequest(bytes: Uint8Array): TimeSeries[] {
  const reader = new Reader(bytes, 0, bytes.length);
  const series: TimeSeries[] = [];
  while (!reader.isDone) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) series.push(decodeTimeSeries(reader.delimited()));
    else reader.skip(wireType);
  }
  return series;
}

function decodeTimeSeries(reader: Reader): TimeSeries {
  const labels: Label[] = [];
  const samples: Sample[] = [];
  while (!reader.isDone) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) labels.push(decodeLabel(reader.delimited()));
    else if (field === 2 && wireType === WireType.LengthDelimited) samples.push(decodeSample(reader.delimited()));
    else reader.skip(wireType);
  }
  return { labels, samples };
}

function decodeLabel(reader: Reader): Label {
  const label: Label = { name: '', value: '' };
  while (!reader.isDone) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) label.name = reader.string();
    else if (field === 2 && wireType === WireType.LengthDelimited) label.value = reader.string();
    else reader.skip(wireType);
  }
  return label;
}

function decodeSample(reader: Reader): Sample {
  const sample: Sample = { value: 0, timestamp: 0 };
  while (!reader.isDone) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.Fixed64) sample.value = reader.double();
    else if (field === 2 && wireType === WireType.Varint) sample.timestamp = reader.int64();
    else reader.skip(wireType);
  }
  return sample;
}
