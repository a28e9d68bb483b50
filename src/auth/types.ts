/**
 * What the proxy listener and the admin server need from authentication: turn a bearer token
 * into a principal, and decide whether that principal may use a target or an admin permission.
 */
import type { Permission } from '../config/types.js';

export interface Principal {
  /** `sub` of a JWT, the API key's name, or `anonymous` when auth is off. */
  subject: string;
  kind: 'api_key' | 'local' | 'oidc' | 'anonymous';
  /** Role names of the caller (empty for API keys). */
  roles: string[];
  permissions: ReadonlySet<Permission>;
  /** Target names the caller may use, or `*` for all. */
  targets: '*' | ReadonlySet<string>;
  /** Token expiry in epoch ms, when the token has one. */
  expiresAtMs: number | null;
}

export interface ProxyAuthorizer {
  readonly enabled: boolean;
  /**
   * Checks the raw `X-Proxy-Hopper-Auth` header value for a request whose matched target is
   * `target` (null when no target matched). Resolves with the principal, or rejects with a
   * ProxyHopperError (401 `auth_required` / `invalid_token`, 403 `forbidden`) whose message
   * is the exact client-facing text.
   */
  authorizeProxy(headerValue: string | undefined, target: string | null): Promise<Principal>;
  /** Same for admin routes: checks `Authorization` (or `X-Proxy-Hopper-Auth`) and a permission. */
  authorizeAdmin(headerValue: string | undefined, permission: Permission): Promise<Principal>;
}
