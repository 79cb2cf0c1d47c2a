import fc from 'fast-check';
import { IndexCorruptionError, InvalidMatcherError, Matcher, TagIndex } from './tag-index';

interface Series {
  id: number;
  measurement: string;
  tags: Record<string, string>;
}

const measurementName = fc.constantFrom('cpu', 'mem', 'disk');
const tagKey = fc.constantFrom('host', 'region', 'env', 'ü');
const tagValue = fc.constantFrom('', 'a', 'b', 'ab', 'web-1', 'web-2', 'db', 'x.y', '日本');
const series = fc.uniqueArray(
  fc.record({
    id: fc.integer({ min: 0, max: 0xffffffff }),
    measurement: measurementName,
    tags: fc.dictionary(tagKey, tagValue, { maxKeys: 3 }),
  }),
  { selector: (entry) => entry.id, maxLength: 60 },
);
const matcher: fc.Arbitrary<Matcher> = fc.record({
  key: tagKey,
  op: fc.constantFrom('=', '!=', '=~', '!~'),
  value: fc.oneof(tagValue, fc.constantFrom('.*', '.+', 'a|b', 'web-.*', 'a?', '', 'b|', '(a)b', 'x.y', '日.')),
});

/** The definition: a missing tag reads as "", regexes match the whole value. */
function matchesOracle(entry: Series, matchers: readonly Matcher[]): boolean {
  return matchers.every(({ key, op, value }) => {
    const actual = entry.tags[key] ?? '';
    const isFullMatch = new RegExp(`^(?:${value})$`, 's').test(actual);
    switch (op) {
      case '=':
        return actual === value;
      case '!=':
        return actual !== value;
      case '=~':
        return isFullMatch;
      case '!~':
        return !isFullMatch;
    }
  });
}

function build(list: readonly Series[]): TagIndex {
  const index = new TagIndex();
  for (const entry of list) index.add(entry.id, entry.measurement, entry.tags);
  return index;
}

describe('TagIndex', () => {
  it('selects exactly the series a brute-force scan selects, before and after an encode/decode round trip', () => {
    fc.assert(
      fc.property(series, measurementName, fc.array(matcher, { maxLength: 4 }), (list, measurement, matchers) => {
        const expected = list
          .filter((entry) => entry.measurement === measurement && matchesOracle(entry, matchers))
          .map((entry) => entry.id)
          .sort((left, right) => left - right);
        const index = build(list);
        expect(Array.from(index.select(measurement, matchers))).toEqual(expected);
        expect(Array.from(TagIndex.decode(index.encode()).select(measurement, matchers))).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('lists measurements, keys and values sorted, ignoring empty values, identically after decoding', () => {
    fc.assert(
      fc.property(series, (list) => {
        const index = build(list);
        const decoded = TagIndex.decode(index.encode());
        const names = [...new Set(list.map((entry) => entry.measurement))].sort();
        expect(index.measurements()).toEqual(names);
        expect(decoded.measurements()).toEqual(names);
        expect(index.measurements('c')).toEqual(names.filter((name) => name.startsWith('c')));
        for (const name of names) {
          const tagged = list.filter((entry) => entry.measurement === name);
          const keys = [
            ...new Set(tagged.flatMap((entry) => Object.keys(entry.tags).filter((key) => entry.tags[key]))),
          ];
          expect(index.tagKeys(name)).toEqual(keys.sort());
          expect(decoded.tagKeys(name)).toEqual(keys.sort());
          for (const key of keys) {
            const values = [...new Set(tagged.map((entry) => entry.tags[key]).filter((value) => value))].sort();
            expect(index.tagValues(name, key)).toEqual(values);
            expect(decoded.tagValues(name, key)).toEqual(values);
          }
        }
        expect(decoded.encode()).toEqual(index.encode());
      }),
    );
  });

  it('treats re-adding a series as a no-op and keeps ids added out of order sorted', () => {
    const index = new TagIndex();
    for (const id of [9, 3, 7, 3, 1]) index.add(id, 'cpu', { host: id % 2 ? 'a' : 'b' });
    expect(Array.from(index.select('cpu', []))).toEqual([1, 3, 7, 9]);
    index.add(2, 'cpu', { host: 'a' });
    expect(Array.from(index.select('cpu', [{ key: 'host', op: '=', value: 'a' }]))).toEqual([1, 2, 3, 7, 9]);
    expect(Array.from(index.select('nothing', []))).toEqual([]);
  });

  it('returns arrays the caller may change without changing the index', () => {
    const index = new TagIndex();
    index.add(1, 'cpu', {});
    index.select('cpu', []).fill(42);
    expect(Array.from(index.select('cpu', []))).toEqual([1]);
  });

  it('anchors regexes so an unbalanced pattern cannot escape, and names invalid ones', () => {
    const index = new TagIndex();
    index.add(1, 'cpu', { host: 'ab' });
    expect(() => index.select('cpu', [{ key: 'host', op: '=~', value: 'a)|(b' }])).toThrow(InvalidMatcherError);
    expect(() => index.select('cpu', [{ key: 'host', op: '=~', value: '[' }])).toThrow(InvalidMatcherError);
    expect(Array.from(index.select('cpu', [{ key: 'host', op: '=~', value: 'a' }]))).toEqual([]);
    expect(() => index.add(-1, 'cpu', {})).toThrow(RangeError);
  });

  it('throws only IndexCorruptionError on truncated or altered bytes', () => {
    fc.assert(
      fc.property(series, fc.nat(), fc.nat(), (list, positionSeed, byteSeed) => {
        const bytes = build(list).encode();
        expect(() => TagIndex.decode(bytes.subarray(0, positionSeed % bytes.length))).toThrow(IndexCorruptionError);
        const altered = bytes.slice();
        altered[positionSeed % bytes.length] ^= (byteSeed % 255) + 1;
        expect(() => TagIndex.decode(altered)).toThrow(IndexCorruptionError);
      }),
    );
  });
});
