/**
 * DDSketch (Masson et al., VLDB 2019): a mergeable quantile sketch with relative-error guarantee `alpha`.
 * Storage computes one per chunk and rollup window; the query engine merges them across chunks and shards.
 * Wire form (JSON): {"alpha":0.01,"zero":n,"pos":[[index,count],...],"neg":[[index,count],...]}.
 */
export interface SketchWire {
  alpha: number;
  zero: number;
  pos: [number, number][];
  neg: [number, number][];
}

/** Values closer to zero than this are counted as zero (keeps indexes bounded). */
export const MIN_INDEXABLE = 1e-9;

/** ln γ of the bins' base γ = (1 + α) / (1 − α) for relative error `alpha`. */
export const logGammaOf = (alpha: number): number => Math.log((1 + alpha) / (1 - alpha));

/** The bin of a magnitude of at least MIN_INDEXABLE (infinity lands in the bin of the largest float). */
export const binIndex = (magnitude: number, logGamma: number): number =>
  Math.ceil(Math.log(Math.min(magnitude, Number.MAX_VALUE)) / logGamma);

export class DDSketch {
  readonly alpha: number;
  private readonly logGamma: number;
  private readonly gamma: number;
  private zero = 0;
  private readonly positive = new Map<number, number>();
  private readonly negative = new Map<number, number>();
  count = 0;

  constructor(alpha = 0.01) {
    this.alpha = alpha;
    this.gamma = (1 + alpha) / (1 - alpha);
    this.logGamma = logGammaOf(alpha);
  }

  add(value: number, weight = 1): void {
    if (Number.isNaN(value)) return;
    this.count += weight;
    const magnitude = Math.abs(value);
    if (magnitude < MIN_INDEXABLE) {
      this.zero += weight;
      return;
    }
    const bins = value > 0 ? this.positive : this.negative;
    const index = binIndex(magnitude, this.logGamma);
    bins.set(index, (bins.get(index) ?? 0) + weight);
  }

  merge(other: DDSketch | SketchWire): void {
    if (other.alpha !== this.alpha)
      throw new Error(`cannot merge sketches with alpha ${other.alpha} and ${this.alpha}`);
    const wire = other instanceof DDSketch ? other.toWire() : other;
    this.zero += wire.zero;
    this.count += wire.zero;
    for (const [index, count] of wire.pos) {
      this.positive.set(index, (this.positive.get(index) ?? 0) + count);
      this.count += count;
    }
    for (const [index, count] of wire.neg) {
      this.negative.set(index, (this.negative.get(index) ?? 0) + count);
      this.count += count;
    }
  }

  /** The q-quantile (0 ≤ q ≤ 1) within relative error alpha; NaN when empty. */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    const rank = q * (this.count - 1);
    let seen = 0;
    const negativeIndexes = [...this.negative.keys()].sort((a, b) => b - a);
    for (const index of negativeIndexes) {
      seen += this.negative.get(index)!;
      if (seen > rank) return -this.valueAt(index);
    }
    seen += this.zero;
    if (seen > rank) return 0;
    const positiveIndexes = [...this.positive.keys()].sort((a, b) => a - b);
    for (const index of positiveIndexes) {
      seen += this.positive.get(index)!;
      if (seen > rank) return this.valueAt(index);
    }
    return this.valueAt(positiveIndexes[positiveIndexes.length - 1]);
  }

  private valueAt(index: number): number {
    return (2 * Math.pow(this.gamma, index)) / (this.gamma + 1);
  }

  toWire(): SketchWire {
    return { alpha: this.alpha, zero: this.zero, pos: [...this.positive], neg: [...this.negative] };
  }

  static fromWire(wire: SketchWire): DDSketch {
    const sketch = new DDSketch(wire.alpha);
    sketch.merge(wire);
    return sketch;
  }
}
