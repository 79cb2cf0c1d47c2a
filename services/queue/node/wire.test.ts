import fc from 'fast-check';
import type { Message } from '../raft/types';
import { decodeBatch, encodeBatch, WireError } from './wire';

const entry = fc.record({
  index: fc.nat(),
  term: fc.nat(),
  kind: fc.constantFrom('normal' as const, 'noop' as const, 'config' as const),
  data: fc.uint8Array({ maxLength: 50 }),
});

const message: fc.Arbitrary<Message> = fc.oneof(
  fc.record({
    type: fc.constant('append' as const),
    from: fc.string(),
    to: fc.string(),
    term: fc.nat(),
    prevIndex: fc.nat(),
    prevTerm: fc.nat(),
    entries: fc.array(entry, { maxLength: 4 }),
    commit: fc.nat(),
  }),
  fc.record({
    type: fc.constant('heartbeat' as const),
    from: fc.string(),
    to: fc.string(),
    term: fc.nat(),
    commit: fc.nat(),
  }),
);

const plain = (value: unknown) =>
  JSON.parse(
    JSON.stringify(value, (_key, item) =>
      item instanceof Uint8Array ? Array.from(item) : item?.type === 'Buffer' ? item.data : item,
    ),
  );

describe('peer wire batches', () => {
  it('decode what they encode, entry bytes included', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ group: fc.string(), message }), { maxLength: 6 }), (messages) => {
        const batch = { from: 'q0', url: 'http://127.0.0.1:1', messages };
        expect(plain(decodeBatch(encodeBatch(batch)))).toEqual(plain(batch));
      }),
    );
  });

  it('reject truncated or padded bodies with WireError', () => {
    const body = encodeBatch({
      from: 'q0',
      url: 'u',
      messages: [
        {
          group: 'g',
          message: {
            type: 'append',
            from: 'a',
            to: 'b',
            term: 1,
            prevIndex: 0,
            prevTerm: 0,
            commit: 0,
            entries: [{ index: 1, term: 1, kind: 'normal', data: new Uint8Array([1, 2, 3]) }],
          },
        },
      ],
    });
    for (let cut = 0; cut < body.length; cut++) expect(() => decodeBatch(body.subarray(0, cut))).toThrow(WireError);
    expect(() => decodeBatch(Buffer.concat([body, Buffer.from([0])]))).toThrow(WireError);
  });
});
