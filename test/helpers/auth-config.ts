/** Builds a Config for auth tests: only `auth` matters, every other block is empty. */
import { createHash } from 'node:crypto';

import type {
  ApiKeyConfig,
  AuthConfig,
  Config,
  OidcProviderConfig,
  ServerConfig,
} from '../../src/config/types.js';

export function configWithAuth(auth: Partial<AuthConfig>): Config {
  return {
    server: {} as ServerConfig,
    auth: {
      enabled: true,
      jwtSecret: 'test-jwt-secret-with-enough-length-123456',
      jwtExpiryMinutes: 60,
      users: [],
      apiKeys: [],
      oidc: [],
      roles: [],
      ...auth,
    },
    providers: [],
    pools: [],
    targets: [],
    warnings: [],
    source: null,
  };
}

export function apiKey(name: string, key: string, targets: string[] = ['*']): ApiKeyConfig {
  const keySha256 = createHash('sha256').update(key).digest('hex');
  return { name, key, keySha256, targets };
}

export function oidcProvider(
  issuer: string,
  options: Partial<OidcProviderConfig> = {},
): OidcProviderConfig {
  return {
    name: issuer,
    issuer,
    audience: [],
    rolesClaim: 'proxy_hopper_role',
    clockToleranceSec: 60,
    jwksCacheTtlMs: 300_000,
    clientId: null,
    clientSecret: null,
    ...options,
  };
}
