import type { SketchWire } from '../../kit/sketch';
import { MAX_EXPONENT, powerOfTen, toScaledDecimals } from '../chunk/decimal';
import type { Rollup } from '../chunk/rollup';
import { BinaryReader, BinaryWriter } from '../encoding/binary';

/**
 * Rollup rows of one series and tier, column by column (FORMAT.md, "Rollups"): aggregations read the scalar columns
 * into typed arrays without touching the sketches, which sit in a separate section read only on request.
 */
export interface RollupColumns {
  starts: Float64Array;
  counts: Float64Array;
  sums: Float64Array;
  sumsqs: Float64Array;
  mins: Float64Array;
  maxs: Float64Array;
  firsts: Float64Array;
  firstTimes: Float64Array;
  lasts: Float64Array;
  lastTimes: Float64Array;
}

const FLOAT_COLUMNS = ['sums', 'sumsqs', 'mins', 'maxs', 'firsts', 'lasts'] as const;

export function columnsOf(rollup: Rollup): RollupColumns {
  const count = rollup.starts.length;
  const columns: RollupColumns = {
    starts: rollup.starts,
    counts: new Float64Array(count),
    sums: new Float64Array(count),
    sumsqs: new Float64Array(count),
    mins: new Float64Array(count),
    maxs: new Float64Array(count),
    firsts: new Float64Array(count),
    firstTimes: new Float64Array(count),
    lasts: new Float64Array(count),
    lastTimes: new Float64Array(count),
  };
  rollup.summaries.forEach((summary, index) => {
    columns.counts[index] = summary.count;
    columns.sums[index] = summary.sum;
    columns.sumsqs[index] = summary.sumsq;
    columns.mins[index] = summary.min;
    columns.maxs[index] = summary.max;
    columns.firsts[index] = summary.first;
    columns.firstTimes[index] = summary.firstTime;
    columns.lasts[index] = summary.last;
    columns.lastTimes[index] = summary.lastTime;
  });
  return columns;
}

/** Rows of every part in order (the parts cover disjoint, ascending time ranges). */
export function concatenateColumns(parts: readonly RollupColumns[]): RollupColumns {
  const total = parts.reduce((sum, part) => sum + part.starts.length, 0);
  const joined = {} as RollupColumns;
  for (const name of Object.keys(parts[0]) as (keyof RollupColumns)[]) {
    const column = new Float64Array(total);
    let position = 0;
    for (const part of parts) {
      column.set(part[name], position);
      position += part[name].length;
    }
    joined[name] = column;
  }
  return joined;
}

/**
 * Scalars: uvarint rows, varint first start, uvarint later starts in windows after the previous, uvarint counts,
 * uvarint first/last time offsets from the row start, then six float columns (writeFloatColumn).
 * The block deflates its whole rollups file as one stream.
 */
export function encodeRollupColumns(columns: RollupColumns, windowMs: number): Uint8Array {
  const count = columns.starts.length;
  const writer = new BinaryWriter(64 + count * 60);
  writer.writeUvarint(count);
  for (let index = 0; index < count; index++) {
    if (index === 0) writer.writeVarint(columns.starts[0]);
    else writer.writeUvarint((columns.starts[index] - columns.starts[index - 1]) / windowMs);
  }
  for (let index = 0; index < count; index++) writer.writeUvarint(columns.counts[index]);
  // An all-NaN row has no first/last time: 0 marks it, real offsets are stored plus one.
  for (const times of [columns.firstTimes, columns.lastTimes])
    for (let index = 0; index < count; index++)
      writer.writeUvarint(Number.isNaN(times[index]) ? 0 : times[index] - columns.starts[index] + 1);
  for (const name of FLOAT_COLUMNS) writeFloatColumn(writer, columns[name]);
  return writer.bytes();
}

