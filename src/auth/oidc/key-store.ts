/**
 * Signing keys of one OIDC provider: discovery, then the JWKS from `jwks_uri`, kept for
 * `jwksCacheTtlMs`. Stale keys stay in use while a background refresh runs. They also stay in
 * use when that refresh fails, so an IdP outage does not reject valid tokens. An unknown `kid`
 * forces one refetch per cooldown, so key rotation works without a restart.
 */
import { type JWTVerifyGetKey, createLocalJWKSet } from 'jose';
import type { Logger } from 'pino';

import type { OidcProviderConfig } from '../../config/types.js';
import { RateLimitedLog } from '../rate-limited-log.js';
import { DEFAULT_FETCH_TIMEOUT_MS, discoveryUrl, fetchDiscovery, fetchJson } from './discovery.js';

export const DEFAULT_REFETCH_COOLDOWN_MS = 10_000;
/** Wait after a failed refresh before the next attempt, capped by the cache TTL. */
const RETRY_AFTER_FAILURE_MS = 5_000;

export interface KeyStoreOptions {
  provider: OidcProviderConfig;
  logger: Logger;
  now: () => number;
  fetchTimeoutMs?: number;
  refetchCooldownMs?: number;
}

interface LoadedKeys {
  keySet: JWTVerifyGetKey;
  fetchedAtMs: number;
}

export class KeyStore {
  readonly #provider: OidcProviderConfig;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #fetchTimeoutMs: number;
  readonly #refetchCooldownMs: number;
  readonly #warnings: RateLimitedLog;
  readonly #closed = new AbortController();
  #keys: LoadedKeys | null = null;
  #refreshing: Promise<boolean> | null = null;
  #nextAttemptAtMs = 0;
  #lastForcedAtMs = Number.NEGATIVE_INFINITY;

  constructor(options: KeyStoreOptions) {
    this.#provider = options.provider;
    this.#logger = options.logger;
    this.#now = options.now;
    this.#fetchTimeoutMs = options.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
    this.#refetchCooldownMs = options.refetchCooldownMs ?? DEFAULT_REFETCH_COOLDOWN_MS;
    this.#warnings = new RateLimitedLog(options.now);
  }

  /**
   * Returns the current key set, waiting for a fetch only when no keys were ever loaded. Stale
   * keys start a background refresh and are returned at once.
   */
  async keySet(): Promise<JWTVerifyGetKey | null> {
    const nowMs = this.#now();
    if (this.#keys === null) {
      if (nowMs >= this.#nextAttemptAtMs) await this.refresh();
      return this.#currentKeySet();
    }

    const stale = nowMs - this.#keys.fetchedAtMs >= this.#provider.jwksCacheTtlMs;
    if (stale && nowMs >= this.#nextAttemptAtMs) void this.refresh();
    return this.#keys.keySet;
  }

  /**
   * Refetches after a token named a `kid` that the cached set lacks. Returns the new set, or
   * null when a forced refetch already ran within the cooldown or the refetch failed.
   */
  async keySetAfterUnknownKid(): Promise<JWTVerifyGetKey | null> {
    const nowMs = this.#now();
    if (nowMs - this.#lastForcedAtMs < this.#refetchCooldownMs) return null;
    this.#lastForcedAtMs = nowMs;
    return (await this.refresh()) ? this.#currentKeySet() : null;
  }

  #currentKeySet(): JWTVerifyGetKey | null {
    return this.#keys?.keySet ?? null;
  }

  /** Loads discovery and JWKS now, and concurrent callers share one fetch. Resolves false on failure. */
  refresh(): Promise<boolean> {
    this.#refreshing ??= this.#load().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  close(): void {
    this.#closed.abort();
  }

  async #load(): Promise<boolean> {
    const signal = AbortSignal.any([
      this.#closed.signal,
      AbortSignal.timeout(this.#fetchTimeoutMs),
    ]);
    try {
      const jwks = await this.#fetchKeys(signal);
      const first = this.#keys === null;
      this.#keys = { keySet: createLocalJWKSet(jwks), fetchedAtMs: this.#now() };
      this.#nextAttemptAtMs = 0;
      const kids = jwks.keys.map((key) => key.kid ?? null);
      this.#logger[first ? 'info' : 'debug'](
        { provider: this.#provider.name, keyCount: jwks.keys.length, kids },
        'OIDC signing keys loaded',
      );
      return true;
    } catch (error) {
      this.#recordFailure(error);
      return false;
    }
  }

  async #fetchKeys(signal: AbortSignal): Promise<{ keys: { kid?: string }[] }> {
    const issuer = this.#provider.issuer;
    const discovery = await fetchDiscovery(issuer, signal);
    if (discovery.issuer !== issuer) {
      throw new Error(
        `discovery document issuer ${JSON.stringify(discovery.issuer)} differs from the ` +
          `configured issuer ${JSON.stringify(issuer)}; set the OIDC issuer (issuerUrl) to exactly the discovery value`,
      );
    }

    const jwks = await fetchJson(discovery.jwksUri, signal);
    const keys = (jwks as { keys?: unknown }).keys;
    if (!Array.isArray(keys)) throw new Error(`JWKS at ${discovery.jwksUri} has no keys array`);
    return { keys: keys as { kid?: string }[] };
  }

  #recordFailure(error: unknown): void {
    if (this.#closed.signal.aborted) return;
    this.#nextAttemptAtMs =
      this.#now() + Math.min(RETRY_AFTER_FAILURE_MS, this.#provider.jwksCacheTtlMs);

    const suppressed = this.#warnings.allow('refresh');
    if (suppressed === null) return;
    const cached = this.#keys !== null;
    this.#logger.warn(
      {
        provider: this.#provider.name,
        issuer: this.#provider.issuer,
        discoveryUrl: discoveryUrl(this.#provider.issuer),
        err:
          error instanceof Error
            ? { message: error.message, cause: String(error.cause ?? '') }
            : String(error),
        suppressedRepeats: suppressed,
      },
      cached
        ? 'OIDC signing key refresh failed; cached keys stay in use'
        : 'OIDC signing keys could not be loaded; tokens of this provider are rejected',
    );
  }
}
