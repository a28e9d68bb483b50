/**
 * Bounded LRU of verified tokens, keyed by the SHA-256 of the token so the cache never stores a
 * token itself. An entry lives until the token's expiry; the oldest entry goes first when full.
 */
import { createHash } from 'node:crypto';

export const DEFAULT_TOKEN_CACHE_ENTRIES = 10_000;

export class TokenCache<T> {
  readonly #entries = new Map<string, { value: T; expiresAtMs: number }>();
  readonly #maxEntries: number;

  constructor(maxEntries = DEFAULT_TOKEN_CACHE_ENTRIES) {
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(token: string, nowMs: number): T | null {
    const key = cacheKey(token);
    const entry = this.#entries.get(key);
    if (entry === undefined) return null;

    this.#entries.delete(key);
    if (nowMs >= entry.expiresAtMs) return null;
    this.#entries.set(key, entry);
    return entry.value;
  }

  set(token: string, value: T, expiresAtMs: number): void {
    const key = cacheKey(token);
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAtMs });

    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
  }

  clear(): void {
    this.#entries.clear();
  }
}

function cacheKey(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64');
}
