/**
 * Composition of proxy and admin authentication from the `auth` config: token order API key,
 * local JWT, then OIDC JWT, and the 401/403 decisions with their exact messages.
 */
import type { Logger } from 'pino';

import type { Config, Permission } from '../config/types.js';
import { apiKeyPrincipal, createApiKeyMatcher } from './api-keys.js';
import {
  ADMIN_AUTH_REQUIRED_MESSAGE,
  authRequiredError,
  describeRoles,
  forbiddenError,
  invalidTokenError,
} from './auth-errors.js';
import { extractBearerToken } from './bearer.js';
import { LocalJwt } from './local-jwt.js';
import { type LoginHandler, createLoginHandler } from './login.js';
import { LoginRateLimit } from './login-rate-limit.js';
import { OidcAuthenticator } from './oidc/oidc-authenticator.js';
import { RoleTable, formatPermissions } from './roles.js';
import { TokenCache } from './token-cache.js';
import type { Principal, ProxyAuthorizer } from './types.js';

export interface CreateAuthOptions {
  logger: Logger;
  /** Clock in epoch ms; tests freeze or shift it. */
  now?: () => number;
  tokenCacheEntries?: number;
  /** Timeout of each discovery and JWKS request. */
  oidcFetchTimeoutMs?: number;
  /** Minimum time between two JWKS refetches forced by an unknown `kid`. */
  oidcRefetchCooldownMs?: number;
}

export interface Auth {
  authorizer: ProxyAuthorizer;
  login: LoginHandler;
  close(): void;
}

/** A verified caller plus whether any of its roles grants proxy access. */
interface Verified {
  principal: Principal;
  proxyAccess: boolean;
  /** Roles named in 403 messages: the known ones, or every claimed role when none is known. */
  messageRoles: string;
}

const ALL_PERMISSIONS: ReadonlySet<Permission> = new Set(['read', 'write', 'admin']);

export const ANONYMOUS_PRINCIPAL: Principal = Object.freeze({
  subject: 'anonymous',
  kind: 'anonymous',
  roles: ['admin'],
  permissions: ALL_PERMISSIONS,
  targets: '*',
  expiresAtMs: null,
});

export function createAuth(config: Config, options: CreateAuthOptions): Auth {
  const now = options.now ?? Date.now;
  const { logger } = options;
  const auth = config.auth;

  const localJwt = new LocalJwt({
    secret: auth.jwtSecret,
    expiryMinutes: auth.jwtExpiryMinutes,
    now,
  });
  if (auth.enabled && localJwt.secretGenerated) {
    logger.warn(
      'auth.jwtSecret is not set, so a random secret was made: local login tokens stop working at restart and differ between replicas',
    );
  }

  const oidc = new OidcAuthenticator(auth.enabled ? auth.oidc : [], {
    logger,
    now,
    fetchTimeoutMs: options.oidcFetchTimeoutMs,
    refetchCooldownMs: options.oidcRefetchCooldownMs,
  });
  oidc.warmUp();

  const verifier = new TokenVerifier({
    apiKeys: createApiKeyMatcher(auth.apiKeys),
    localJwt,
    oidc,
    roles: new RoleTable(auth.roles),
    cache: new TokenCache<Verified>(options.tokenCacheEntries),
    now,
  });

  const authorizer: ProxyAuthorizer = {
    enabled: auth.enabled,
    async authorizeProxy(headerValue, target) {
      if (!auth.enabled) return ANONYMOUS_PRINCIPAL;
      const verified = await verifier.verifyHeader(headerValue, () => authRequiredError());
      return checkProxyAccess(verified, target);
    },
    async authorizeAdmin(headerValue, permission) {
      if (!auth.enabled) return ANONYMOUS_PRINCIPAL;
      const verified = await verifier.verifyHeader(headerValue, () =>
        authRequiredError(ADMIN_AUTH_REQUIRED_MESSAGE),
      );
      return checkAdminPermission(verified, permission);
    },
  };

  const login = createLoginHandler({
    auth,
    localJwt,
    rateLimit: new LoginRateLimit({ now }),
    logger,
  });
  return { authorizer, login, close: () => oidc.close() };
}

