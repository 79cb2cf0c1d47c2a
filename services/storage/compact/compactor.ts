import type { Samples } from '../chunk/samples';
import { BlockBuilder, type BlockLayout, type IndexCodec } from '../block/builder';
import type { BlockMeta } from '../block/format';
import type { BlockReader } from '../block/reader';
import { mergeRuns } from '../head/samples-merge';
import { seriesKey, type SeriesLabels } from '../series/series';
import type { CompactionPlan } from './planner';

/**
 * Merges the plan's source blocks into one new block, series by series (only one series is decoded at a time).
 * Sources are read oldest first, so for an equal timestamp the newer block's sample wins. The sources stay in place:
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
  await Promise.all(sources.map((source) => source.load()));
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
    const runs: Samples[] = parts.map(({ source, series }) =>
      sources[source].samplesOf(sources[source].allSeries()[series]),
    );
    builder.addSeries(labels, mergeRuns(runs));
  }
  return builder.write(
    directory,
    ulid,
    { minTime: plan.minTime, maxTime: plan.maxTime },
    { level: plan.level, sources: sources.map((source) => source.meta.ulid) },
  );
}
