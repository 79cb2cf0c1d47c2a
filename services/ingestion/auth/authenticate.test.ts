import { ApiKeyStore } from '../../kit/auth';
import { IngestionError } from '../errors';
import { authenticate, AuthMode, type AuthSettings } from './authenticate';

const keys = ApiKeyStore.parse(JSON.stringify({ keys: [{ key: 'key-of-team-a', client: 'collector', tenant: 'a' }] }));

const codeOf = (settings: AuthSettings, header: string | undefined) => {
  try {
    authenticate(settings, header);
    return 'ok';
  } catch (error) {
    expect(error).toBeInstanceOf(IngestionError);
    return `${(error as IngestionError).status} ${(error as IngestionError).code}`;
  }
};

describe('authenticate', () => {
  const clientId: AuthSettings = { mode: AuthMode.ClientId };
  const shared: AuthSettings = { mode: AuthMode.ApiKeys, keys, isMultiTenant: false };
  const tenants: AuthSettings = { mode: AuthMode.ApiKeys, keys, isMultiTenant: true };

  it('client-id mode: the header is the client id, tenant default', () => {
    expect(authenticate(clientId, 'client_123')).toEqual({ client: 'client_123', tenant: 'default' });
    expect(authenticate(clientId, 'Bearer prometheus-1')).toEqual({ client: 'prometheus-1', tenant: 'default' });
    expect(codeOf(clientId, undefined)).toBe('401 missing_credentials');
    expect(codeOf(clientId, '  ')).toBe('401 missing_credentials');
    expect(codeOf(clientId, 'two words')).toBe('401 invalid_client_id');
    expect(codeOf(clientId, 'x'.repeat(129))).toBe('401 invalid_client_id');
  });

  it('api-keys mode: Bearer keys, tenant only with multi-tenancy', () => {
    expect(authenticate(shared, 'Bearer key-of-team-a')).toEqual({ client: 'collector', tenant: 'default' });
    expect(authenticate(tenants, 'Bearer key-of-team-a')).toEqual({ client: 'collector', tenant: 'a' });
    expect(codeOf(tenants, 'key-of-team-a')).toBe('401 missing_credentials');
    expect(codeOf(tenants, 'Bearer key-of-team-b')).toBe('401 invalid_api_key');
  });
});
