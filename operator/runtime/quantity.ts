const quantityUnits: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/**
 * A Kubernetes quantity of bytes (`10Gi`, `500M`, `1024`) as a whole number. The API server's canonical forms are
 * read too (`1e3`, and `1126400m` for a fraction of a unit), since claims come back in them.
 */
export function quantityBytes(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)(?:[eE]([+-]?\d+))?(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?$/.exec(quantity);
  if (!match) throw new Error(`"${quantity}" is not a byte quantity`);
  return Math.round(Number(match[1]) * 10 ** Number(match[2] ?? 0) * quantityUnits[match[3] ?? '']);
}
