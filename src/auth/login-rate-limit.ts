/**
 * Failed-login limit per client address: after `maxFailures` failures within `windowMs`, the
 * address gets 429 until the oldest failure leaves the window. Memory is bounded by evicting
 * the least recently failing address.
 */
export const DEFAULT_MAX_FAILED_LOGINS = 5;
export const DEFAULT_FAILED_LOGIN_WINDOW_MS = 60_000;
const MAX_TRACKED_ADDRESSES = 10_000;

export interface LoginRateLimitOptions {
  maxFailures?: number;
  windowMs?: number;
  now: () => number;
}

export class LoginRateLimit {
  readonly #failures = new Map<string, number[]>();
  readonly #maxFailures: number;
  readonly #windowMs: number;
  readonly #now: () => number;

  constructor(options: LoginRateLimitOptions) {
    this.#maxFailures = options.maxFailures ?? DEFAULT_MAX_FAILED_LOGINS;
    this.#windowMs = options.windowMs ?? DEFAULT_FAILED_LOGIN_WINDOW_MS;
    this.#now = options.now;
  }

  /** Returns the seconds until `address` may try again, or 0 when it may try now. */
  retryAfterSec(address: string): number {
    const recent = this.#recentFailures(address);
    if (recent.length < this.#maxFailures) return 0;
    const oldest = recent[recent.length - this.#maxFailures] ?? this.#now();
    return Math.max(1, Math.ceil((oldest + this.#windowMs - this.#now()) / 1000));
  }

  recordFailure(address: string): void {
    const recent = this.#recentFailures(address);
    recent.push(this.#now());
    this.#failures.delete(address);
    this.#failures.set(address, recent.slice(-this.#maxFailures));

    if (this.#failures.size > MAX_TRACKED_ADDRESSES) {
      const oldest = this.#failures.keys().next();
      if (oldest.done !== true) this.#failures.delete(oldest.value);
    }
  }

  #recentFailures(address: string): number[] {
    const cutoffMs = this.#now() - this.#windowMs;
    return (this.#failures.get(address) ?? []).filter((atMs) => atMs > cutoffMs);
  }
}
