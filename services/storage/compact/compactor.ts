import type { Samples } from '../chunk/samples';
import type { SketchWire } from '../../kit/sketch';
import { BlockBuilder, type BlockLayout, type IndexCodec, type RollupTier } from '../block/builder';
import type { BlockMeta, BlockSeries } from '../block/format';
import type { BlockReader } from '../block/reader';
import { concatenateColumns, type RollupColumns } from '../block/rollup-format';
import { mergeRuns } from '../head/samples-merge';
import { seriesKey, type SeriesLabels } from '../series/series';
import type { CompactionPlan } from './planner';

/**
 * Merges the plan's source blocks into one new block, series by series. A series whose parts do not overlap in time
 * (the normal case: blocks cover disjoint ranges) is copied chunk by chunk with its rollup rows; overlapping parts are
 * decoded and merged oldest first, so for an equal timestamp the newer block's sample wins. The sources stay in place:
 * the caller deletes them after this resolves, and a crash in between is undone at open (supersededBlocks).
 */
export async function compactBlocks(
  directory: string,
  plan: CompactionPlan,
  sources: readonly BlockReader[],
  ulid: string,
  layout: BlockLayout,
  indexCodec: IndexCodec,
): Promise<BlockMeta> {
  await acquireAll(sources);
  try {
    return await mergeSources(directory, plan, sources, ulid, layout, indexCodec);
  } finally {
    for (const source of sources) source.release();
  }
}

/** Pins every block (loading it), or none: a failure releases those already pinned. */
export async function acquireAll(blocks: readonly BlockReader[]): Promise<void> {
  const outcomes = await Promise.allSettled(blocks.map((block) => block.acquire()));
  const failure = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failure === undefined) return;
  outcomes.forEach((outcome, index) => {
    if (outcome.status === 'fulfilled') blocks[index].release();
  });
  throw (failure as PromiseRejectedResult).reason;
}

async function mergeSources(
  directory: string,
  plan: CompactionPlan,
  sources: readonly BlockReader[],
  ulid: string,
  layout: BlockLayout,
  indexCodec: IndexCodec,
): Promise<BlockMeta> {
  const bySeries = new Map<string, { labels: SeriesLabels; parts: { source: number; series: number }[] }>();
  sources.forEach((source, sourceIndex) =>
    source.allSeries().forEach((series, seriesIndex) => {
      const key = seriesKey(series.labels);
      let entry = bySeries.get(key);
      if (entry === undefined) {
        entry = { labels: series.labels, parts: [] };
        bySeries.set(key, entry);
      }
      entry.parts.push({ source: sourceIndex, series: seriesIndex });
    }),
  );
  const builder = new BlockBuilder(layout, indexCodec);
  for (const { labels, parts } of bySeries.values()) {
    const seriesParts = parts.map(({ source, series }) => ({
      block: sources[source],
      series: sources[source].allSeries()[series],
    }));
    if (areDisjoint(seriesParts.map((part) => part.series))) {
      const chunks = seriesParts.flatMap(({ block, series }) =>
        series.chunks.map((chunk) => ({ meta: chunk, bytes: block.chunkBytes(chunk) })),
      );
      builder.addEncodedSeries(labels, chunks, concatenatedRollups(seriesParts, layout));
      continue;
    }
    const runs: Samples[] = seriesParts.map(({ block, series }) => block.samplesOf(series));
    builder.addSeries(labels, mergeRuns(runs));
  }
  return builder.write(
    directory,
    ulid,
    { minTime: plan.minTime, maxTime: plan.maxTime },
    { level: plan.level, sources: sources.map((source) => source.meta.ulid) },
  );
}

/** True when each part's samples all come before the next part's: nothing to merge, chunks can be copied. */
function areDisjoint(parts: readonly BlockSeries[]): boolean {
  for (let index = 1; index < parts.length; index++) {
    const previous = parts[index - 1].chunks;
    const next = parts[index].chunks;
    if (previous.length > 0 && next.length > 0 && previous[previous.length - 1].maxTime >= next[0].minTime)
      return false;
  }
  return true;
}

/**
 * Rollup windows never straddle aligned block ranges, so the merged rows of disjoint parts are the source rows one
 * after another: no re-summarising, no sketch inserts. A tier some part lacks is left out.
 */
function concatenatedRollups(
  parts: readonly { block: BlockReader; series: BlockSeries }[],
  layout: BlockLayout,
): Map<number, RollupTier> {
  const tiers = new Map<number, RollupTier>();
  for (const windowMs of layout.rollupWindowsMs) {
    const columns: RollupColumns[] = [];
    const sketches: SketchWire[] = [];
    for (const { block, series } of parts) {
      const part = block.rollupColumns(series, windowMs);
      const partSketches = block.rollupSketches(series, windowMs);
      if (part === undefined || partSketches === undefined) break;
      columns.push(part);
      sketches.push(...partSketches);
    }
    if (columns.length === parts.length) tiers.set(windowMs, { columns: concatenateColumns(columns), sketches });
  }
  return tiers;
}
