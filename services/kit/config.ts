import { ConfigError } from './errors';

/**
 * Declarative configuration: each option is read from a `--flag value` / `--flag=value` argument or an environment
 * variable (the flag wins), validated once, and returned as a frozen typed object. Unknown flags are errors.
 */
export type OptionKind = 'string' | 'int' | 'port' | 'number' | 'bool' | 'duration' | 'list';

interface OptionBase<K extends OptionKind, T> {
  kind: K;
  env: string;
  description: string;
  default?: T;
  /** Allowed values for string options. */
  choices?: readonly string[];
  min?: number;
  max?: number;
}

export type OptionSpec =
  | OptionBase<'string', string>
  | OptionBase<'int', number>
  | OptionBase<'port', number>
  | OptionBase<'number', number>
  | OptionBase<'bool', boolean>
  | OptionBase<'duration', number>
  | OptionBase<'list', string[]>;

export type ConfigSpec = Record<string, OptionSpec>;

type ValueOf<S extends OptionSpec> = S['kind'] extends 'string'
  ? string
  : S['kind'] extends 'bool'
    ? boolean
    : S['kind'] extends 'list'
      ? string[]
      : number;

type IsRequired<S extends OptionSpec> = S extends { default: unknown } ? true : false;

export type ConfigOf<C extends ConfigSpec> = {
  readonly [K in keyof C]: IsRequired<C[K]> extends true ? ValueOf<C[K]> : ValueOf<C[K]> | undefined;
};

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Parses `1h30m`, `250ms`, `5m`, or a bare number of milliseconds. Returns undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const pattern = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = pattern.exec(trimmed); match; match = pattern.exec(trimmed)) {
    total += Number(match[1]) * DURATION_UNITS[match[2]];
    consumed = pattern.lastIndex;
  }
  return consumed === trimmed.length && consumed > 0 ? total : undefined;
}

/** `--queue-url` for the option named `queueUrl`. */
export const flagName = (optionName: string) => '--' + optionName.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

function parseValue(name: string, spec: OptionSpec, raw: string): { value?: unknown; problem?: string } {
  const where = `${flagName(name)} / ${spec.env}`;
  switch (spec.kind) {
    case 'string':
      if (spec.choices && !spec.choices.includes(raw))
        return { problem: `${where}: "${raw}" is not one of ${spec.choices.join(', ')}` };
      return { value: raw };
    case 'int':
    case 'port':
    case 'number': {
      const value = Number(raw);
      const isInteger = spec.kind !== 'number';
      if (raw.trim() === '' || !Number.isFinite(value) || (isInteger && !Number.isInteger(value)))
        return { problem: `${where}: "${raw}" is not ${isInteger ? 'an integer' : 'a number'}` };
      const min = spec.kind === 'port' ? 0 : spec.min;
      const max = spec.kind === 'port' ? 65535 : spec.max;
      if (min !== undefined && value < min) return { problem: `${where}: ${value} is below the minimum ${min}` };
      if (max !== undefined && value > max) return { problem: `${where}: ${value} is above the maximum ${max}` };
      return { value };
    }
    case 'bool':
      if (['true', '1', 'yes', 'on', ''].includes(raw)) return { value: true };
      if (['false', '0', 'no', 'off'].includes(raw)) return { value: false };
      return { problem: `${where}: "${raw}" is not a boolean (true/false)` };
    case 'duration': {
      const value = parseDuration(raw);
      return value === undefined
        ? { problem: `${where}: "${raw}" is not a duration such as 500ms, 5s, 1m` }
        : { value };
    }
    case 'list':
      return {
        value: raw
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean),
      };
    default: {
      const exhaustive: never = spec;
      return exhaustive;
    }
  }
}

function readFlags(spec: ConfigSpec, argv: readonly string[], problems: string[]): Map<string, string> {
  const byFlag = new Map(Object.keys(spec).map((name) => [flagName(name), name]));
  const flags = new Map<string, string>();
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index];
    const [flag, inlineValue] = argument.includes('=') ? argument.split(/=(.*)/s, 2) : [argument, undefined];
    const name = byFlag.get(flag);
    if (!name) {
      problems.push(`unknown option ${flag}`);
      continue;
    }
    if (inlineValue !== undefined) flags.set(name, inlineValue);
    else if (spec[name].kind === 'bool' && (argv[index + 1] === undefined || argv[index + 1].startsWith('--')))
      flags.set(name, 'true');
    else if (argv[index + 1] !== undefined) flags.set(name, argv[++index]);
    else problems.push(`option ${flag} needs a value`);
  }
  return flags;
}

export function parseConfig<C extends ConfigSpec>(
  spec: C,
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ConfigOf<C> {
  const problems: string[] = [];
  const flags = readFlags(spec, argv, problems);
  const config: Record<string, unknown> = {};
  for (const [name, option] of Object.entries(spec)) {
    const raw = flags.get(name) ?? env[option.env];
    if (raw === undefined) {
      config[name] = Array.isArray(option.default) ? [...option.default] : option.default;
      continue;
    }
    const { value, problem } = parseValue(name, option, raw);
    if (problem) problems.push(problem);
    else config[name] = value;
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config) as ConfigOf<C>;
}

/** A markdown table of the options, for `--help` and API.md. */
export function describeConfig(spec: ConfigSpec): string {
  const rows = Object.entries(spec).map(([name, option]) => {
    const fallback = option.default === undefined ? '' : JSON.stringify(option.default);
    return `| \`${flagName(name)}\` | \`${option.env}\` | ${option.kind} | ${fallback} | ${option.description} |`;
  });
  return ['| flag | env | type | default | meaning |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}
