import { BlockCache, type CachedBlock } from './cache';

class FakeBlock implements CachedBlock {
  isPinned = false;
  isLoaded = true;

  constructor(
    readonly name: string,
    readonly residentBytes: number,
  ) {}

  unload(): void {
    this.isLoaded = false;
  }
}

describe('BlockCache', () => {
  it('unloads the least recently used blocks once past the limit', () => {
    const cache = new BlockCache<FakeBlock>(100);
    const [a, b, c] = [new FakeBlock('a', 40), new FakeBlock('b', 40), new FakeBlock('c', 40)];
    cache.touch(a);
    cache.touch(b);
    cache.touch(a);
    expect(cache.bytes).toBe(80);
    cache.touch(c);
    expect([a.isLoaded, b.isLoaded, c.isLoaded]).toEqual([true, false, true]);
    expect(cache.has(b)).toBe(false);
    expect(cache.bytes).toBe(80);
    expect(cache.evictions).toBe(1);
  });

  it('never unloads a pinned block, and catches up at the next touch', () => {
    const cache = new BlockCache<FakeBlock>(50);
    const [a, b] = [new FakeBlock('a', 40), new FakeBlock('b', 40)];
    a.isPinned = true;
    cache.touch(a);
    b.isPinned = true;
    cache.touch(b);
    expect(cache.bytes).toBe(80);
    expect([a.isLoaded, b.isLoaded]).toEqual([true, true]);
    a.isPinned = false;
    b.isPinned = false;
    cache.touch(b);
    expect([a.isLoaded, b.isLoaded]).toEqual([false, true]);
    expect(cache.bytes).toBe(40);
  });

  it('forgets a block without unloading it', () => {
    const cache = new BlockCache<FakeBlock>(10);
    const a = new FakeBlock('a', 5);
    cache.touch(a);
    cache.forget(a);
    expect(cache.bytes).toBe(0);
    expect(a.isLoaded).toBe(true);
  });
});
