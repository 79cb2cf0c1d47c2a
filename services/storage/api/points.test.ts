import fc from 'fast-check';
import {
  PointError,
  SeriesSections,
  parseJsonPoints,
  parseLineProtocol,
  readPlainDecimal,
  type Precision,
} from './points';

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
  const outcome = (text: string, precision: Precision) => outcomeWith(new SeriesSections(), text, precision);
  const sharedSections = new SeriesSections();
  const outcomeWith = (sections: SeriesSections, text: string, precision: Precision) => {
    try {
      return parseLineProtocol(text, precision, 7, sections);
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
      '12.3',
      '-0',
      '-0.0',
      '+.5',
      '5.',
      '.',
      '-',
      '007',
      '123456789012345',
      '1234567890123456',
      '1696789234567',
      '1696789234567000000',
      'é',
      '😀',
      '\uD800',
      '',
      '\0',
    );
    const precision = fc.constantFrom<Precision>('ns', 'us', 'ms', 's');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), precision, (pieces, unit) => {
        const text = pieces.join('');
        // A trailing comment with a quote sends the same lines through the general parser.
        const general = outcome(`${text}\n# "`, unit);
        expect(outcome(text, unit)).toEqual(general);
        // So does a section cache shared with earlier bodies.
        expect(outcomeWith(sharedSections, text, unit)).toEqual(general);
      }),
      { seed: 11, numRuns: 3000 },
    );
  });

  it('converts timestamps of every precision as exact integer division (property)', () => {
    const divisors: Record<Precision, bigint> = { ns: 1_000_000n, us: 1_000n, ms: 1n, s: 1n };
    fc.assert(
      fc.property(
        fc.oneof(fc.bigInt(-(10n ** 22n), 10n ** 22n), fc.bigInt(-(10n ** 16n), 10n ** 16n)),
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

  it('reads plain decimals exactly as Number() does (property)', () => {
    const digits = fc.stringMatching(/^[0-9]{0,17}$/);
    const decimal = fc
      .tuple(fc.constantFrom('', '-', '+'), digits, fc.constantFrom('', '.'), digits)
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(decimal, (text) => {
        const value = readPlainDecimal(`x=${text} `, 2, text.length + 2);
        if (value !== undefined) expect(Object.is(value, Number(text))).toBe(true);
        // Undefined only leaves the text to the general reading: at most it gives up on long or odd numbers.
        else expect(text.replace(/[-+.]/g, '').length === 0 || text.replace(/[-+.]/g, '').length > 15).toBe(true);
      }),
      { seed: 13, numRuns: 5000 },
    );
  });

  it('shares one tags array per series across bodies, and reads series sections again after a change', () => {
    const sections = new SeriesSections();
    const first = parseLineProtocol('cpu,host=a v=1 1\ncpu,host=b v=2 1', 'ms', 0, sections);
    const second = parseLineProtocol('cpu,host=a v=3 2\ncpu,host=c v=4 2\ncpu,host=b v=5 2', 'ms', 0, sections);
    expect(second[0].tags).toBe(first[0].tags);
    expect(second[2].tags).toBe(first[1].tags);
    expect(second.map((point) => point.tags)).toEqual([[['host', 'a']], [['host', 'c']], [['host', 'b']]]);
    expect(second.map((point) => point.fields[0][1])).toEqual([3, 4, 5]);
    // Points with equal values may share their fields; 0 and -0 stay apart.
    const signed = parseLineProtocol('m v=0 1\nm v=-0 2\nm v=-0.0 3\nm v=0.0 4\nm w=0 5', 'ms', 0, sections);
    expect(signed.map((point) => Object.is(point.fields[0][1], -0))).toEqual([false, true, true, false, false]);
    expect(signed[4].fields).toEqual([['w', 0]]);
    expect(() => parseLineProtocol('cpu,host=a v=1 1\ncpu,host v=2 1', 'ms', 0, sections)).toThrow(
      expect.objectContaining({ index: 1, line: 2 }),
    );
  });
});
