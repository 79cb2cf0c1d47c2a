import type { LogEntry } from '../log/frame';
import { forEachRecord } from '../log/record-batch';

/**
 * Consumer-group offsets, kept as records of the internal `__consumer_offsets` partition so they replicate and
 * survive like data. Each record's key names `[group, topic, partition]` and its value is the committed offset;
 * the latest record for a key wins. This is the state rebuilt by applying that partition's committed entries.
 */
export class ConsumerOffsets {
  private readonly byGroup = new Map<string, Map<string, Map<number, number>>>();

  static recordKey(group: string, topic: string, partition: number): string {
    return JSON.stringify([group, topic, partition]);
  }

  /** Applies one committed entry of the offsets partition. */
  apply(entry: LogEntry): void {
    if (entry.kind !== 'normal') return;
    forEachRecord(entry.data, 0, (key, value) => {
      const parsed = JSON.parse(key) as [string, string, number];
      const offset = Number(Buffer.from(value).toString('utf8'));
      if (!Array.isArray(parsed) || parsed.length !== 3 || !Number.isSafeInteger(offset)) return true;
      const [group, topic, partition] = parsed;
      let topics = this.byGroup.get(group);
      if (!topics) this.byGroup.set(group, (topics = new Map()));
      let partitions = topics.get(topic);
      if (!partitions) topics.set(topic, (partitions = new Map()));
      partitions.set(partition, offset);
      return true;
    });
  }

  offsets(group: string, topic: string): Record<string, number> {
    const partitions = this.byGroup.get(group)?.get(topic);
    return Object.fromEntries(
      [...(partitions ?? [])].sort(([a], [b]) => a - b).map(([partition, offset]) => [String(partition), offset]),
    );
  }
}
