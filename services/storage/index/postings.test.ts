import fc from 'fast-check';
import { intersect, intersectAll, subtract, union } from './postings';

const postingsList = fc
  .oneof(
    fc.uniqueArray(fc.integer({ min: 0, max: 60 }), { maxLength: 40 }),
    fc.uniqueArray(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 40 }),
    fc.integer({ min: 0, max: 800 }).map((length) => Array.from({ length }, (_, index) => index * 2)),
  )
  .map((ids) => Uint32Array.from(ids.sort((left, right) => left - right)));

const asSet = (list: Uint32Array) => new Set(list);
const sortedOf = (ids: Iterable<number>) => Array.from(ids).sort((left, right) => left - right);

describe('postings', () => {
  it('intersect, union and subtract like sets, staying sorted and unique', () => {
    fc.assert(
      fc.property(postingsList, postingsList, (a, b) => {
        const inB = asSet(b);
        expect(Array.from(intersect(a, b))).toEqual(sortedOf([...a].filter((id) => inB.has(id))));
        expect(Array.from(subtract(a, b))).toEqual(sortedOf([...a].filter((id) => !inB.has(id))));
        expect(Array.from(union([a, b]))).toEqual(sortedOf(new Set([...a, ...b])));
      }),
    );
  });

  it('combine many lists like sets', () => {
    fc.assert(
      fc.property(fc.array(postingsList, { minLength: 1, maxLength: 6 }), (lists) => {
        const sets = lists.map(asSet);
        expect(Array.from(union(lists))).toEqual(sortedOf(new Set(lists.flatMap((list) => [...list]))));
        expect(Array.from(intersectAll(lists))).toEqual(
          sortedOf([...lists[0]].filter((id) => sets.every((set) => set.has(id)))),
        );
      }),
    );
  });

  it('gallops through a long list for a short one', () => {
    const long = Uint32Array.from({ length: 100_000 }, (_, index) => index * 3);
    expect(Array.from(intersect(Uint32Array.of(3, 4, 299_997, 400_000), long))).toEqual([3, 299_997]);
    expect(Array.from(subtract(Uint32Array.of(0, 1, 299_997, 400_000), long))).toEqual([1, 400_000]);
  });
});
