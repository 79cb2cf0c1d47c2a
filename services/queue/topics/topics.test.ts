import fc from 'fast-check';
import { fnv1a32, partitionOf } from './partitioner';
import { parseTopicList, TopicSpecError } from './topics';

describe('partitioner', () => {
  it('matches the published FNV-1a 32-bit vectors', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('hashes UTF-8 bytes and keeps every key on one partition in range', () => {
    expect(fnv1a32('é')).toBe(Math.imul(Math.imul(0x811c9dc5 ^ 0xc3, 0x01000193) ^ 0xa9, 0x01000193) >>> 0);
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 64 }), (key, count) => {
        const partition = partitionOf(key, count);
        return partition >= 0 && partition < count && partition === partitionOf(key, count);
      }),
    );
  });
});

describe('topic list', () => {
  it('always has metrics.inbound with 12 partitions and the internal offsets topic', () => {
    expect(parseTopicList(['events:4', 'logs'])).toEqual([
      { name: 'metrics.inbound', partitions: 12, isInternal: false },
      { name: '__consumer_offsets', partitions: 1, isInternal: true },
      { name: 'events', partitions: 4, isInternal: false },
      { name: 'logs', partitions: 1, isInternal: false },
    ]);
  });

  it('rejects bad names, counts and conflicting repeats', () => {
    for (const bad of [['__x:1'], ['a b:1'], ['x:0'], ['x:abc'], ['metrics.inbound:3']])
      expect(() => parseTopicList(bad)).toThrow(TopicSpecError);
  });
});
