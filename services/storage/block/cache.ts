/** What the cache needs of a block: its resident size, whether a reader is using it, and a way to drop its files. */
export interface CachedBlock {
  readonly residentBytes: number;
  readonly isPinned: boolean;
  unload(): void;
}

/**
 * Bounds the memory of loaded blocks: least recently used first, blocks unloaded once the total passes the limit.
 * A pinned block (a query or compaction is reading it) is never unloaded, so the total can pass the limit while the
 * working set of the running queries alone is larger; it comes back under at the next `touch`. Pure.
 */
export class BlockCache<Block extends CachedBlock> {
  /** Insertion order is recency order: a touched block is deleted and set again. */
  private readonly resident = new Map<Block, number>();
  private total = 0;
  evictions = 0;

  constructor(readonly limitBytes: number) {}

  get bytes(): number {
    return this.total;
  }

  has(block: Block): boolean {
    return this.resident.has(block);
  }

  /** Records that `block` was just used (re-measuring it), then unloads the least recently used past the limit. */
  touch(block: Block): void {
    this.forget(block);
    const size = block.residentBytes;
    this.resident.set(block, size);
    this.total += size;
    this.evict();
  }

  /** Stops tracking a block (deleted, or replaced by compaction) without unloading it. */
  forget(block: Block): void {
    const size = this.resident.get(block);
    if (size === undefined) return;
    this.resident.delete(block);
    this.total -= size;
  }

  private evict(): void {
    for (const [block, size] of this.resident) {
      if (this.total <= this.limitBytes) return;
      if (block.isPinned) continue;
      block.unload();
      this.resident.delete(block);
      this.total -= size;
      this.evictions++;
    }
  }
}
