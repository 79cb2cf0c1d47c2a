/** Time and randomness are passed into cores so tests can drive them deterministically. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export type Random = () => number;

// Hoisted: a property lookup of Math.imul on every call is very slow under jest's module sandbox.
const imul = Math.imul;

/** mulberry32: a small, fast, seedable generator; a failing seed replays exactly. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}
