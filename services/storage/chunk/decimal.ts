/*
 * Scaled decimals (VictoriaMetrics' "decimal" trick): a gauge rounded to one decimal is an integer count of tenths.
 * Each value v becomes an integer m with v === m / 10^exponent, one exponent per chunk. Division by an exact power
 * of ten is correctly rounded, so it restores exactly the float64 that parsing "m·10^-exponent" gives; every value is
 * still checked bit for bit before a chunk relies on it.
 */

/** 10^k is exact in a float64 up to 10^22; we stop well before because the mantissas must stay small. */
export const MAX_EXPONENT = 18;
const POWERS_OF_TEN = Float64Array.from({ length: MAX_EXPONENT + 1 }, (_, exponent) => 10 ** exponent);

/**
 * Mantissas stay within ±2^50 so that their deltas (< 2^51) and delta-of-deltas (< 2^52) are exact integers too.
 */
const MAX_MANTISSA = 2 ** 50;

export function powerOfTen(exponent: number): number {
  return POWERS_OF_TEN[exponent];
}

export interface ScaledDecimals {
  exponent: number;
  mantissas: Float64Array;
}

/** The scaled form of `values`, or undefined when some value is not a small decimal (NaN, ±Inf, -0, 1e300, π). */
export function toScaledDecimals(values: Float64Array): ScaledDecimals | undefined {
  let exponent = 0;
  for (let index = 0; index < values.length; index++) {
    const value = values[index];
    if (value === 0) {
      if (1 / value < 0) return undefined;
      continue;
    }
    for (;;) {
      const power = POWERS_OF_TEN[exponent];
      const mantissa = Math.round(value * power);
      if (mantissa / power === value && Math.abs(mantissa) <= MAX_MANTISSA) break;
      if (exponent === MAX_EXPONENT || !Number.isFinite(value)) return undefined;
      exponent++;
    }
  }
  const power = POWERS_OF_TEN[exponent];
  const mantissas = new Float64Array(values.length);
  for (let index = 0; index < values.length; index++) {
    const value = values[index];
    const mantissa = Math.round(value * power);
    if (mantissa / power !== value || Math.abs(mantissa) > MAX_MANTISSA) return undefined;
    mantissas[index] = mantissa;
  }
  return { exponent, mantissas };
}
