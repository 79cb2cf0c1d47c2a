import { shardPartitions, shardsDocument } from './resources';

describe('StorageShard builders', () => {
  test('shard i of N consumes the partitions p with p mod N = i', () => {
    expect(shardPartitions(1, 4, 12)).toEqual([1, 5, 9]);
  });

  test('the shards file lists ready shards in index order, one per index, of the prevailing count', () => {
    const entry = (index: number, count: number, isReady = true, url = `http://s${index}-${count}`) => ({
      index,
      count,
      url,
      isReady,
    });
    expect(
      shardsDocument([
        entry(1, 2),
        entry(0, 2),
        entry(0, 3),
        entry(1, 2, true, 'http://dup'),
        entry(0, 2, false, 'http://a'),
      ]),
    ).toEqual({ shards: ['http://s0-2', 'http://dup'] });
    expect(shardsDocument([])).toEqual({ shards: [] });
  });
});
