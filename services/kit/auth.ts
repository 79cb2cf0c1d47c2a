import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';

/**
 * API keys shared by every service that authenticates callers (ingestion writes, query/alerting reads).
 *
 * Keys file (JSON or YAML, e.g. mounted from a Kubernetes Secret):
 *   {"keys": [{"key_sha256": "<64 hex>", "client": "client_123", "tenant": "team-a"}, {"key": "plain", "client": "b"}]}
 * Only SHA-256 digests are kept in memory; plain keys in the file are hashed on load. `tenant` defaults to `default`.
 */
export interface Principal {
  readonly client: string;
  readonly tenant: string;
}

export const DEFAULT_TENANT = 'default';

/** Client ids and tenants: safe in URLs, log lines, Redis keys and file names. */
export const IDENTIFIER_PATTERN = /^[A-Za-z0-9_.:@-]{1,128}$/;

export class KeysFileError extends Error {
  override readonly name = 'KeysFileError';
}

interface KeyEntry {
  readonly digest: Buffer;
  readonly principal: Principal;
}

export const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();

export class ApiKeyStore {
  /** Indexed by the digest's first byte so a lookup compares against a handful of entries, each in constant time. */
  private readonly buckets = new Map<number, KeyEntry[]>();

  constructor(entries: readonly KeyEntry[]) {
    for (const entry of entries) {
      const bucket = this.buckets.get(entry.digest[0]) ?? [];
      bucket.push(entry);
      this.buckets.set(entry.digest[0], bucket);
    }
  }

  get size(): number {
    let total = 0;
    for (const bucket of this.buckets.values()) total += bucket.length;
    return total;
  }

  /** The principal of a presented key, or undefined when no key matches. */
  resolve(presentedKey: string): Principal | undefined {
    const digest = sha256(presentedKey);
    let found: Principal | undefined;
    // Compare against every candidate (no early exit) so timing does not reveal which one matched.
    for (const entry of this.buckets.get(digest[0]) ?? []) {
      if (timingSafeEqual(entry.digest, digest)) found = entry.principal;
    }
    return found;
  }

  /** Parses a keys document (already read from disk); every problem is listed in one error. */
  static parse(text: string, source = 'keys file'): ApiKeyStore {
    let document: unknown;
    try {
      document = yaml.load(text, { json: true });
    } catch (error) {
      throw new KeysFileError(`${source}: not valid JSON or YAML: ${(error as Error).message}`);
    }
    const keys = (document as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(keys)) throw new KeysFileError(`${source}: expected {"keys": [...]}`);
    const problems: string[] = [];
    const entries: KeyEntry[] = [];
    const seen = new Set<string>();
    keys.forEach((raw: unknown, index) => {
      const item = (raw ?? {}) as Record<string, unknown>;
      const { key, key_sha256: keySha256, client, tenant = DEFAULT_TENANT } = item;
      const where = `${source}: keys[${index}]`;
      if (typeof client !== 'string' || !IDENTIFIER_PATTERN.test(client))
        problems.push(`${where}: "client" must match ${IDENTIFIER_PATTERN.source}`);
      if (typeof tenant !== 'string' || !IDENTIFIER_PATTERN.test(tenant))
        problems.push(`${where}: "tenant" must match ${IDENTIFIER_PATTERN.source}`);
      let digest: Buffer | undefined;
      if (typeof keySha256 === 'string' && /^[0-9a-fA-F]{64}$/.test(keySha256)) digest = Buffer.from(keySha256, 'hex');
      else if (typeof key === 'string' && key.length >= 8 && key.trim() === key) digest = sha256(key);
      else problems.push(`${where}: needs "key_sha256" (64 hex digits) or "key" (at least 8 characters, no spaces)`);
      if (digest) {
        const hex = digest.toString('hex');
        if (seen.has(hex)) problems.push(`${where}: duplicate key`);
        seen.add(hex);
      }
      if (digest && typeof client === 'string' && typeof tenant === 'string')
        entries.push({ digest, principal: Object.freeze({ client, tenant }) });
    });
    if (problems.length > 0) throw new KeysFileError(problems.join('\n'));
    return new ApiKeyStore(entries);
  }

  static load(path: string): ApiKeyStore {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new KeysFileError(`cannot read keys file ${path}: ${(error as Error).message}`);
    }
    return ApiKeyStore.parse(text, path);
  }
}

/** The key in `Authorization: Bearer <key>`, or undefined when the header has another shape. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
