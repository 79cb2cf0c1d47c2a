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
  for (const name of FLOAT_COLUMNS)
    writeFloatColumn(
      writer,
      columns[name],
      name === 'sumsqs' ? predictedSquares(columns.counts, columns.sums) : undefined,
    );
  return writer.bytes();
}

export type RollupColumnName = keyof RollupColumns;

export const ROLLUP_COLUMN_NAMES: readonly RollupColumnName[] = [
  'starts',
  'counts',
  'firstTimes',
  'lastTimes',
  ...FLOAT_COLUMNS,
];

/** Some columns of the rows: starts and counts always (every aggregation needs them), the others when asked. */
export type SomeRollupColumns = Pick<RollupColumns, 'starts' | 'counts'> & Partial<RollupColumns>;

/** Throws BinaryFormatError on bytes encodeRollupColumns did not write. */
export function decodeRollupColumns(bytes: Uint8Array, windowMs: number): RollupColumns {
  return decodeSomeRollupColumns(bytes, windowMs, new Set(ROLLUP_COLUMN_NAMES)) as RollupColumns;
}

/**
 * Decodes starts, counts and the `wanted` columns; the others are skipped over, and reading stops after the last
 * wanted one. sumsqs brings sums (its predictions are made from them). Throws BinaryFormatError on bytes
 * encodeRollupColumns did not write, as far as it reads.
 */
export function decodeSomeRollupColumns(
  bytes: Uint8Array,
  windowMs: number,
  wanted: ReadonlySet<RollupColumnName>,
): SomeRollupColumns {
  const isWanted = (name: RollupColumnName) => wanted.has(name) || (name === 'sums' && wanted.has('sumsqs'));
  const reader = new BinaryReader(bytes);
  const count = reader.readUvarint();
  if (count * 10 > reader.remaining) throw reader.fail(`${count} rollup rows cannot fit`);
  const columns: SomeRollupColumns = { starts: new Float64Array(count), counts: new Float64Array(count) };
  const { starts, counts } = columns;
  for (let index = 0; index < count; index++)
    starts[index] = index === 0 ? reader.readVarint() : starts[index - 1] + reader.readUvarint() * windowMs;
  for (let index = 0; index < count; index++) counts[index] = reader.readUvarint();
  const lastWanted = ROLLUP_COLUMN_NAMES.reduce((last, name, position) => (isWanted(name) ? position : last), 1);
  for (const name of ['firstTimes', 'lastTimes'] as const) {
    if (ROLLUP_COLUMN_NAMES.indexOf(name) > lastWanted) return columns;
    if (!isWanted(name)) {
      reader.skipVarints(count);
      continue;
    }
    const times = new Float64Array(count);
    for (let index = 0; index < count; index++) {
      const offset = reader.readUvarint();
      times[index] = offset === 0 ? NaN : starts[index] + offset - 1;
    }
    columns[name] = times;
  }
  // sums are read before sumsqs, whose predictions they give.
  for (const name of FLOAT_COLUMNS) {
    if (ROLLUP_COLUMN_NAMES.indexOf(name) > lastWanted) return columns;
    if (!isWanted(name)) {
      skipFloatColumn(reader, count);
      continue;
    }
    const column = new Float64Array(count);
    readFloatColumn(reader, column, name === 'sumsqs' ? predictedSquares(counts, columns.sums!) : undefined);
    columns[name] = column;
  }
  if (reader.remaining !== 0) throw reader.fail(`${reader.remaining} bytes after the rollup rows`);
  return columns;
}

const ColumnEncoding = { raw: 0, decimal: 1, nearDecimal: 2, predictedNearDecimal: 3 } as const;

/**
 * What a row's sum of squares is close to: sum² / count (the sum of squares if every value were the mean). The
 * difference is (count - 1) × variance, small for a steady gauge, so it is stored instead of the row-to-row change.
 */
function predictedSquares(counts: Float64Array, sums: Float64Array): Float64Array {
  const predictions = new Float64Array(counts.length);
  for (let index = 0; index < predictions.length; index++) {
    const prediction = (sums[index] * sums[index]) / counts[index];
    predictions[index] = Number.isFinite(prediction) ? prediction : 0;
  }
  return predictions;
}