/** Throws BinaryFormatError on bytes encodeRollupColumns did not write. */
export function decodeRollupColumns(bytes: Uint8Array, windowMs: number): RollupColumns {
  const reader = new BinaryReader(bytes);
  const count = reader.readUvarint();
  if (count * 10 > reader.remaining) throw reader.fail(`${count} rollup rows cannot fit`);
  const make = () => new Float64Array(count);
  const columns: RollupColumns = {
    starts: make(),
    counts: make(),
    sums: make(),
    sumsqs: make(),
    mins: make(),
    maxs: make(),
    firsts: make(),
    firstTimes: make(),
    lasts: make(),
    lastTimes: make(),
  };
  for (let index = 0; index < count; index++)
    columns.starts[index] =
      index === 0 ? reader.readVarint() : columns.starts[index - 1] + reader.readUvarint() * windowMs;
  for (let index = 0; index < count; index++) columns.counts[index] = reader.readUvarint();
  for (const times of [columns.firstTimes, columns.lastTimes])
    for (let index = 0; index < count; index++) {
      const offset = reader.readUvarint();
      times[index] = offset === 0 ? NaN : columns.starts[index] + offset - 1;
    }
  for (const name of FLOAT_COLUMNS) readFloatColumn(reader, columns[name]);
  if (reader.remaining !== 0) throw reader.fail(`${reader.remaining} bytes after the rollup rows`);
  return columns;
}

const ColumnEncoding = { raw: 0, decimal: 1 } as const;

/**
 * A float column: scaled decimals (exponent, then zigzag deltas of the mantissas) when every value is a small decimal,
 * as min, max, first and last of one-decimal gauges are; raw float64s otherwise (sums usually carry rounding noise).
 */
function writeFloatColumn(writer: BinaryWriter, column: Float64Array): void {
  const decimals = toScaledDecimals(column);
  if (decimals === undefined) {
    writer.writeByte(ColumnEncoding.raw);
    for (let index = 0; index < column.length; index++) writer.writeFloat64(column[index]);
    return;
  }
  writer.writeByte(ColumnEncoding.decimal);
  writer.writeByte(decimals.exponent);
  let previous = 0;
  for (let index = 0; index < column.length; index++) {
    writer.writeVarint(decimals.mantissas[index] - previous);
    previous = decimals.mantissas[index];
  }
}

function readFloatColumn(reader: BinaryReader, column: Float64Array): void {
  const encoding = reader.readByte();
  if (encoding === ColumnEncoding.raw) {
    for (let index = 0; index < column.length; index++) column[index] = reader.readFloat64();
    return;
  }
  if (encoding !== ColumnEncoding.decimal) throw reader.fail(`unknown rollup column encoding ${encoding}`);
  const exponent = reader.readByte();
  if (exponent > MAX_EXPONENT) throw reader.fail(`decimal exponent ${exponent} out of range`);
  const power = powerOfTen(exponent);
  let mantissa = 0;
  for (let index = 0; index < column.length; index++) {
    mantissa += reader.readVarint();
    column[index] = mantissa / power;
  }
}

/** Sketches of the rows: per row uvarint zero, then pos and neg bins as (zigzag index delta, uvarint count). */
export function encodeRollupSketches(sketches: readonly SketchWire[]): Uint8Array {
  const writer = new BinaryWriter(64 + sketches.length * 16);
  writer.writeUvarint(sketches.length);
  writer.writeFloat64(sketches[0]?.alpha ?? 0.01);
  for (const sketch of sketches) {
    writer.writeUvarint(sketch.zero);
    for (const bins of [sketch.pos, sketch.neg]) {
      writer.writeUvarint(bins.length);
      let previous = 0;
      for (const [index, count] of bins) {
        writer.writeVarint(index - previous);
        writer.writeUvarint(count);
        previous = index;
      }
    }
  }
  return writer.bytes();
}

export function decodeRollupSketches(bytes: Uint8Array): SketchWire[] {
  const reader = new BinaryReader(bytes);
  const count = reader.readUvarint();
  const alpha = reader.readFloat64();
  const sketches: SketchWire[] = [];
  for (let row = 0; row < count; row++) {
    const zero = reader.readUvarint();
    const sides: [number, number][][] = [];
    for (let side = 0; side < 2; side++) {
      const length = reader.readUvarint();
      const bins: [number, number][] = [];
      let index = 0;
      for (let bin = 0; bin < length; bin++) {
        index += reader.readVarint();
        bins.push([index, reader.readUvarint()]);
      }
      sides.push(bins);
    }
    sketches.push({ alpha, zero, pos: sides[0], neg: sides[1] });
  }
  return sketches;
}
