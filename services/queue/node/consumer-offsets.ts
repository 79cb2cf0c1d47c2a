import type { Logger } from '../../kit/logger';
import type { ProduceRecord } from '../api/requests';
import type { LogEntry } from '../log/frame';
import { forEachRecord } from '../log/record-batch';
import type { Partition } from './partition';

/**
 * Consumer-group offsets, kept as records of the internal `__consumer_offsets` partition so they replicate and
 * survive like data. A commit record's key names `[group, topic, partition]` and its value is the offset; the commit
 * with the highest log index wins.
 *
 * The partition stays bounded through checkpoints: now and then its leader appends one entry holding every latest
 * commit as `offset@index` (the index of the entry that committed it), headed by a `__checkpoint` record naming the
 * applied index `A` it summarizes. Once a peer applied it, every segment ending at or below `A` holds nothing the
 * checkpoint does not, and is deleted, on every peer independently. Because a value carries the index it was
 * committed at and the highest index wins, applying commits and checkpoints in log order, or replaying a log that
 * starts anywhere before the latest checkpoint, gives the same state.
 */
const CHECKPOINT_KEY = '__checkpoint';

interface Commit {
  offset: number;
  /** Log index of the entry that committed this offset. */
  index: number;
}

export class ConsumerOffsets {
  private readonly byGroup = new Map<string, Map<string, Map<number, Commit>>>();
  private summarizedIndex = 0;

  static recordKey(group: string, topic: string, partition: number): string {
    return JSON.stringify([group, topic, partition]);
  }

  /** Everything up to this index is summarized by an applied checkpoint (0: none yet). */
  get checkpointIndex(): number {
    return this.summarizedIndex;
  }

  /** Applies one committed entry of the offsets partition. */
  apply(entry: LogEntry): void {
    if (entry.kind !== 'normal') return;
    forEachRecord(entry.data, 0, (key, value) => {
      const text = Buffer.from(value).toString('utf8');
      if (key === CHECKPOINT_KEY) {
        const index = Number(text);
        if (Number.isSafeInteger(index) && index < entry.index)
          this.summarizedIndex = Math.max(this.summarizedIndex, index);
        return true;
      }
      const [offsetText, indexText] = text.split('@', 2);
      const offset = Number(offsetText);
      const index = indexText === undefined ? entry.index : Number(indexText);
      let parsed: unknown;
      try {
        parsed = JSON.parse(key);
      } catch {
        return true;
      }
      if (
        !Array.isArray(parsed) ||
        parsed.length !== 3 ||
        !Number.isSafeInteger(offset) ||
        !Number.isSafeInteger(index)
      )
        return true;
      const [group, topic, partition] = parsed as [string, string, number];
      let topics = this.byGroup.get(group);
      if (!topics) this.byGroup.set(group, (topics = new Map()));
      let partitions = topics.get(topic);
      if (!partitions) topics.set(topic, (partitions = new Map()));
      const known = partitions.get(partition);
      if (!known || known.index <= index) partitions.set(partition, { offset, index });
      return true;
    });
  }

  /** Forgets everything (the log was replaced by a catch-up; it is applied again from its start). */
  clear(): void {
    this.byGroup.clear();
    this.summarizedIndex = 0;
  }

  offsets(group: string, topic: string): Record<string, number> {
    const partitions = this.byGroup.get(group)?.get(topic);
    return Object.fromEntries(
      [...(partitions ?? [])]
        .sort(([a], [b]) => a - b)
        .map(([partition, commit]) => [String(partition), commit.offset]),
    );
  }

  /** The records of a checkpoint of the state applied through `appliedIndex`. */
  checkpointRecords(appliedIndex: number): ProduceRecord[] {
    const records: ProduceRecord[] = [{ key: CHECKPOINT_KEY, value: Buffer.from(String(appliedIndex)) }];
    for (const [group, topics] of this.byGroup)
      for (const [topic, partitions] of topics)
        for (const [partition, commit] of partitions)
          records.push({
            key: ConsumerOffsets.recordKey(group, topic, partition),
            value: Buffer.from(`${commit.offset}@${commit.index}`),
          });
    return records;
  }
}

export interface OffsetsCompactorOptions {
  partition: () => Partition;
  offsets: ConsumerOffsets;
  /** Whether this peer leads the offsets partition. */
  isLeader: () => boolean;
  /** Appends records as one entry on this (leading) peer; resolves once committed. */
  append: (records: ProduceRecord[]) => Promise<unknown>;
  segmentBytes: number;
  logger: Logger;
}

/** Keeps the offsets partition to about two segments: checkpoints (on the leader), then deletion (on every peer). */
export class OffsetsCompactor {
  private isAppending = false;

  constructor(private readonly options: OffsetsCompactorOptions) {}

  /** One round, run on the retention timer. Answers how many segments were deleted. */
  async compact(): Promise<number> {
    const { offsets, segmentBytes } = this.options;
    const partition = this.options.partition();
    const summarized = Math.min(offsets.checkpointIndex, partition.commitIndex);
    const deleted = summarized > 0 ? partition.log.applyRetention({ maxBytes: 0 }, summarized + 1) : 0;
    if (this.isAppending || partition.log.sizeBytes() <= segmentBytes || !this.options.isLeader()) return deleted;
    if (partition.commitIndex <= offsets.checkpointIndex) return deleted;
    this.isAppending = true;
    try {
      await this.options.append(offsets.checkpointRecords(partition.commitIndex));
    } catch (error) {
      // Leadership moved or no quorum: the next round tries again.
      this.options.logger.debug('offsets checkpoint not written', { error: (error as Error).message });
    } finally {
      this.isAppending = false;
    }
    return deleted;
  }
}
