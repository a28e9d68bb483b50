/**
 * The in-process backend: each target's rotation state lives in a MemoryPool of this process
 * only, so two Proxy Hopper instances with this backend do not share IPs, spacing or
 * quarantine. A timer per target wakes waiting requests when a lease expires or a quarantine
 * ends without any other backend call.
 */
import { ProxyHopperError } from '../errors/index.js';
import type { EventBus } from '../observe/events.js';
import { MemoryPool, type PoolEventSink } from './memory-pool.js';
import type {
  AcquireResult,
  Backend,
  IpState,
  Lease,
  ReleaseOptions,
  ReleaseResult,
  TargetPoolSpec,
} from './types.js';
import { WakeHub } from './wake-hub.js';

export const DEFAULT_LEASE_TTL_MS = 30_000;

export interface MemoryBackendOptions {
  /** How long a lease lives without renewal; default 30 s. */
  leaseTtlMs?: number;
  events?: EventBus;
  /** Clock in epoch ms; tests pass a frozen one. Timers still use real time. */
  now?: () => number;
}

export class MemoryBackend implements Backend {
  readonly kind = 'memory' as const;
  private readonly pools = new Map<string, MemoryPool>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly wakes: WakeHub;
  private readonly leaseTtlMs: number;
  private readonly now: () => number;
  private readonly emit: PoolEventSink;
  private stopped = false;

  constructor(options: MemoryBackendOptions = {}) {
    this.leaseTtlMs = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
    this.now = options.now ?? Date.now;
    const events = options.events;
    this.emit = (event, payload) => events?.emit(event, payload);
    this.wakes = new WakeHub((err) => events?.emit('listener_error', { event: 'wake', err }));
  }

  async start(): Promise<void> {
    this.stopped = false;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.wakes.clear();
  }

  isReady(): boolean {
    return true;
  }

  async syncTarget(spec: TargetPoolSpec): Promise<void> {
    const pool = this.pools.get(spec.target);
    if (pool) pool.sync(spec);
    else this.pools.set(spec.target, new MemoryPool(spec, this.leaseTtlMs, this.emit));
    this.afterChange(spec.target);
  }

  async tryAcquire(target: string, avoid: ReadonlySet<string>): Promise<AcquireResult> {
    const pool = this.refreshed(target);
    if (!pool) {
      throw new ProxyHopperError(
        'proxy_error',
        `Target '${target}' is not registered with the memory backend: call syncTarget first.`,
      );
    }
    const result = pool.tryAcquire(this.now(), avoid);
    if (result.kind === 'leased') this.arm(target);
    return result;
  }

  async renew(lease: Lease): Promise<boolean> {
    const pool = this.refreshed(lease.target);
    const renewed = pool?.renew(this.now(), lease) ?? false;
    if (renewed) this.arm(lease.target);
    return renewed;
  }

  async release(lease: Lease, options: ReleaseOptions): Promise<ReleaseResult> {
    const pool = this.refreshed(lease.target);
    if (!pool) {
      return { failures: 0, quarantined: false, floorHeld: false, activeIps: 0, applied: false };
    }
    const result = pool.release(this.now(), lease, options);
    if (result.applied) this.afterChange(lease.target);
    return result;
  }

  async snapshot(target: string): Promise<IpState[]> {
    return this.refreshed(target)?.snapshot(this.now()) ?? [];
  }

  onWake(listener: (target: string) => void): () => void {
    return this.wakes.add(listener);
  }

  /** Returns the target's pool after ending due quarantines and expired leases. */
  private refreshed(target: string): MemoryPool | undefined {
    const pool = this.pools.get(target);
    if (pool && pool.refresh(this.now())) this.afterChange(target);
    return pool;
  }

  private afterChange(target: string): void {
    this.arm(target);
    this.wakes.schedule(target);
  }

  /** Sets the target's timer to its next lease expiry or quarantine end. */
  private arm(target: string): void {
    const previous = this.timers.get(target);
    if (previous) clearTimeout(previous);
    this.timers.delete(target);

    const deadlineMs = this.pools.get(target)?.nextDeadlineMs() ?? null;
    if (deadlineMs === null || this.stopped) return;
    const delayMs = Math.max(1, deadlineMs - this.now());
    const timer = setTimeout(() => {
      this.timers.delete(target);
      this.refreshed(target);
      if (!this.timers.has(target)) this.arm(target);
    }, delayMs);
    timer.unref();
    this.timers.set(target, timer);
  }
}
