import fc from 'fast-check';
import { ApiError } from '../../kit/errors';
import { integerParameter, parseCommit, parseConsume, parseProduceBatch, parseProduceOne } from './requests';

const limits = { maxBatchRecords: 3, maxValueBytes: 20, maxConsumeCount: 100, maxWaitMs: 1000 };

const codeOf = (action: () => unknown) => {
  try {
    action();
  } catch (error) {
    if (error instanceof ApiError) return `${error.status} ${error.code}`;
    throw error;
  }
  return 'ok';
};

describe('request validation', () => {
  it('accepts exactly the non-negative integers as offsets and counts', () => {
    fc.assert(
      fc.property(fc.string(), (raw) => {
        const isInteger = /^\d{1,15}$/.test(raw);
        expect(codeOf(() => integerParameter({ offset: raw }, 'offset'))).toBe(
          isInteger ? 'ok' : '400 invalid_request',
        );
      }),
    );
    expect(integerParameter({}, 'count', 100)).toBe(100);
    expect(codeOf(() => integerParameter({}, 'offset'))).toBe('400 invalid_request');
    expect(codeOf(() => integerParameter({ offset: ['1', '2'] }, 'offset'))).toBe('400 invalid_request');
  });

  it('parses a consume query, clamping count and wait', () => {
    expect(
      parseConsume({ partition: '3', offset: '12847', count: '5000', wait_ms: '99999', local: '1' }, limits),
    ).toEqual({
      topic: 'metrics.inbound',
      partition: 3,
      offset: 12847,
      count: 100,
      waitMs: 1000,
      isLocal: true,
    });
    expect(codeOf(() => parseConsume({ partition: '3', offset: '0', count: '0' }, limits))).toBe('400 invalid_request');
  });

  it('turns values into their JSON text once and enforces the limits', () => {
    expect(parseProduceOne({ key: 'k', value: { a: [1, 'x'] } }, limits)).toEqual({
      topic: 'metrics.inbound',
      records: [{ key: 'k', value: Buffer.from('{"a":[1,"x"]}') }],
    });
    expect(codeOf(() => parseProduceOne({ key: 'k', value: 'x'.repeat(30) }, limits))).toBe('413 value_too_large');
    expect(codeOf(() => parseProduceOne({ key: 5, value: 1 }, limits))).toBe('400 invalid_request');
    expect(codeOf(() => parseProduceOne({ key: 'k', value: null }, limits))).toBe('ok');
    expect(codeOf(() => parseProduceBatch({ records: [1, 2, 3, 4] }, limits))).toBe('400 invalid_request');
    expect(codeOf(() => parseProduceBatch({ records: [{ value: 1 }] }, limits))).toBe('ok');
    expect(codeOf(() => parseProduceBatch({ topic: 7, records: [{ value: 1 }] }, limits))).toBe('400 invalid_request');
  });

  it('checks commits field by field', () => {
    expect(parseCommit({ group: 'g', topic: 't', partition: 1, offset: 5 })).toEqual({
      group: 'g',
      topic: 't',
      partition: 1,
      offset: 5,
    });
    for (const bad of [
      { group: '', partition: 1, offset: 1 },
      { group: 'g', partition: -1, offset: 1 },
      { group: 'g', partition: 1, offset: 1.5 },
      { group: 'g', partition: 1, offset: '3' },
    ])
      expect(codeOf(() => parseCommit(bad))).toBe('400 invalid_request');
  });
});