/** Exponents tried for a near-decimal column: sums of one- or two-decimal values need no more. */
const MAX_NEAR_EXPONENT = 6;
/** Largest residual (in units in the last place) a near-decimal value may carry; beyond it the column is raw. */
const MAX_RESIDUAL = 2 ** 40;
const TWO_TO_32 = 2 ** 32;

/** Views of one float64 as its little-endian 32-bit words: [low, high]. */
const floatView = new Float64Array(1);
const wordView = new Uint32Array(floatView.buffer);

/**
 * How many representable float64s `value` is above `approximation` (negative: below), when both are finite, of one
 * sign, and close; undefined otherwise. Same-sign float64s are ordered like their bit patterns, so this is the
 * difference of the patterns as 64-bit integers, computed from the 32-bit halves exactly.
 */
function residualOf(value: number, approximation: number): number | undefined {
  if (!Number.isFinite(value) || !Number.isFinite(approximation)) return undefined;
  floatView[0] = value;
  const [low, high] = wordView;
  floatView[0] = approximation;
  const [approximationLow, approximationHigh] = wordView;
  const highDifference = high - approximationHigh;
  if (highDifference < -1 || highDifference > 1) return undefined;
  const residual = highDifference * TWO_TO_32 + (low - approximationLow);
  return Math.abs(residual) <= MAX_RESIDUAL ? residual : undefined;
}

/** The float64 `residual` representable values above `approximation` (the inverse of residualOf). */
function applyResidual(approximation: number, residual: number): number {
  if (residual === 0) return approximation;
  floatView[0] = approximation;
  const low = wordView[0] + residual;
  const carry = Math.floor(low / TWO_TO_32);
  wordView[0] = low - carry * TWO_TO_32;
  wordView[1] += carry;
  return floatView[0];
}

const varintBytes = (value: number) => {
  let zigzag = value >= 0 ? value * 2 : -value * 2 - 1;
  let bytes = 1;
  while (zigzag >= 128) {
    zigzag = Math.floor(zigzag / 128);
    bytes++;
  }
  return bytes;
};

interface NearDecimals {
  exponent: number;
  mantissas: Float64Array;
  residuals: Float64Array;
  /** Bytes before deflate, to choose between forms. */
  cost: number;
}

/**
 * Sums and sums of squares of decimals are decimals plus float rounding noise: each value is stored as the nearest
 * mantissa / 10^exponent plus the few units in the last place it differs by, with the exponent that costs least.
 * Bit-exact; undefined when some value is not finite or not close to any such decimal.
 */
function toNearDecimals(column: Float64Array, predictions?: Float64Array): NearDecimals | undefined {
  let best: NearDecimals | undefined;
  let bestCost = Infinity;
  for (let exponent = 0; exponent <= MAX_NEAR_EXPONENT; exponent++) {
    const power = powerOfTen(exponent);
    const mantissas = new Float64Array(column.length);
    const residuals = new Float64Array(column.length);
    let cost = 0;
    let previous = 0;
    let isRepresentable = true;
    for (let index = 0; index < column.length && isRepresentable; index++) {
      // `+ 0` turns a -0 mantissa into the +0 the decoder's running sum produces.
      const mantissa = Math.round(column[index] * power) + 0;
      const base = predictions === undefined ? previous : predictedMantissa(predictions[index], power);
      const residual =
        Math.abs(mantissa) <= MAX_MANTISSA && base !== undefined
          ? residualOf(column[index], mantissa / power)
          : undefined;
      if (residual === undefined || base === undefined) isRepresentable = false;
      else {
        mantissas[index] = mantissa;
        residuals[index] = residual;
        cost += varintBytes(mantissa - base) + varintBytes(residual);
        previous = mantissa;
      }
    }
    if (isRepresentable && cost < bestCost) {
      best = { exponent, mantissas, residuals, cost };
      bestCost = cost;
    }
  }
  return best;
}

const MAX_MANTISSA = 2 ** 50;

/** The mantissa a prediction stands for at a power of ten, when it is a safe one. */
function predictedMantissa(prediction: number, power: number): number | undefined {
  const mantissa = Math.round(prediction * power) + 0;
  return Math.abs(mantissa) <= MAX_MANTISSA ? mantissa : undefined;
}

