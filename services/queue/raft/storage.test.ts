import { CompactedError } from '../errors';
import { MemoryStorage } from './storage';
import { encodeConfigChange, EntryKind, type Entry } from './types';

function entry(index: number, term: number, text = `${index}`): Entry {
  return { index, term, kind: EntryKind.Normal, data: new TextEncoder().encode(text) };
}

describe('MemoryStorage', () => {
  it('truncates the stored suffix when an append starts inside it', () => {
    const storage = new MemoryStorage(['a']);
    storage.append([entry(1, 1), entry(2, 1), entry(3, 1)]);
    storage.append([entry(2, 2)]);
    expect(storage.lastIndex()).toBe(2);
    expect(storage.term(2)).toBe(2);
    expect(() => storage.append([entry(4, 2)])).toThrow(RangeError);
  });

  it('keeps the term of the compaction point and refuses reads below it', () => {
    const storage = new MemoryStorage(['a']);
    storage.append([entry(1, 1), entry(2, 1), entry(3, 2)]);
    storage.compact(2);
    expect(storage.firstIndex()).toBe(3);
    expect(storage.term(2)).toBe(1);
    expect(() => storage.term(1)).toThrow(CompactedError);
    expect(() => storage.entries(2, 4, Infinity)).toThrow(CompactedError);
    expect(storage.entries(3, 4, Infinity)).toEqual([entry(3, 2)]);
  });

  it('returns at least one entry, then stops before maxBytes', () => {
    const storage = new MemoryStorage(['a']);
    storage.append([entry(1, 1, 'xxxx'), entry(2, 1, 'yyyy'), entry(3, 1, 'zzzz')]);
    expect(storage.entries(1, 4, 1)).toHaveLength(1);
    expect(storage.entries(1, 4, 8)).toHaveLength(2);
  });

  it('folds compacted membership changes into the membership it reports', () => {
    const storage = new MemoryStorage(['a', 'b', 'c']);
    const change: Entry = {
      index: 1,
      term: 1,
      kind: EntryKind.Config,
      data: encodeConfigChange({ type: 'add', node: 'd' }),
    };
    storage.append([change, entry(2, 1)]);
    expect(storage.initialState()).toMatchObject({ members: ['a', 'b', 'c'], membersIndex: 0 });
    storage.compact(2);
    expect(storage.initialState()).toMatchObject({ members: ['a', 'b', 'c', 'd'], membersIndex: 2 });
  });

  it('starts over from a catch-up point', () => {
    const storage = new MemoryStorage(['a']);
    storage.append([entry(1, 1)]);
    storage.applySnapshot({ index: 10, term: 3, members: ['a', 'b'] });
    expect([storage.firstIndex(), storage.lastIndex(), storage.term(10)]).toEqual([11, 10, 3]);
    storage.append([entry(11, 3)]);
    expect(storage.lastIndex()).toBe(11);
  });
});
