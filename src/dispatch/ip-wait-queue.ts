/**
 * The FIFO of requests of one target waiting for an IP, on this instance. The backend decides
 * which IP is free; this queue decides who asks first and when to ask again: on a wake-up
 * from the backend, or at the time the backend returned as the next ready time.
 */
import type { AcquireResult, Backend, Lease } from '../backend/types.js';
import { ProxyHopperError } from '../errors/index.js';
import type { EventBus } from '../observe/events.js';

interface Waiter {
  requestId: string;
  avoid: ReadonlySet<string>;
  deadlineMs: number;
  resolve: (lease: Lease) => void;
  reject: (err: unknown) => void;
  timer: NodeJS.Timeout | null;
  settled: boolean;
  /** The backend's last result for this waiter, used to explain a timeout. */
  lastWait: Extract<AcquireResult, { kind: 'wait' }> | null;
  signal: AbortSignal | null;
  onAbort: (() => void) | null;
}

export class IpWaitQueue {
  private readonly waiters: Waiter[] = [];
  private pumping = false;
  private pumpAgain = false;
  private wakeTimer: NodeJS.Timeout | null = null;
  private wakeAtMs = Number.POSITIVE_INFINITY;
  private closed = false;

  constructor(
    private readonly target: string,
    private readonly backend: Backend,
    private readonly events: EventBus,
    private readonly now: () => number = Date.now,
    /**
     * Upper bound of the Retry-After of `queue_timeout`. The backend's ready time may be a
     * lease expiry far ahead, while a busy IP usually frees within about one interval.
     */
    private readonly retryAfterCapMs: number = 30_000,
  ) {}

  get depth(): number {
    return this.waiters.length;
  }

  /**
   * Resolves with a lease on an IP of the target, preferring IPs not in `avoid`. Rejects with
   * `queue_timeout` or `no_ip_available` once `deadlineMs` passes, and with the abort reason
   * when `signal` aborts (the client went away).
   */
  acquire(
    requestId: string,
    avoid: ReadonlySet<string>,
    deadlineMs: number,
    signal: AbortSignal | null,
  ): Promise<Lease> {
    if (this.closed) return Promise.reject(shutdownError());
    return new Promise<Lease>((resolve, reject) => {
      const waiter: Waiter = {
        requestId,
        avoid,
        deadlineMs,
        resolve,
        reject,
        timer: null,
        settled: false,
        lastWait: null,
        signal,
        onAbort: null,
      };
      const remainingMs = deadlineMs - this.now();
      waiter.timer = setTimeout(() => this.expire(waiter), Math.max(0, remainingMs));
      if (signal !== null) {
        waiter.onAbort = () =>
          this.settle(waiter, { error: signal.reason ?? new Error('aborted') });
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
      this.publishDepth();
      this.pump();
    });
  }

  /** Asks the backend again for every waiter; called on wake-ups and timers. */
  pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    void this.runPump().finally(() => {
      this.pumping = false;
      if (this.pumpAgain) {
        this.pumpAgain = false;
        this.pump();
      }
    });
  }

  /** Rejects every waiter with `server_shutdown`; later acquires reject at once. */
  close(): void {
    this.closed = true;
    if (this.wakeTimer !== null) clearTimeout(this.wakeTimer);
    for (const waiter of [...this.waiters]) this.settle(waiter, { error: shutdownError() });
  }

