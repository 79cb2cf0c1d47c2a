import { isSameJson, mergeConditions } from './conditions';

describe('mergeConditions', () => {
  const ready = {
    type: 'Ready',
    status: 'True' as const,
    reason: 'AllPeersReady',
    message: 'ok',
    observedGeneration: 2,
  };

  test('an unchanged status keeps its transition time, so recomputing writes nothing', () => {
    const first = mergeConditions(undefined, [ready], Date.UTC(2026, 0, 1));
    const again = mergeConditions(first, [{ ...ready, message: 'still ok' }], Date.UTC(2026, 0, 2));
    expect(first[0].lastTransitionTime).toBe('2026-01-01T00:00:00Z');
    expect(again[0].lastTransitionTime).toBe('2026-01-01T00:00:00Z');
  });

  test('a status flip moves the transition time', () => {
    const first = mergeConditions(undefined, [ready], Date.UTC(2026, 0, 1));
    const flipped = mergeConditions(first, [{ ...ready, status: 'False' }], Date.UTC(2026, 0, 2, 3, 4, 5, 678));
    expect(flipped[0].lastTransitionTime).toBe('2026-01-02T03:04:05Z');
  });
});

describe('isSameJson', () => {
  test('ignores key order and undefined fields, not values', () => {
    expect(isSameJson({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1, d: undefined })).toBe(true);
    expect(isSameJson({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(isSameJson({ a: 1 }, { a: '1' })).toBe(false);
    expect(isSameJson([], {})).toBe(false);
  });
});
