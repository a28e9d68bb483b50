/**
 * Lease ids of acquires that failed on this instance after the command was sent. Redis may
 * still have run them (a reply lost with the connection, or a stalled server that resumes
 * and works off its input buffer), so their leases are cancelled once Redis serves again;
 * otherwise those IPs would stay leased to nobody until the lease TTL ends.
 */
const MAX_ORPHANS_PER_TARGET = 10_000;

export class OrphanedLeases {
  private readonly byTarget = new Map<string, Set<string>>();

  add(target: string, leaseId: string): void {
    const ids = this.byTarget.get(target) ?? new Set<string>();
    // NOTE: past the cap the oldest ids are dropped; their leases end with the lease TTL.
    if (ids.size >= MAX_ORPHANS_PER_TARGET) ids.delete(ids.values().next().value ?? '');
    ids.add(leaseId);
    this.byTarget.set(target, ids);
  }

  /** Removes and returns every target's lease ids. */
  takeAll(): Map<string, string[]> {
    const taken = new Map([...this.byTarget].map(([target, ids]) => [target, [...ids]]));
    this.byTarget.clear();
    return taken;
  }

  /** Puts ids back after a cancel attempt failed. */
  restore(target: string, leaseIds: string[]): void {
    for (const leaseId of leaseIds) this.add(target, leaseId);
  }
}