function checkProxyAccess(verified: Verified, target: string | null): Principal {
  const { principal, proxyAccess, messageRoles: role } = verified;
  if (principal.kind === 'api_key') {
    if (target !== null && !mayUseTarget(principal, target)) {
      throw forbiddenError(
        `API key '${principal.subject}' is not permitted to access target '${target}'`,
      );
    }
    return principal;
  }

  if (!proxyAccess) throw forbiddenError(`Role '${role}' does not have proxy access`);
  if (target !== null && !mayUseTarget(principal, target)) {
    throw forbiddenError(`Role '${role}' cannot access target '${target}'`);
  }
  return principal;
}

function checkAdminPermission(verified: Verified, permission: Permission): Principal {
  const { principal, messageRoles: role } = verified;
  if (principal.kind === 'api_key') throw forbiddenError('API keys cannot use the admin API');
  if (!principal.permissions.has(permission)) {
    const heldPermissions = formatPermissions(principal.permissions);
    throw forbiddenError(
      `Permission denied: '${permission}' required, role '${role}' has [${heldPermissions}]`,
    );
  }
  return principal;
}

function mayUseTarget(principal: Principal, target: string): boolean {
  return principal.targets === '*' || principal.targets.has(target);
}

interface TokenVerifierParts {
  apiKeys: ReturnType<typeof createApiKeyMatcher>;
  localJwt: LocalJwt;
  oidc: OidcAuthenticator;
  roles: RoleTable;
  cache: TokenCache<Verified>;
  now: () => number;
}

/** Turns a header value into a verified caller, or throws the 401 to send. */
class TokenVerifier {
  readonly #parts: TokenVerifierParts;

  constructor(parts: TokenVerifierParts) {
    this.#parts = parts;
  }

  /** `missingError` builds the error for a missing token; it runs only then, since it is costly. */
  async verifyHeader(
    headerValue: string | undefined,
    missingError: () => Error,
  ): Promise<Verified> {
    const bearer = extractBearerToken(headerValue);
    if (bearer.kind === 'missing') throw missingError();
    if (bearer.kind === 'too_large') throw invalidTokenError();
    return this.verifyToken(bearer.token);
  }

  async verifyToken(token: string): Promise<Verified> {
    const { apiKeys, cache, now } = this.#parts;
    const key = apiKeys.match(token);
    if (key !== null) {
      return { principal: apiKeyPrincipal(key), proxyAccess: true, messageRoles: 'api_key' };
    }

    const cached = cache.get(token, now());
    if (cached !== null) return cached;

    const verified = await this.#verifyJwt(token);
    if (verified.principal.expiresAtMs !== null) {
      cache.set(token, verified, verified.principal.expiresAtMs);
    }
    return verified;
  }

  async #verifyJwt(token: string): Promise<Verified> {
    const { localJwt, oidc } = this.#parts;
    const local = await localJwt.verify(token);
    if (local.ok) {
      const { subject, role, expiresAtMs } = local.claims;
      return this.#principal('local', subject, [role], expiresAtMs);
    }

    if (!oidc.configured) throw invalidTokenError(local.reason === 'expired');
    const remote = await oidc.authenticate(token);
    if (!remote.ok) {
      throw invalidTokenError(remote.reason === 'expired' || local.reason === 'expired');
    }
    return this.#principal('oidc', remote.subject, remote.roles, remote.expiresAtMs);
  }

  #principal(
    kind: 'local' | 'oidc',
    subject: string,
    roles: string[],
    expiresAtMs: number,
  ): Verified {
    const { roles: table } = this.#parts;
    const grant = table.resolve(roles);
    const knownRoles = roles.filter((role) => table.lookup(role) !== null);
    const principal: Principal = {
      subject,
      kind,
      roles,
      permissions: grant.permissions,
      targets: grant.targets,
      expiresAtMs,
    };
    const messageRoles = describeRoles(knownRoles.length > 0 ? knownRoles : roles);
    return { principal, proxyAccess: grant.proxyAccess, messageRoles };
  }
}
