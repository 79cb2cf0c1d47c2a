import fc from 'fast-check';
import { DDSketch } from './sketch';

const exactQuantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))];
};

describe('DDSketch', () => {
  it('answers quantiles within its relative error', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 300 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (values, q) => {
          const sketch = new DDSketch(0.01);
          values.forEach((value) => sketch.add(value));
          const exact = exactQuantile(values, q);
          const estimate = sketch.quantile(q);
          expect(Math.abs(estimate - exact)).toBeLessThanOrEqual(Math.abs(exact) * 0.01 + 1e-9);
        },
      ),
    );
  });

  it('merging two sketches equals sketching the union', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1e4, noNaN: true })),
        fc.array(fc.double({ min: -50, max: 1e4, noNaN: true })),
        (left, right) => {
          const merged = new DDSketch();
          left.forEach((value) => merged.add(value));
          const other = new DDSketch();
          right.forEach((value) => other.add(value));
          merged.merge(DDSketch.fromWire(JSON.parse(JSON.stringify(other.toWire()))));
          const union = new DDSketch();
          [...left, ...right].forEach((value) => union.add(value));
          expect(merged.count).toBe(union.count);
          for (const q of [0, 0.5, 0.9, 0.99, 1]) expect(merged.quantile(q)).toBe(union.quantile(q));
        },
      ),
    );
  });

  it('refuses to merge sketches of different accuracy', () => {
    expect(() => new DDSketch(0.01).merge(new DDSketch(0.02))).toThrow(/alpha/);
  });
});
