import fc from 'fast-check';
import { applyRange, lineAndColumn, mapPositionToEditor, rangeBounds, type TimeRange } from '../src/query/time-range';

const lastHour: TimeRange = { kind: 'relative', last: '1h' };

describe('applying the picked range', () => {
  test.each([
    ['SELECT avg(cpu)', 'SELECT avg(cpu) WHERE time > now() - 1h'],
    ['SELECT avg(cpu)  ', 'SELECT avg(cpu) WHERE time > now() - 1h  '],
    ['SELECT avg(cpu) GROUP BY host', 'SELECT avg(cpu) WHERE time > now() - 1h GROUP BY host'],
    [
      "SELECT mean(value) FROM cpu WHERE host = 'a' OR host = 'b' GROUP BY time(1m)",
      "SELECT mean(value) FROM cpu WHERE (host = 'a' OR host = 'b') AND time > now() - 1h GROUP BY time(1m)",
    ],
    ["EXPLAIN SELECT avg(cpu) WHERE host = 'x';", "EXPLAIN SELECT avg(cpu) WHERE (host = 'x') AND time > now() - 1h;"],
  ])('%s', (query, sent) => {
    expect(applyRange(query, lastHour)).toMatchObject({ text: sent, isRangeApplied: true });
  });

  test('absolute ranges are inclusive epoch milliseconds', () => {
    expect(applyRange('SELECT avg(cpu)', { kind: 'absolute', from: 1000, to: 2000 }).text).toBe(
      'SELECT avg(cpu) WHERE time >= 1000 AND time <= 2000',
    );
  });

  test("a query's own time bound wins, and SHOW statements are left alone", () => {
    for (const query of [
      'SELECT avg(cpu) WHERE time > now() - 5m',
      'SHOW MEASUREMENTS',
      "SELECT avg(cpu) WHERE host='time'",
    ]) {
      const ranged = applyRange(query, lastHour);
      if (query.includes("'time'")) expect(ranged.isRangeApplied).toBe(true);
      else expect(ranged).toEqual({ text: query, insertions: [], isRangeApplied: false });
    }
    expect(applyRange('SELECT avg(cpu) WHERE "time" = \'x\'', lastHour).isRangeApplied).toBe(true);
  });
});

describe('mapping error positions back to the editor', () => {
  test('positions before, inside and after insertions', () => {
    const query = "SELECT mean(value) FROM cpu WHERE host = 'a' GROUP BY time(1m";
    const ranged = applyRange(query, lastHour);
    const groupInSent = ranged.text.indexOf('GROUP');
    expect(mapPositionToEditor(groupInSent, ranged.insertions, query.length)).toBe(query.indexOf('GROUP'));
    expect(mapPositionToEditor(ranged.text.length, ranged.insertions, query.length)).toBe(query.length);
    expect(mapPositionToEditor(3, ranged.insertions, query.length)).toBe(3);
    const insideRange = ranged.text.indexOf('now()');
    expect(mapPositionToEditor(insideRange, ranged.insertions, query.length)).toBe(query.indexOf(' GROUP'));
  });

  test('every character the user wrote maps back to itself', () => {
    const clause = fc.constantFrom('', " WHERE host = 'a'", " WHERE a = 'b' OR c = 'd'");
    const tail = fc.constantFrom('', ' GROUP BY time(1m)', ' LIMIT 5', ';');
    fc.assert(
      fc.property(clause, tail, (where, rest) => {
        const query = `SELECT avg(cpu)${where}${rest}`;
        const ranged = applyRange(query, lastHour);
        // Walk the sent text: every character that came from the query maps back to its own offset.
        let shift = 0;
        let insertionIndex = 0;
        for (let sent = 0; sent < ranged.text.length; sent++) {
          const insertion = ranged.insertions[insertionIndex];
          if (insertion && sent === insertion.at + shift) {
            sent += insertion.text.length - 1;
            shift += insertion.text.length;
            insertionIndex++;
            continue;
          }
          expect(mapPositionToEditor(sent, ranged.insertions, query.length)).toBe(sent - shift);
          expect(query[sent - shift]).toBe(ranged.text[sent]);
        }
      }),
    );
  });

  test('line and column are 1-based', () => {
    expect(lineAndColumn('SELECT\n  avg(x', 9)).toEqual({ line: 2, column: 3 });
    expect(lineAndColumn('abc', 99)).toEqual({ line: 1, column: 4 });
  });

  test('relative ranges end now', () => {
    expect(rangeBounds({ kind: 'relative', last: '15m' }, 1_000_000)).toEqual({ from: 100_000, to: 1_000_000 });
    expect(rangeBounds({ kind: 'relative', last: '24h' }, 86_400_000)).toEqual({ from: 0, to: 86_400_000 });
  });
});
