/**
 * Probe results per upstream address, for the dispatcher. With `probeQuarantine` on, addresses
 * whose latest probe failed join the request's `avoid` set, so Backend.tryAcquire uses them
 * only when no other IP of the target is in rotation: a failing probe URL can never empty a
 * pool. With it off, probes only feed metrics and logs.
 */

export class ProbeHealth {
  private readonly failing = new Set<string>();

  constructor(readonly quarantineEnabled: boolean) {}

  /** Records a probe result. Returns true when the address changed between passing and failing. */
  record(address: string, ok: boolean): boolean {
    const wasFailing = this.failing.has(address);
    if (ok) this.failing.delete(address);
    else this.failing.add(address);
    return wasFailing === ok;
  }

  /** False when the latest probe through `address` failed; true when it passed or never ran. */
  isReachable(address: string): boolean {
    return !this.failing.has(address);
  }

  /** Addresses whose latest probe failed. */
  failingAddresses(): ReadonlySet<string> {
    return this.failing;
  }

  /**
   * Builds the set to pass as `avoid` to Backend.tryAcquire: `tried` plus the failing addresses when
   * probe quarantine is on. Returns `tried` itself when nothing is added, so the common case
   * allocates nothing.
   */
  avoidSet(tried: ReadonlySet<string>): ReadonlySet<string> {
    if (!this.quarantineEnabled || this.failing.size === 0) return tried;
    return new Set([...tried, ...this.failing]);
  }

  /** Drops results for addresses no longer probed. */
  retain(addresses: ReadonlySet<string>): void {
    for (const address of this.failing) if (!addresses.has(address)) this.failing.delete(address);
  }
}
