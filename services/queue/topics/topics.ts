/** Topics are fixed at start-up: `metrics.inbound` with 12 partitions, the consumer-offsets topic, and `--topics`. */
export interface TopicSpec {
  name: string;
  partitions: number;
  /** Internal topics are not listed by `GET /topics` and cannot be produced to. */
  isInternal: boolean;
}

export const DEFAULT_TOPIC = 'metrics.inbound';
export const OFFSETS_TOPIC = '__consumer_offsets';
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,200}$/;

export class TopicSpecError extends Error {
  override readonly name = 'TopicSpecError';
}

/** Parses `name:partitions` items (`--topics events:4,logs:2`); a bare name gets one partition. */
export function parseTopicList(items: readonly string[]): TopicSpec[] {
  const topics: TopicSpec[] = [
    { name: DEFAULT_TOPIC, partitions: 12, isInternal: false },
    { name: OFFSETS_TOPIC, partitions: 1, isInternal: true },
  ];
  for (const item of items) {
    const [name, count = '1'] = item.split(':');
    const partitions = Number(count);
    if (!TOPIC_NAME.test(name) || name.startsWith('__'))
      throw new TopicSpecError(`"${name}" is not a valid topic name (letters, digits, . _ -, not starting with __)`);
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > 1024)
      throw new TopicSpecError(`topic ${name}: "${count}" is not a partition count between 1 and 1024`);
    const existing = topics.find((topic) => topic.name === name);
    if (existing && existing.partitions !== partitions)
      throw new TopicSpecError(`topic ${name} is listed twice with different partition counts`);
    if (!existing) topics.push({ name, partitions, isInternal: false });
  }
  return topics;
}

/** Every partition of every topic, in a fixed order: the order the Raft groups are numbered in. */
export function allPartitions(topics: readonly TopicSpec[]): Array<{ topic: string; partition: number }> {
  return topics.flatMap((topic) =>
    Array.from({ length: topic.partitions }, (_, partition) => ({ topic: topic.name, partition })),
  );
}
