/**
 * Gate for repeated warnings: a key (such as a provider name or an unknown issuer) may log once
 * per interval, and the next message reports how many were suppressed in between.
 */
export const DEFAULT_LOG_INTERVAL_MS = 60_000;
const MAX_TRACKED_KEYS = 1_000;

export class RateLimitedLog {
  readonly #lastLogged = new Map<string, { atMs: number; suppressed: number }>();
  readonly #intervalMs: number;
  readonly #now: () => number;

  constructor(now: () => number, intervalMs = DEFAULT_LOG_INTERVAL_MS) {
    this.#now = now;
    this.#intervalMs = intervalMs;
  }

  /**
   * Returns the number of suppressed repeats when `key` may log now, or null when it logged
   * less than one interval ago.
   */
  allow(key: string): number | null {
    const nowMs = this.#now();
    const entry = this.#lastLogged.get(key);
    if (entry !== undefined && nowMs - entry.atMs < this.#intervalMs) {
      entry.suppressed += 1;
      return null;
    }

    this.#lastLogged.delete(key);
    this.#lastLogged.set(key, { atMs: nowMs, suppressed: 0 });
    if (this.#lastLogged.size > MAX_TRACKED_KEYS) {
      const oldest = this.#lastLogged.keys().next();
      if (oldest.done !== true) this.#lastLogged.delete(oldest.value);
    }
    return entry?.suppressed ?? 0;
  }
}
