/**
 * Holds one lease for the life of an attempt. It renews the lease from the attempt's start
 * until the response body ends, so a slow response or a long download does not let the IP be
 * handed out twice (unless renewals fail, with Redis unreachable, for a whole lease TTL). It
 * releases the lease exactly once.
 */
import type { Backend, Lease, ReleaseOptions, ReleaseResult } from '../backend/types.js';

export class LeaseHolder {
  private renewTimer: NodeJS.Timeout | null = null;
  private released = false;
  private sendDelayMs = 0;

  constructor(
    private readonly backend: Backend,
    readonly lease: Lease,
    private readonly onBackendError: (operation: string, err: unknown) => void,
  ) {}

  /** Records when the attempt was really sent, so spacing is kept from that moment. */
  markSent(sentAtMs: number): void {
    this.sendDelayMs = Math.max(0, sentAtMs - this.lease.acquiredAtMs);
  }

  /** Renews the lease every third of its lifetime until release. */
  keepAlive(leaseTtlMs: number): void {
    if (this.renewTimer !== null || this.released) return;
    const everyMs = Math.max(50, Math.floor(leaseTtlMs / 3));
    this.renewTimer = setInterval(() => {
      this.backend.renew(this.lease).catch((err: unknown) => this.onBackendError('renew', err));
    }, everyMs);
    this.renewTimer.unref();
  }

  async release(options: ReleaseOptions): Promise<ReleaseResult | null> {
    if (this.released) return null;
    this.released = true;
    if (this.renewTimer !== null) clearInterval(this.renewTimer);
    try {
      return await this.backend.release(this.lease, { sendDelayMs: this.sendDelayMs, ...options });
    } catch (err) {
      // The lease expires by itself in the backend, so the IP is not lost.
      this.onBackendError('release', err);
      return null;
    }
  }
}