/**
 * A float column: scaled decimals (exponent, then zigzag deltas of the mantissas) when every value is a small decimal,
 * as min, max, first and last of one-decimal gauges are; near decimals (the same plus a residual in units in the last
 * place per value) when every value is close to one, as sums are; raw float64s otherwise.
 */
function writeFloatColumn(writer: BinaryWriter, column: Float64Array, predictions: Float64Array | undefined): void {
  const decimals = toScaledDecimals(column);
  if (decimals !== undefined) {
    writer.writeByte(ColumnEncoding.decimal);
    writer.writeByte(decimals.exponent);
    writeDeltas(writer, decimals.mantissas);
    return;
  }
  const near = toNearDecimals(column);
  const predicted = predictions === undefined ? undefined : toNearDecimals(column, predictions);
  if (predicted !== undefined && (near === undefined || predicted.cost < near.cost)) {
    writer.writeByte(ColumnEncoding.predictedNearDecimal);
    writer.writeByte(predicted.exponent);
    const power = powerOfTen(predicted.exponent);
    for (let index = 0; index < column.length; index++)
      writer.writeVarint(predicted.mantissas[index] - predictedMantissa(predictions![index], power)!);
    for (let index = 0; index < column.length; index++) writer.writeVarint(predicted.residuals[index]);
    return;
  }
  if (near !== undefined) {
    writer.writeByte(ColumnEncoding.nearDecimal);
    writer.writeByte(near.exponent);
    writeDeltas(writer, near.mantissas);
    for (let index = 0; index < column.length; index++) writer.writeVarint(near.residuals[index]);
    return;
  }
  writer.writeByte(ColumnEncoding.raw);
  for (let index = 0; index < column.length; index++) writer.writeFloat64(column[index]);
}

function writeDeltas(writer: BinaryWriter, mantissas: Float64Array): void {
  let previous = 0;
  for (let index = 0; index < mantissas.length; index++) {
    writer.writeVarint(mantissas[index] - previous);
    previous = mantissas[index];
  }
}

/** Moves past a float column written by writeFloatColumn. */
function skipFloatColumn(reader: BinaryReader, rows: number): void {
  const encoding = reader.readByte();
  switch (encoding) {
    case ColumnEncoding.raw:
      reader.skipBytes(rows * 8);
      return;
    case ColumnEncoding.decimal:
      reader.skipBytes(1);
      reader.skipVarints(rows);
      return;
    case ColumnEncoding.nearDecimal:
    case ColumnEncoding.predictedNearDecimal:
      reader.skipBytes(1);
      reader.skipVarints(2 * rows);
      return;
    default:
      throw reader.fail(`unknown rollup column encoding ${encoding}`);
  }
}

function readFloatColumn(reader: BinaryReader, column: Float64Array, predictions: Float64Array | undefined): void {
  const encoding = reader.readByte();
  if (encoding === ColumnEncoding.raw) {
    for (let index = 0; index < column.length; index++) column[index] = reader.readFloat64();
    return;
  }
  const isPredicted = encoding === ColumnEncoding.predictedNearDecimal;
  if (isPredicted && predictions === undefined) throw reader.fail('a predicted column where none can be');
  if (encoding !== ColumnEncoding.decimal && encoding !== ColumnEncoding.nearDecimal && !isPredicted)
    throw reader.fail(`unknown rollup column encoding ${encoding}`);
  const exponent = reader.readByte();
  if (exponent > MAX_EXPONENT) throw reader.fail(`decimal exponent ${exponent} out of range`);
  const power = powerOfTen(exponent);
  let mantissa = 0;
  for (let index = 0; index < column.length; index++) {
    if (isPredicted) {
      const base = predictedMantissa(predictions![index], power);
      if (base === undefined) throw reader.fail(`rollup prediction out of range at row ${index}`);
      mantissa = base + reader.readVarint();
    } else mantissa += reader.readVarint();
    column[index] = mantissa / power;
  }
  if (encoding === ColumnEncoding.decimal) return;
  for (let index = 0; index < column.length; index++) {
    const residual = reader.readVarint();
    if (Math.abs(residual) > MAX_RESIDUAL) throw reader.fail(`rollup residual ${residual} out of range`);
    column[index] = applyResidual(column[index], residual);
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
