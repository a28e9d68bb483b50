/**
 * OIDC access tokens from one or more providers. A token goes to the provider whose issuer
 * equals its `iss` byte for byte; the provider's keys, audience and clock tolerance decide.
 */
import { type JWTPayload, decodeJwt } from 'jose';
import type { Logger } from 'pino';

import type { OidcProviderConfig } from '../../config/types.js';
import { RateLimitedLog } from '../rate-limited-log.js';
import { differOnlyByTrailingSlash } from './discovery.js';
import { KeyStore } from './key-store.js';
import { readRoleClaim } from './role-claim.js';
import {
  type TokenCheck,
  type TokenFailureReason,
  checkAlgorithm,
  verifyToken,
} from './verify-token.js';

/** Role of a token whose role claim is absent. */
export const DEFAULT_OIDC_ROLE = 'viewer';

export type OidcResult =
  | { ok: true; provider: string; subject: string; roles: string[]; expiresAtMs: number }
  | { ok: false; reason: TokenFailureReason };

export interface OidcAuthenticatorOptions {
  logger: Logger;
  now: () => number;
  fetchTimeoutMs?: number;
  refetchCooldownMs?: number;
}

interface ProviderEntry {
  config: OidcProviderConfig;
  keys: KeyStore;
}

export class OidcAuthenticator {
  readonly #providers: Map<string, ProviderEntry>;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #issuerWarnings: RateLimitedLog;

  constructor(providers: readonly OidcProviderConfig[], options: OidcAuthenticatorOptions) {
    this.#logger = options.logger;
    this.#now = options.now;
    this.#issuerWarnings = new RateLimitedLog(options.now);
    this.#providers = new Map(
      providers.map((config) => [
        config.issuer,
        { config, keys: new KeyStore({ ...options, provider: config }) },
      ]),
    );
  }

  get configured(): boolean {
    return this.#providers.size > 0;
  }

  /** Starts loading every provider's keys in the background; failures are logged. */
  warmUp(): void {
    for (const { keys } of this.#providers.values()) void keys.refresh();
  }

  async authenticate(token: string): Promise<OidcResult> {
    const rejected = checkAlgorithm(token);
    if (rejected !== null && !rejected.ok) return this.#fail(rejected, null);

    let claims: JWTPayload;
    try {
      claims = decodeJwt(token);
    } catch {
      return { ok: false, reason: 'malformed' };
    }

    const entry = typeof claims.iss === 'string' ? this.#providers.get(claims.iss) : undefined;
    if (entry === undefined) {
      this.#warnUnknownIssuer(claims.iss);
      return { ok: false, reason: 'issuer' };
    }

    const check = await this.#verify(token, entry);
    if (!check.ok) return this.#fail(check, entry.config.name);
    return this.#success(check.payload, entry.config);
  }

  close(): void {
    for (const { keys } of this.#providers.values()) keys.close();
  }

  async #verify(token: string, entry: ProviderEntry): Promise<TokenCheck> {
    const rules = {
      issuer: entry.config.issuer,
      audience: entry.config.audience,
      clockToleranceSec: entry.config.clockToleranceSec,
      nowMs: this.#now(),
    };
    const keySet = await entry.keys.keySet();
    if (keySet === null) return { ok: false, reason: 'keys_unavailable', detail: 'no keys loaded' };

    const check = await verifyToken(token, keySet, rules);
    if (check.ok || check.reason !== 'no_matching_key') return check;

    const refreshed = await entry.keys.keySetAfterUnknownKid();
    return refreshed === null ? check : verifyToken(token, refreshed, rules);
  }

  #success(payload: JWTPayload, config: OidcProviderConfig): OidcResult {
    const roles = readRoleClaim(payload, config.rolesClaim) ?? [DEFAULT_OIDC_ROLE];
    const subject = typeof payload.sub === 'string' ? payload.sub : '';
    return {
      ok: true,
      provider: config.name,
      subject,
      roles,
      expiresAtMs: (payload.exp ?? 0) * 1000,
    };
  }

  #fail(check: Extract<TokenCheck, { ok: false }>, provider: string | null): OidcResult {
    this.#logger.debug(
      { provider, reason: check.reason, detail: check.detail },
      'OIDC token rejected',
    );
    return { ok: false, reason: check.reason };
  }

  #warnUnknownIssuer(tokenIssuer: unknown): void {
    const issuerText =
      typeof tokenIssuer === 'string' ? tokenIssuer : JSON.stringify(tokenIssuer ?? null);
    const configuredIssuers = [...this.#providers.keys()];
    const nearMiss = configuredIssuers.find(
      (issuer) => typeof tokenIssuer === 'string' && differOnlyByTrailingSlash(issuer, tokenIssuer),
    );
    // One key per near-missed provider plus one for all other issuers, so tokens with many
    // made-up issuers cannot flood the log.
    const suppressed = this.#issuerWarnings.allow(nearMiss ?? '');
    if (suppressed === null) return;

    const hint =
      nearMiss === undefined
        ? 'set the OIDC issuer to the exact iss value of the tokens'
        : `the issuers differ only by a trailing slash; set the OIDC issuer to ${JSON.stringify(tokenIssuer)} exactly`;
    this.#logger.warn(
      {
        tokenIssuer: issuerText.slice(0, 200),
        configuredIssuers,
        hint,
        suppressedRepeats: suppressed,
      },
      'OIDC token rejected: its issuer matches no configured issuer',
    );
  }
}
