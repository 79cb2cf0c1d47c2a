import { applySuggestion, completionContext, measurementOf, rankSuggestions } from '../src/query/autocomplete';
import { tokenize } from '../src/query/tokens';

/** The context at the `|` of the text. */
const contextAt = (marked: string) => completionContext(marked.replace('|', ''), marked.indexOf('|'));

describe('autocomplete context', () => {
  test.each([
    ['|', { kind: 'keyword', prefix: '', from: 0 }],
    ['SEL|', { kind: 'keyword', prefix: 'SEL', from: 0 }],
    ['SELECT |', { kind: 'function', prefix: '', from: 7 }],
    ['SELECT me|', { kind: 'function', prefix: 'me', from: 7 }],
    ['SELECT avg(x), p9|', { kind: 'function', prefix: 'p9', from: 15 }],
    ['SELECT avg(cp|', { kind: 'measurement', prefix: 'cp', from: 11 }],
    ['SELECT mean(|) FROM cpu', { kind: 'field', prefix: '', from: 12 }],
    ['SELECT mean(value) FROM c|', { kind: 'measurement', prefix: 'c', from: 24 }],
  ])('%s', (marked, expected) => expect(contextAt(marked)).toEqual(expected));

  test('tag keys in WHERE and GROUP BY know the measurement', () => {
    expect(contextAt('SELECT mean(value) FROM cpu WHERE h|')).toEqual({
      kind: 'tagKey',
      prefix: 'h',
      from: 34,
      measurement: 'cpu',
      allowsTime: true,
    });
    expect(contextAt("SELECT avg(cpu) WHERE host = 'a' AND |")).toMatchObject({ kind: 'tagKey', measurement: 'cpu' });
    expect(contextAt('SELECT avg(cpu) WHERE (|')).toMatchObject({ kind: 'tagKey' });
    expect(contextAt('SELECT avg(cpu) GROUP BY time(1m), |')).toMatchObject({ kind: 'tagKey', prefix: '' });
    expect(contextAt('SHOW TAG VALUES FROM cpu WITH KEY = |')).toMatchObject({
      kind: 'tagKey',
      measurement: 'cpu',
      allowsTime: false,
    });
  });

  test('tag values after a comparison, with or without the opening quote', () => {
    expect(contextAt('SELECT avg(cpu) WHERE host = |')).toEqual({
      kind: 'tagValue',
      prefix: '',
      from: 29,
      measurement: 'cpu',
      key: 'host',
      needsOpeningQuote: true,
    });
    expect(contextAt("SELECT avg(cpu) WHERE host != 'ser|")).toEqual({
      kind: 'tagValue',
      prefix: 'ser',
      from: 31,
      measurement: 'cpu',
      key: 'host',
      needsOpeningQuote: false,
    });
    expect(contextAt('SELECT avg(cpu) WHERE "data center" = |')).toMatchObject({
      kind: 'tagValue',
      key: 'data center',
    });
  });

  test('nothing is offered inside numbers, closed strings, regexes or after time comparisons', () => {
    expect(contextAt('SELECT avg(cpu) GROUP BY time(5|')).toEqual({ kind: 'none' });
    expect(contextAt("SELECT avg(cpu) WHERE host = 'a'|")).toEqual({ kind: 'none' });
    expect(contextAt('SELECT avg(cpu) WHERE host =~ /we|')).toEqual({ kind: 'none' });
    expect(contextAt('SELECT avg(cpu) WHERE time = |')).toEqual({ kind: 'none' });
    expect(contextAt('SELECT avg(cpu) WHERE host |')).toEqual({ kind: 'none' });
  });

  test('the measurement comes from FROM, else from the first call', () => {
    expect(measurementOf(tokenize('SELECT max(value) FROM "my cpu" WHERE'))).toBe('my cpu');
    expect(measurementOf(tokenize('SELECT avg(cpu_usage) - min(mem)'))).toBe('cpu_usage');
    expect(measurementOf(tokenize('SELECT'))).toBeUndefined();
  });
});

describe('applying a suggestion', () => {
  test('replaces the whole word at the cursor and opens a call for functions', () => {
    const text = 'SELECT me FROM cpu';
    const context = completionContext(text, 9);
    if (context.kind === 'none') throw new Error('expected a context');
    expect(applySuggestion(text, 9, context, 'mean')).toEqual({ text: 'SELECT mean( FROM cpu', cursor: 12 });
  });

  test('quotes and escapes tag values, reusing a closing quote already there', () => {
    const open = "SELECT avg(cpu) WHERE host = 'o'";
    const inside = completionContext(open, open.length - 1);
    if (inside.kind === 'none') throw new Error('expected a context');
    expect(applySuggestion(open, open.length - 1, inside, "o'brien").text).toBe(
      "SELECT avg(cpu) WHERE host = 'o\\'brien'",
    );
    const bare = 'SELECT avg(cpu) WHERE host = ';
    const after = completionContext(bare, bare.length);
    if (after.kind === 'none') throw new Error('expected a context');
    expect(applySuggestion(bare, bare.length, after, 'a')).toEqual({ text: `${bare}'a'`, cursor: bare.length + 3 });
  });

  test('ranks prefix matches before substring matches, case-insensitively', () => {
    expect(rankSuggestions(['disk_used', 'cpu_usage', 'CPU_idle', 'mem'], 'cpu')).toEqual(['cpu_usage', 'CPU_idle']);
    expect(rankSuggestions(['a_usage', 'usage_b'], 'usage')).toEqual(['usage_b', 'a_usage']);
  });
});
