import fc from 'fast-check';
import { RELATIVE_RANGES, type TimeRange } from '../src/query/time-range';
import {
  decodeExploreState,
  DEFAULT_EXPLORE_STATE,
  encodeExploreState,
  type ExploreState,
} from '../src/state/url-state';

const rangeArbitrary: fc.Arbitrary<TimeRange> = fc.oneof(
  fc.constantFrom(...RELATIVE_RANGES).map((last) => ({ kind: 'relative' as const, last })),
  fc
    .tuple(fc.integer({ min: 0, max: 4e12 }), fc.integer({ min: 0, max: 4e12 }))
    .map(([a, b]) => ({ kind: 'absolute' as const, from: Math.min(a, b), to: Math.max(a, b) })),
);

const stateArbitrary: fc.Arbitrary<ExploreState> = fc.record({
  query: fc.string({ unit: 'grapheme' }),
  range: rangeArbitrary,
  view: fc.constantFrom('chart' as const, 'table' as const),
});

describe('Explore state in the URL', () => {
  test('decode(encode(state)) returns the state', () => {
    fc.assert(
      fc.property(stateArbitrary, (state) => expect(decodeExploreState(encodeExploreState(state))).toEqual(state)),
    );
  });

  test('reads a leading question mark and the documented parameters', () => {
    expect(decodeExploreState('?q=SELECT+avg(x)&range=6h&view=table')).toEqual({
      query: 'SELECT avg(x)',
      range: { kind: 'relative', last: '6h' },
      view: 'table',
    });
    expect(decodeExploreState('from=1000&to=2000')).toEqual({
      ...DEFAULT_EXPLORE_STATE,
      range: { kind: 'absolute', from: 1000, to: 2000 },
    });
  });

  test('malformed values fall back to the defaults', () => {
    expect(decodeExploreState('range=7d&view=pie&from=abc&to=5')).toEqual(DEFAULT_EXPLORE_STATE);
    expect(decodeExploreState('from=2000&to=1000').range).toEqual(DEFAULT_EXPLORE_STATE.range);
    expect(decodeExploreState('')).toEqual(DEFAULT_EXPLORE_STATE);
  });
});
