import fc from 'fast-check';
import { ApiError } from '../../kit/errors';
import {
  decodeForwardedParts,
  decodeProduceBatch,
  encodeForwardedParts,
  encodeProduceBatch,
  MAX_KEY_BYTES,
} from './produce-batch';
import { isBatchContentType, parseProduceBatchRequest } from './requests';

const limits = { maxBatchRecords: 5, maxValueBytes: 64, maxConsumeCount: 100, maxWaitMs: 1000 };

const codeOf = (action: () => unknown) => {
  try {
    action();
  } catch (error) {
    if (error instanceof ApiError) return `${error.status} ${error.code}`;
    throw error;
  }
  return 'ok';
};

const recordArbitrary = fc.record({
  key: fc.string({ maxLength: 20 }),
  value: fc.jsonValue({ maxDepth: 2 }).map((value) => Buffer.from(JSON.stringify(value))),
});

describe('binary produce batch', () => {
  it('decodes what it encodes, values kept byte for byte', () => {
    fc.assert(
      fc.property(fc.array(recordArbitrary, { minLength: 1, maxLength: 5 }), (records) => {
        const decoded = decodeProduceBatch(encodeProduceBatch(records), 'metrics.inbound', {
          ...limits,
          maxValueBytes: 1 << 20,
        });
        expect(decoded.topic).toBe('metrics.inbound');
        expect(decoded.records.map((record) => [record.key, record.value.toString()])).toEqual(
          records.map((record) => [record.key, record.value.toString()]),
        );
      }),
    );
  });

  it('refuses what the JSON contract refuses, and malformed framing', () => {
    const one = (key: string, value: string) => encodeProduceBatch([{ key, value: Buffer.from(value) }]);
    expect(codeOf(() => decodeProduceBatch(one('k', '{"a":1}'), 't', limits))).toBe('ok');
    expect(codeOf(() => decodeProduceBatch(one('k', '{"a":'), 't', limits))).toBe('400 invalid_request');
    expect(codeOf(() => decodeProduceBatch(one('k', ''), 't', limits))).toBe('400 invalid_request');
    expect(codeOf(() => decodeProduceBatch(one('k', `"${'x'.repeat(80)}"`), 't', limits))).toBe('413 value_too_large');
    expect(codeOf(() => decodeProduceBatch(one('k'.repeat(MAX_KEY_BYTES + 1), '1'), 't', limits))).toBe(
      '400 invalid_request',
    );
    const six = encodeProduceBatch(Array.from({ length: 6 }, () => ({ key: '', value: Buffer.from('1') })));
    expect(codeOf(() => decodeProduceBatch(six, 't', limits))).toBe('400 invalid_request');
    expect(codeOf(() => decodeProduceBatch(encodeProduceBatch([]), 't', limits))).toBe('400 invalid_request');
    const badKey = one('ab', '1');
    badKey[6] = 0xff;
    expect(codeOf(() => decodeProduceBatch(badKey, 't', limits))).toBe('400 invalid_request');
    const valid = one('k', '[1,2]');
    for (let cut = 0; cut < valid.length; cut++)
      expect(codeOf(() => decodeProduceBatch(valid.subarray(0, cut), 't', limits))).toBe('400 invalid_request');
    expect(codeOf(() => decodeProduceBatch(Buffer.concat([valid, Buffer.from([0])]), 't', limits))).toBe(
      '400 invalid_request',
    );
  });

  it('is chosen by its content type, the topic coming from the query string', () => {
    expect(isBatchContentType('application/x-metricstream-batch')).toBe(true);
    expect(isBatchContentType('Application/X-MetricStream-Batch; v=1')).toBe(true);
    expect(isBatchContentType('application/json')).toBe(false);
    expect(isBatchContentType(undefined)).toBe(false);
    const rawBody = encodeProduceBatch([{ key: 'a', value: Buffer.from('true') }]);
    const binary = parseProduceBatchRequest(
      { body: undefined, rawBody, contentType: 'application/x-metricstream-batch', query: { topic: 'other' } },
      limits,
    );
    expect([binary.topic, binary.records[0].key, binary.records[0].value.toString()]).toEqual(['other', 'a', 'true']);
    const json = parseProduceBatchRequest(
      { body: { records: [{ key: 'b', value: { x: 1 } }] }, contentType: 'application/json', query: {} },
      limits,
    );
    expect([json.topic, json.records[0].value.toString()]).toEqual(['metrics.inbound', '{"x":1}']);
  });
});

describe('forwarded parts', () => {
  it('decode what they encode', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            topic: fc.string({ minLength: 1, maxLength: 10 }),
            partition: fc.nat({ max: 1000 }),
            deadline: fc.integer({ min: 0, max: 2 ** 50 }),
            records: fc.array(recordArbitrary, { minLength: 1, maxLength: 4 }),
          }),
          { maxLength: 4 },
        ),
        (parts) => {
          const body = encodeForwardedParts(
            parts.map((part) => ({ ...part, batch: encodeProduceBatch(part.records) })),
          );
          const decoded = decodeForwardedParts(body).map((part) => ({
            ...part,
            records: part.records.map((record) => ({ key: record.key, value: Buffer.from(record.value) })),
          }));
          expect(decoded).toEqual(parts);
        },
      ),
    );
    expect(codeOf(() => decodeForwardedParts(Buffer.from([1, 0, 0, 0, 5])))).toBe('400 invalid_request');
  });
});
