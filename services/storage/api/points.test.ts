import fc from 'fast-check';
import { PointError, parseJsonPoints, parseLineProtocol } from './points';

describe('parseJsonPoints', () => {
  it('accepts one point, an array and {"points": [...]}', () => {
    const point = { measurement: 'cpu', tags: { b: '2', a: '1' }, fields: { value: 75.5 }, timestamp: 1696789234567 };
    const parsed = {
      measurement: 'cpu',
      tags: [
        ['a', '1'],
        ['b', '2'],
      ],
      fields: [['value', 75.5]],
      timestamp: 1696789234567,
    };
    expect(parseJsonPoints(point, 0)).toEqual([parsed]);
    expect(parseJsonPoints([point, point], 0)).toEqual([parsed, parsed]);
    expect(parseJsonPoints({ points: [point] }, 0)).toEqual([parsed]);
  });

  it.each([
    [{ tags: {}, fields: { value: 1 }, timestamp: 1 }, 'measurement'],
    [{ measurement: 'cpu', fields: { value: 'x' }, timestamp: 1 }, 'finite number'],
    [{ measurement: 'cpu', fields: {}, timestamp: 1 }, 'at least one'],
    [{ measurement: 'cpu', fields: { value: 1 }, timestamp: 1.5 }, 'integer'],
    [{ measurement: 'cpu', tags: { host: 3 }, fields: { value: 1 }, timestamp: 1 }, 'tag'],
  ])('names the offending point: %j', (bad, reason) => {
    const good = { measurement: 'cpu', fields: { value: 1 }, timestamp: 1 };
    const error = (() => {
      try {
        parseJsonPoints([good, good, bad], 0);
      } catch (caught) {
        return caught;
      }
    })() as PointError;
    expect(error).toBeInstanceOf(PointError);
    expect(error.index).toBe(2);
    expect(error.reason).toContain(reason);
  });
});

describe('parseLineProtocol', () => {
  it('reads tags, escapes, integer fields and precisions', () => {
    const text =
      '# comment\ncpu\\ load,host=a\\,b,dc=eu value=1.5,idle=3i 1696789234567000000\n\nmem,host=a used=2 1696789234';
    expect(parseLineProtocol(text, 'ns', 0)[0]).toEqual({
      measurement: 'cpu load',
      tags: [
        ['dc', 'eu'],
        ['host', 'a,b'],
      ],
      fields: [
        ['value', 1.5],
        ['idle', 3],
      ],
      timestamp: 1696789234567,
    });
    expect(parseLineProtocol('mem,host=a used=2 1696789234', 's', 0)[0].timestamp).toBe(1696789234000);
    expect(parseLineProtocol('mem used=2', 'ns', 42)[0].timestamp).toBe(42);
  });

  it('rejects strings, booleans and malformed lines with the point index and line number', () => {
    for (const bad of ['cpu value="x" 1', 'cpu value=true 1', 'cpu 1', 'cpu,host value=1 1', 'cpu value=1 1.5']) {
      expect(() => parseLineProtocol(`ok value=1 1\n\n${bad}`, 'ms', 0)).toThrow(
        expect.objectContaining({ index: 1, line: 3 }),
      );
    }
  });

  it('only ever throws PointError (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        try {
          parseLineProtocol(text, 'ns', 0);
        } catch (error) {
          expect(error).toBeInstanceOf(PointError);
        }
      }),
      { seed: 3, numRuns: 2000 },
    );
  });
});
