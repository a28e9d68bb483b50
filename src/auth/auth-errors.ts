/**
 * The client-facing 401 and 403 responses of proxy and admin authentication. Messages are the
 * exact texts that clients and docs rely on; they never contain the token.
 */
import { ProxyHopperError } from '../errors/index.js';

export const PROXY_AUTH_REQUIRED_MESSAGE =
  'Authentication required — set X-Proxy-Hopper-Auth: Bearer <token>';
export const ADMIN_AUTH_REQUIRED_MESSAGE =
  'Authentication required — set Authorization: Bearer <token>';
export const INVALID_TOKEN_MESSAGE = 'Invalid or expired token';

/** 401 for a request that sent no token (RFC 6750 section 3: a bare challenge). */
export function authRequiredError(message: string = PROXY_AUTH_REQUIRED_MESSAGE): ProxyHopperError {
  return new ProxyHopperError('auth_required', message, {
    headers: { 'WWW-Authenticate': 'Bearer' },
  });
}

/** 401 for a token that was sent but did not validate; `expired` adds the RFC 6750 description. */
export function invalidTokenError(expired = false): ProxyHopperError {
  const challenge = expired
    ? 'Bearer error="invalid_token", error_description="token expired"'
    : 'Bearer error="invalid_token"';
  return new ProxyHopperError('invalid_token', INVALID_TOKEN_MESSAGE, {
    headers: { 'WWW-Authenticate': challenge },
  });
}

export function forbiddenError(message: string): ProxyHopperError {
  return new ProxyHopperError('forbidden', message);
}

/** Role names as they appear in 403 messages: `admin`, `data-team, viewer`, or `none`. */
export function describeRoles(roles: readonly string[]): string {
  return roles.length > 0 ? roles.join(', ') : 'none';
}
