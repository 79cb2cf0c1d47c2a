import { ApiKeyStore, bearerToken, KeysFileError, sha256 } from './auth';

describe('ApiKeyStore', () => {
  const hashed = sha256('secret-key-two').toString('hex');
  const store = ApiKeyStore.parse(
    JSON.stringify({
      keys: [
        { key: 'secret-key-one', client: 'client_1', tenant: 'team-a' },
        { key_sha256: hashed, client: 'client_2' },
      ],
    }),
  );

  it('maps keys, plain or pre-hashed, to a client and tenant', () => {
    expect(store.size).toBe(2);
    expect(store.resolve('secret-key-one')).toEqual({ client: 'client_1', tenant: 'team-a' });
    expect(store.resolve('secret-key-two')).toEqual({ client: 'client_2', tenant: 'default' });
    expect(store.resolve('secret-key-three')).toBeUndefined();
    expect(store.resolve('')).toBeUndefined();
  });

  it('keeps only digests in memory', () => {
    expect(JSON.stringify(store)).not.toContain('secret-key-one');
  });

  it('reads YAML as well', () => {
    const yaml = 'keys:\n  - key: another-secret\n    client: c\n    tenant: t\n';
    expect(ApiKeyStore.parse(yaml).resolve('another-secret')).toEqual({ client: 'c', tenant: 't' });
  });

  it('lists every problem of a bad file', () => {
    const bad = {
      keys: [
        { key: 'short', client: 'a' },
        { key: 'long-enough-key', client: 'bad client' },
        { key_sha256: hashed, client: 'b', tenant: 'bad/tenant' },
        { key: 'long-enough-key', client: 'c' },
      ],
    };
    try {
      ApiKeyStore.parse(JSON.stringify(bad), 'keys.json');
      throw new Error('expected KeysFileError');
    } catch (error) {
      expect(error).toBeInstanceOf(KeysFileError);
      const lines = (error as Error).message.split('\n');
      expect(lines).toHaveLength(4);
      expect(lines[3]).toMatch(/keys\[3\]: duplicate key/);
    }
    expect(() => ApiKeyStore.parse('[]')).toThrow(KeysFileError);
    expect(() => ApiKeyStore.parse(': : :')).toThrow(KeysFileError);
  });
});

describe('bearerToken', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer   abc ', 'abc'],
    ['Basic abc', undefined],
    ['abc', undefined],
    ['Bearer a b', undefined],
    [undefined, undefined],
  ])('%j → %j', (header, expected) => expect(bearerToken(header)).toBe(expected));
});
