import type { BlockMeta } from '../block/format';

/**
 * Which blocks to merge next (LSM levels, tsdb's LeveledCompactor.Plan in miniature). Pure. Levels are block ranges,
 * ascending (2 h → 6 h → 24 h by default): blocks that all lie inside one aligned range of a higher level are merged
 * once that range is complete, i.e. no later head cut can add to it (its end ≤ `persistedUntil`).
 */
export interface CompactionPlan {
  rangeMs: number;
  level: number;
  minTime: number;
  maxTime: number;
  sources: BlockMeta[];
}

export function planCompaction(
  blocks: readonly BlockMeta[],
  levelsMs: readonly number[],
  persistedUntil: number,
): CompactionPlan | undefined {
  for (let level = 1; level < levelsMs.length; level++) {
    const rangeMs = levelsMs[level];
    const groups = new Map<number, BlockMeta[]>();
    for (const block of blocks) {
      const start = Math.floor(block.minTime / rangeMs) * rangeMs;
      const isInside = block.maxTime <= start + rangeMs && block.maxTime - block.minTime < rangeMs;
      if (!isInside) continue;
      const group = groups.get(start) ?? [];
      group.push(block);
      groups.set(start, group);
    }
    const starts = [...groups.keys()].sort((a, b) => a - b);
    for (const start of starts) {
      const group = groups.get(start)!;
      if (group.length < 2 || start + rangeMs > persistedUntil) continue;
      return {
        rangeMs,
        level: level + 1,
        minTime: Math.min(...group.map((block) => block.minTime)),
        maxTime: Math.max(...group.map((block) => block.maxTime)),
        sources: [...group].sort((a, b) => a.minTime - b.minTime || (a.ulid < b.ulid ? -1 : 1)),
      };
    }
  }
  return undefined;
}

/** Blocks wholly older than the retention age. */
export function expiredBlocks(blocks: readonly BlockMeta[], retentionMs: number, now: number): BlockMeta[] {
  if (retentionMs <= 0) return [];
  return blocks.filter((block) => block.maxTime <= now - retentionMs);
}

/** Blocks another block was compacted from: a crash after the merge's rename but before the deletes leaves them. */
export function supersededBlocks(blocks: readonly BlockMeta[]): BlockMeta[] {
  const sources = new Set(
    blocks.flatMap((block) => block.compaction.sources.filter((source) => source !== block.ulid)),
  );
  return blocks.filter((block) => sources.has(block.ulid));
}
