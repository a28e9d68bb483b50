/**
 * One unref'd timer per target that fires at the target's next lease expiry or quarantine
 * end, so waiting requests wake even when no other backend call happens meanwhile.
 */
export class TargetTimers {
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; dueAtMs: number }>();

  constructor(private readonly onDue: (target: string) => void | Promise<void>) {}

  /** Arms the target's timer for `delayMs` unless it is already due sooner. */
  arm(target: string, delayMs: number): void {
    const dueAtMs = Date.now() + delayMs;
    const current = this.timers.get(target);
    if (current && current.dueAtMs <= dueAtMs) return;
    if (current) clearTimeout(current.timer);
    // A few ms of slack, so the Redis clock has passed the deadline when the refresh runs.
    const timer = setTimeout(() => {
      this.timers.delete(target);
      void this.onDue(target);
    }, delayMs + 5);
    timer.unref();
    this.timers.set(target, { timer, dueAtMs });
  }

  clear(): void {
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
