import { ApiKeyStore, bearerToken, DEFAULT_TENANT, IDENTIFIER_PATTERN, type Principal } from '../../kit/auth';
import { invalidApiKey, invalidClientId, missingCredentials } from '../errors';

export const AuthMode = { ClientId: 'client-id', ApiKeys: 'api-keys' } as const;
export type AuthMode = (typeof AuthMode)[keyof typeof AuthMode];

export type AuthSettings =
  { mode: typeof AuthMode.ClientId } | { mode: typeof AuthMode.ApiKeys; keys: ApiKeyStore; isMultiTenant: boolean };

/**
 * Resolves the `Authorization` header to the principal a request acts as.
 * - `client-id` (the design document's contract): the header is the client id itself; a `Bearer ` prefix is
 *   tolerated so Prometheus' `authorization` setting can carry it. Everything lands in the shared tenant.
 * - `api-keys`: `Bearer <key>`, looked up among hashed keys. With multi-tenancy the key's tenant is used.
 */
export function authenticate(settings: AuthSettings, header: string | undefined): Principal {
  if (header === undefined || header.trim() === '') throw missingCredentials(settings.mode);
  switch (settings.mode) {
    case AuthMode.ClientId: {
      const client = bearerToken(header) ?? header.trim();
      if (!IDENTIFIER_PATTERN.test(client)) throw invalidClientId(IDENTIFIER_PATTERN.source);
      return { client, tenant: DEFAULT_TENANT };
    }
    case AuthMode.ApiKeys: {
      const key = bearerToken(header);
      if (key === undefined) throw missingCredentials(settings.mode);
      const principal = settings.keys.resolve(key);
      if (!principal) throw invalidApiKey();
      return settings.isMultiTenant ? principal : { client: principal.client, tenant: DEFAULT_TENANT };
    }
    default: {
      const exhaustive: never = settings;
      return exhaustive;
    }
  }
}
