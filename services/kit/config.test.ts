import { ConfigError } from './errors';
import { parseConfig, parseDuration } from './config';

const spec = {
  port: { kind: 'port', env: 'PORT', default: 8080, description: 'API port' },
  fsync: { kind: 'string', env: 'FSYNC', default: 'group', choices: ['group', 'always'], description: 'fsync policy' },
  flushInterval: { kind: 'duration', env: 'FLUSH_INTERVAL', default: 5, description: 'flush' },
  peers: { kind: 'list', env: 'PEERS', default: [] as string[], description: 'peers' },
  isVerbose: { kind: 'bool', env: 'VERBOSE', default: false, description: 'verbose' },
  redisUrl: { kind: 'string', env: 'REDIS_URL', description: 'redis' },
} as const;

describe('parseConfig', () => {
  it('uses defaults, then environment, then flags', () => {
    expect(parseConfig(spec, [], {})).toEqual({
      port: 8080,
      fsync: 'group',
      flushInterval: 5,
      peers: [],
      isVerbose: false,
      redisUrl: undefined,
    });
    const config = parseConfig(spec, ['--port', '9000', '--is-verbose', '--flush-interval=2s'], {
      PORT: '7000',
      PEERS: 'a, b',
      FSYNC: 'always',
    });
    expect(config).toMatchObject({
      port: 9000,
      fsync: 'always',
      flushInterval: 2000,
      peers: ['a', 'b'],
      isVerbose: true,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('lists every problem at once', () => {
    try {
      parseConfig(spec, ['--port', '70000', '--nope', '--fsync', 'never'], { FLUSH_INTERVAL: 'soon' });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems;
      expect(problems).toHaveLength(4);
      expect(problems.join('\n')).toMatch(/unknown option --nope/);
      expect(problems.join('\n')).toMatch(/70000 is above the maximum 65535/);
      expect(problems.join('\n')).toMatch(/"never" is not one of group, always/);
      expect(problems.join('\n')).toMatch(/"soon" is not a duration/);
    }
  });
});

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['5s', 5000],
    ['1h30m', 5_400_000],
    ['2d', 172_800_000],
    ['1w', 604_800_000],
    ['1500', 1500],
  ])('%s is %d ms', (text, expected) => expect(parseDuration(text)).toBe(expected));

  it.each(['', 'm', '5x', '1h 30m', '-1s'])('rejects %j', (text) => expect(parseDuration(text)).toBeUndefined());
});
