import fc from 'fast-check';
import { PointError, parseJsonPoints, parseLineProtocol, type Precision } from './points';

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

describe('parseJsonPoints tag sharing', () => {
  it('shares one sorted tags array between the points of a series, and still validates every distinct tags object', () => {
    const point = (tags: Record<string, unknown>) => ({ measurement: 'cpu', tags, fields: { value: 1 }, timestamp: 1 });
    const [first, second, other] = parseJsonPoints(
      [point({ b: '2', a: '1' }), point({ b: '2', a: '1' }), point({ a: '1' })],
      0,
    );
    expect(first.tags).toBe(second.tags);
    expect(first.tags).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
    expect(other.tags).toEqual([['a', '1']]);
    // A key holding what a naive separator-joined text of the first object would look like is still rejected.
    expect(() => parseJsonPoints([point({ a: 'x', b: 'y' }), point({ 'a\0x\0b': 'y' })], 0)).toThrow(
      expect.objectContaining({ index: 1 }),
    );
    expect(() => parseJsonPoints([point({ a: 'x' }), point({ a: 'x', b: 3 })], 0)).toThrow(
      expect.objectContaining({ index: 1 }),
    );
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

  /** Outcome of parsing: the points, or the error's index, line and reason. */
  const outcome = (text: string, precision: Precision) => {
    try {
      return parseLineProtocol(text, precision, 7);
    } catch (error) {
      const { index, line, reason } = error as PointError;
      return { index, line, reason };
    }
  };

  it('reads plain text (no escapes, no quotes) exactly as the general parser does (property)', () => {
    const piece = fc.constantFrom(
      'cpu',
      'h',
      'a',
      'b',
      'x=1',
      '=',
      ',',
      ' ',
      '  ',
      '\t',
      '\r',
      '\n',
      '#',
      '1',
      '-2',
      '3i',
      '1.5e3',
      '',
      '\0',
    );
    const precision = fc.constantFrom<Precision>('ns', 'us', 'ms', 's');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), precision, (pieces, unit) => {
        const text = pieces.join('');
        // A trailing comment with a quote sends the same lines through the general parser.
        expect(outcome(text, unit)).toEqual(outcome(`${text}\n# "`, unit));
      }),
      { seed: 11, numRuns: 3000 },
    );
  });

  it('converts timestamps of every precision as exact integer division (property)', () => {
    const divisors: Record<Precision, bigint> = { ns: 1_000_000n, us: 1_000n, ms: 1n, s: 1n };
    fc.assert(
      fc.property(
        fc.bigInt(-(10n ** 22n), 10n ** 22n),
        fc.constantFrom<Precision>('ns', 'us', 'ms', 's'),
        (raw, unit) => {
          const expected = Number(unit === 's' ? raw * 1000n : raw / divisors[unit]);
          const parsed = outcome(`m v=1 ${raw}`, unit);
          if (Number.isSafeInteger(expected))
            expect(parsed).toEqual([expect.objectContaining({ timestamp: expected })]);
          else expect(parsed).toEqual(expect.objectContaining({ index: 0, line: 1 }));
        },
      ),
      { seed: 5, numRuns: 3000 },
    );
  });
});
