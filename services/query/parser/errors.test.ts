import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ParseError } from '../errors';
import { parse } from './parser';

/** Golden error messages (TypeScript-baseline style): `errors.golden.txt` holds each query and its expected error. */
const goldenPath = path.join(__dirname, 'errors.golden.txt');

function describeError(query: string): string {
  try {
    parse(query);
    return 'no error';
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    // The first error, then those found after recovery, one per line.
    return [error, ...error.others]
      .map(({ code, position, message }) => `${code} @ ${position}: ${message}`)
      .join('\n=> ');
  }
}

function readCases(text: string): { header: string[]; cases: { query: string; expected: string }[] } {
  const lines = text.split('\n');
  const header: string[] = [];
  const cases: { query: string; expected: string }[] = [];
  let index = 0;
  while (index < lines.length && (lines[index].startsWith('#') || lines[index] === '')) header.push(lines[index++]);
  for (; index < lines.length; index++) {
    if (lines[index] === '') continue;
    const query = lines[index];
    const expected: string[] = [];
    while ((lines[index + 1] ?? '').startsWith('=> ')) expected.push(lines[++index].slice(3));
    if (expected.length === 0) throw new Error(`errors.golden.txt line ${index + 2}: expected "=> ..."`);
    cases.push({ query, expected: expected.join('\n=> ') });
  }
  return { header, cases };
}

describe('golden parse errors', () => {
  const { header, cases } = readCases(readFileSync(goldenPath, 'utf8'));

  if (process.env.UPDATE_GOLDEN === '1') {
    const body = cases.map(({ query }) => `${query}\n=> ${describeError(query)}\n`).join('\n');
    writeFileSync(goldenPath, `${header.join('\n')}\n${body}`);
  }

  it.each(cases)('$query', ({ query, expected }) => {
    expect(describeError(query)).toBe(expected);
  });
});