  private async runPump(): Promise<void> {
    let earliestReadyMs = Number.POSITIVE_INFINITY;
    for (const waiter of [...this.waiters]) {
      if (waiter.settled) continue;
      let result: AcquireResult;
      try {
        result = await this.backend.tryAcquire(this.target, waiter.avoid);
      } catch (err) {
        // The backend is unavailable: fail this waiter now rather than let it wait blind.
        this.settle(waiter, { error: err });
        continue;
      }
      if (result.kind === 'leased') {
        if (waiter.settled) {
          // The waiter timed out or aborted during the backend call, so the IP goes back.
          void this.backend
            .release(result.lease, { result: 'neutral', cooldownFromRelease: false })
            .catch(() => {});
          continue;
        }
        this.settle(waiter, { lease: result.lease });
        continue;
      }
      waiter.lastWait = result;
      if (
        result.inRotation === 0 &&
        !quarantineEndsBefore(result.nextQuarantineEndMs, waiter.deadlineMs)
      ) {
        // Every IP is quarantined past this request's deadline: waiting cannot help.
        this.settle(waiter, { error: this.timeoutError(waiter) });
        continue;
      }
      if (result.readyAtMs !== null) earliestReadyMs = Math.min(earliestReadyMs, result.readyAtMs);
      // A waiter with nothing to avoid sees what every later one would see, so stop here. This
      // keeps the queue FIFO and bounds the backend calls per pump.
      if (waiter.avoid.size === 0) break;
    }
    this.scheduleWake(earliestReadyMs);
  }

  private scheduleWake(atMs: number): void {
    if (!Number.isFinite(atMs) || this.waiters.length === 0) return;
    if (this.wakeTimer !== null && atMs >= this.wakeAtMs) return;
    if (this.wakeTimer !== null) clearTimeout(this.wakeTimer);
    this.wakeAtMs = atMs;
    this.wakeTimer = setTimeout(
      () => {
        this.wakeTimer = null;
        this.wakeAtMs = Number.POSITIVE_INFINITY;
        this.pump();
      },
      Math.max(0, atMs - this.now()),
    );
  }

  private expire(waiter: Waiter): void {
    if (waiter.settled) return;
    this.settle(waiter, { error: this.timeoutError(waiter) });
  }

  private timeoutError(waiter: Waiter): ProxyHopperError {
    const last = waiter.lastWait;
    const nowMs = this.now();
    if (last !== null && last.inRotation === 0) {
      const retryAfterSec = secondsUntil(last.nextQuarantineEndMs, nowMs);
      this.events.emit('queue_expired', {
        requestId: waiter.requestId,
        target: this.target,
        code: 'no_ip_available',
      });
      return new ProxyHopperError(
        'no_ip_available',
        `No proxy IP available within the allowed wait time: every IP of target '${this.target}' is quarantined. Retry after ${retryAfterSec} s.`,
        { headers: { 'retry-after': String(retryAfterSec) } },
      );
    }
    const readyAtMs = last?.readyAtMs ?? null;
    const cappedReadyAtMs =
      readyAtMs === null ? null : Math.min(readyAtMs, nowMs + this.retryAfterCapMs);
    const retryAfterSec = secondsUntil(cappedReadyAtMs, nowMs);
    this.events.emit('queue_expired', {
      requestId: waiter.requestId,
      target: this.target,
      code: 'queue_timeout',
    });
    return new ProxyHopperError(
      'queue_timeout',
      `Request expired waiting in queue: no IP of target '${this.target}' became free within maxQueueWait. Retry later or raise maxQueueWait.`,
      { headers: { 'retry-after': String(retryAfterSec) } },
    );
  }

  private settle(waiter: Waiter, outcome: { lease: Lease } | { error: unknown }): void {
    if (waiter.settled) return;
    waiter.settled = true;
    if (waiter.timer !== null) clearTimeout(waiter.timer);
    if (waiter.signal !== null && waiter.onAbort !== null)
      waiter.signal.removeEventListener('abort', waiter.onAbort);
    const index = this.waiters.indexOf(waiter);
    if (index !== -1) this.waiters.splice(index, 1);
    this.publishDepth();
    if ('lease' in outcome) waiter.resolve(outcome.lease);
    else waiter.reject(outcome.error);
  }

  private publishDepth(): void {
    this.events.emit('queue_depth', { target: this.target, depth: this.waiters.length });
  }
}

function quarantineEndsBefore(endMs: number | null, deadlineMs: number): boolean {
  return endMs !== null && endMs <= deadlineMs;
}

function secondsUntil(atMs: number | null, nowMs: number): number {
  if (atMs === null) return 1;
  return Math.max(1, Math.ceil((atMs - nowMs) / 1000));
}

function shutdownError(): ProxyHopperError {
  return new ProxyHopperError(
    'server_shutdown',
    'Server is shutting down: retry on another instance.',
  );
}
