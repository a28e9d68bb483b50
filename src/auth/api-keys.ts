/**
 * Static API keys: a token matches a key when their SHA-256 digests are equal, compared in
 * constant time, so neither the key nor its position in the list leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

import { sha256Hex } from '../config/index.js';
import type { ApiKeyConfig } from '../config/types.js';
import type { Principal } from './types.js';

const NO_PERMISSIONS: ReadonlySet<never> = new Set();

/** Returns the `sha256:<hex>` form of a key, as written under `apiKeys[].keyHash`. */
export function hashApiKey(key: string): string {
  return `sha256:${sha256Hex(key)}`;
}

export interface ApiKeyMatcher {
  /** Returns the key whose digest equals the token's, or null. */
  match(token: string): ApiKeyConfig | null;
}

export function createApiKeyMatcher(keys: readonly ApiKeyConfig[]): ApiKeyMatcher {
  const digests = keys.map((key) => ({ key, digest: Buffer.from(key.keySha256, 'hex') }));

  return {
    match(token) {
      const tokenDigest = createHash('sha256').update(token, 'utf8').digest();
      let found: ApiKeyConfig | null = null;

      // Every key is compared, without an early exit, so the time does not depend on which key
      // matched.
      for (const { key, digest } of digests) {
        const equal = digest.length === tokenDigest.length && timingSafeEqual(digest, tokenDigest);
        if (equal && found === null) found = key;
      }
      return found;
    },
  };
}

/** Builds the principal of an API key: no permissions (so no admin API), the key's targets. */
export function apiKeyPrincipal(key: ApiKeyConfig): Principal {
  return {
    subject: key.name,
    kind: 'api_key',
    roles: [],
    permissions: NO_PERMISSIONS,
    targets: key.targets.includes('*') ? '*' : new Set(key.targets),
    expiresAtMs: null,
  };
}
