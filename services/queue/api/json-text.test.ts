import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { isJsonText, MAX_JSON_DEPTH } from './json-text';

const agreesWithJsonParse = (text: string) => {
  let isValid = true;
  try {
    JSON.parse(text);
  } catch {
    isValid = false;
  }
  expect(isJsonText(Buffer.from(text, 'utf8'))).toBe(isValid);
};

describe('isJsonText', () => {
  it('accepts every serialised JSON value, pretty-printed or not', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(isJsonText(Buffer.from(JSON.stringify(value)))).toBe(true);
        expect(isJsonText(Buffer.from(` ${JSON.stringify(value, null, 2)}\n`))).toBe(true);
      }),
    );
  });

  it('agrees with JSON.parse on arbitrary and mutated texts', () => {
    fc.assert(fc.property(fc.string(), agreesWithJsonParse));
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.nat(),
        fc.constantFrom('', '"', ',', ':', '{', '}', '[', ']', '-', '.', 'e', '0', '\\', ' ', 'x'),
        (value, at, inserted) => {
          const text = JSON.stringify(value);
          const position = at % (text.length + 1);
          agreesWithJsonParse(text.slice(0, position) + inserted + text.slice(position + 1));
          agreesWithJsonParse(text.slice(0, position) + inserted + text.slice(position));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('checks the edge cases of each token', () => {
    for (const text of ['0', '-0', '1.5e+10', '"\\u00e9\\n"', 'true', 'null', '[]', '{}', '{"a":[1,{"b":null}]}'])
      expect(isJsonText(Buffer.from(text))).toBe(true);
    for (const text of ['', ' ', '01', '1.', '.5', '-', '1e', '+1', '"\\x"', '"\u0001"', '"abc', 'tru', 'nul', '[1,]'])
      expect(isJsonText(Buffer.from(text))).toBe(false);
    for (const text of ['{"a"}', '{"a":}', '{a:1}', '{"a":1,}', '[1 2]', '1 2', '[', ']', '{"a":1]', '[1}'])
      expect(isJsonText(Buffer.from(text))).toBe(false);
  });

  it('checks only the given range and refuses absurd nesting', () => {
    const bytes = Buffer.from('xx{"a":1}yy');
    expect(isJsonText(bytes, 2, 9)).toBe(true);
    expect(isJsonText(bytes, 2, 10)).toBe(false);
    expect(isJsonText(Buffer.from('['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH)))).toBe(true);
    expect(isJsonText(Buffer.from('['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1)))).toBe(false);
  });
});

describe('isJsonText on UTF-8', () => {
  it('accepts exactly the well-formed UTF-8 inside strings', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 8 }), (inner) => {
        const bytes = Buffer.concat([Buffer.from('"'), inner, Buffer.from('"')]);
        const isWellFormed = isUtf8(inner);
        let isValid = isWellFormed;
        if (isWellFormed)
          try {
            JSON.parse(bytes.toString('utf8'));
          } catch {
            isValid = false;
          }
        expect(isJsonText(bytes)).toBe(isValid);
      }),
      { numRuns: 2000 },
    );
    expect(isJsonText(Buffer.from('"é€😀"'))).toBe(true);
    expect(isJsonText(Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]))).toBe(false);
    expect(isJsonText(Buffer.from([0x22, 0xc0, 0xaf, 0x22]))).toBe(false);
    expect(isJsonText(Buffer.from([0xc3, 0xa9]))).toBe(false);
  });
});
