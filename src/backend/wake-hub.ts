/**
 * The onWake listeners of a backend. Wake-ups are delivered in a microtask after the state
 * change that caused them. So a listener that calls the backend again never runs inside the
 * operation that is still changing state, and several wake-ups of one target in the same tick
 * are delivered once.
 */
export type WakeListener = (target: string) => void;

export class WakeHub {
  private listeners: WakeListener[] = [];
  private readonly pending = new Set<string>();

  /** `onListenerError` receives what a listener throws; the other listeners still run. */
  constructor(private readonly onListenerError: (err: unknown) => void = () => {}) {}

  add(listener: WakeListener): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((entry) => entry !== listener);
    };
  }

  schedule(target: string): void {
    if (this.pending.has(target)) return;
    this.pending.add(target);
    queueMicrotask(() => {
      this.pending.delete(target);
      this.deliver(target);
    });
  }

  clear(): void {
    this.listeners = [];
  }

  private deliver(target: string): void {
    for (const listener of this.listeners) {
      try {
        listener(target);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }
}
