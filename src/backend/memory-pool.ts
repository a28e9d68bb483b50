/**
 * The in-process rotation state of one target's pool: leases, start-to-start spacing,
 * consecutive failures and quarantine. Every method takes the current time, so the class is
 * pure logic; MemoryBackend adds the clock, timers and wake-ups around it.
 */
import { randomUUID } from 'node:crypto';
import type { ResolvedIp } from '../config/types.js';
import type { EventMap } from '../observe/events.js';
import type {
  AcquireResult,
  IpState,
  IpStatus,
  Lease,
  ReleaseOptions,
  ReleaseResult,
  TargetPoolSpec,
} from './types.js';

interface IpRecord {
  ip: ResolvedIp;
  leaseId: string | null;
  leaseExpiresAtMs: number;
  /** Start time of the latest lease; rotation prefers the IP that has waited longest. */
  lastStartMs: number;
  nextReadyAtMs: number;
  failures: number;
  quarantinedUntilMs: number | null;
}

/** Publishes one backend event, so MemoryPool needs no EventBus of its own. */
export type PoolEventSink = <K extends keyof EventMap>(event: K, payload: EventMap[K]) => void;

export class MemoryPool {
  private spec: TargetPoolSpec;
  private records = new Map<string, IpRecord>();

  constructor(
    spec: TargetPoolSpec,
    private readonly leaseTtlMs: number,
    private readonly emit: PoolEventSink,
  ) {
    this.spec = spec;
    this.sync(spec);
  }

  /** Applies a new spec: keeps the state of addresses that stay, in the spec's order. */
  sync(spec: TargetPoolSpec): void {
    const next = new Map<string, IpRecord>();
    for (const ip of spec.ips) {
      const kept = this.records.get(ip.address);
      next.set(ip.address, kept ? { ...kept, ip } : newRecord(ip));
    }
    this.spec = spec;
    this.records = next;
  }

  /**
   * Ends quarantines and frees leases whose time has passed. Returns true when an IP may have
   * become free, so the caller wakes waiting requests.
   */
  refresh(nowMs: number): boolean {
    let changed = false;
    for (const record of this.records.values()) {
      if (record.quarantinedUntilMs !== null && record.quarantinedUntilMs <= nowMs) {
        record.quarantinedUntilMs = null;
        record.failures = 0;
        this.emit('quarantine_release', this.labels(record));
        changed = true;
      }
      if (record.leaseId !== null && record.leaseExpiresAtMs <= nowMs) {
        record.leaseId = null;
        changed = true;
      }
    }
    return changed;
  }

  tryAcquire(nowMs: number, avoid: ReadonlySet<string>): AcquireResult {
    const inRotation = [...this.records.values()].filter((r) => r.quarantinedUntilMs === null);
    const preferred = inRotation.filter((r) => !avoid.has(r.ip.address));
    const candidates = preferred.length > 0 ? preferred : inRotation;

    let chosen: IpRecord | null = null;
    for (const record of candidates) {
      if (record.leaseId !== null || record.nextReadyAtMs > nowMs) continue;
      if (chosen === null || record.lastStartMs < chosen.lastStartMs) chosen = record;
    }
    if (chosen === null) {
      return {
        kind: 'wait',
        readyAtMs: earliestReadyAt(candidates),
        inRotation: inRotation.length,
        nextQuarantineEndMs: this.nextQuarantineEndMs(),
      };
    }
    return { kind: 'leased', lease: this.lease(chosen, nowMs) };
  }

  renew(nowMs: number, lease: Lease): boolean {
    const record = this.records.get(lease.address);
    if (!record || record.leaseId !== lease.leaseId) return false;
    record.leaseExpiresAtMs = nowMs + this.leaseTtlMs;
    return true;
  }

  release(nowMs: number, lease: Lease, options: ReleaseOptions): ReleaseResult {
    const record = this.records.get(lease.address);
    if (!record || record.leaseId !== lease.leaseId) {
      return {
        failures: record?.failures ?? 0,
        quarantined: record ? record.quarantinedUntilMs !== null : false,
        floorHeld: false,
        activeIps: this.activeIps(),
        applied: false,
      };
    }
    const outcome = this.recordOutcome(record, nowMs, options.result);
    const sendDelayMs = Math.max(0, options.sendDelayMs ?? 0);
    record.nextReadyAtMs = Math.max(
      record.nextReadyAtMs,
      record.lastStartMs + sendDelayMs + this.spec.minRequestIntervalMs,
    );
    if (options.cooldownFromRelease) {
      record.nextReadyAtMs = Math.max(record.nextReadyAtMs, nowMs + this.spec.minRequestIntervalMs);
    }
    record.leaseId = null;
    return { ...outcome, failures: record.failures, activeIps: this.activeIps(), applied: true };
  }

  snapshot(nowMs: number): IpState[] {
    return [...this.records.values()].map((record) => ({
      address: record.ip.address,
      provider: record.ip.provider,
      region: record.ip.region,
      status: statusOf(record, nowMs),
      failures: record.failures,
      nextReadyAtMs: record.nextReadyAtMs,
      quarantinedUntilMs: record.quarantinedUntilMs,
      leaseExpiresAtMs: record.leaseId === null ? null : record.leaseExpiresAtMs,
    }));
  }

  /** Earliest time a timer must look at this pool again (lease expiry or quarantine end). */
  nextDeadlineMs(): number | null {
    let earliest: number | null = this.nextQuarantineEndMs();
    for (const record of this.records.values()) {
      if (record.leaseId === null) continue;
      if (earliest === null || record.leaseExpiresAtMs < earliest) {
        earliest = record.leaseExpiresAtMs;
      }
    }
    return earliest;
  }

  private lease(record: IpRecord, nowMs: number): Lease {
    record.leaseId = randomUUID();
    record.leaseExpiresAtMs = nowMs + this.leaseTtlMs;
    record.lastStartMs = nowMs;
    record.nextReadyAtMs = nowMs + this.spec.minRequestIntervalMs;
    return {
      target: this.spec.target,
      address: record.ip.address,
      leaseId: record.leaseId,
      acquiredAtMs: nowMs,
      expiresAtMs: record.leaseExpiresAtMs,
    };
  }

  private recordOutcome(
    record: IpRecord,
    nowMs: number,
    result: ReleaseOptions['result'],
  ): { quarantined: boolean; floorHeld: boolean } {
    if (result === 'success') return this.recordSuccess(record);
    if (result === 'failure') return this.recordFailure(record, nowMs);
    // A neutral end (the client went away) tells nothing about the IP, so nothing changes.
    return { quarantined: record.quarantinedUntilMs !== null, floorHeld: false };
  }

  private recordSuccess(record: IpRecord): { quarantined: boolean; floorHeld: boolean } {
    record.failures = 0;
    this.emit('ip_success', this.labels(record));
    return { quarantined: false, floorHeld: false };
  }

  private recordFailure(
    record: IpRecord,
    nowMs: number,
  ): { quarantined: boolean; floorHeld: boolean } {
    record.failures += 1;
    const labels = this.labels(record);
    this.emit('ip_failure', { ...labels, failures: record.failures });
    const threshold = this.spec.ipFailuresUntilQuarantine;
    if (record.failures < threshold || record.quarantinedUntilMs !== null) {
      return { quarantined: record.quarantinedUntilMs !== null, floorHeld: false };
    }
    const activeIps = this.activeIps();
    if (activeIps - 1 < this.spec.minActiveIps) {
      const minActiveIps = this.spec.minActiveIps;
      this.emit('quarantine_floor', {
        ...labels,
        failures: record.failures,
        activeIps,
        minActiveIps,
      });
      return { quarantined: false, floorHeld: true };
    }
    record.quarantinedUntilMs = nowMs + this.spec.quarantineMs;
    const quarantineMs = this.spec.quarantineMs;
    this.emit('quarantine', { ...labels, failures: record.failures, quarantineMs });
    return { quarantined: true, floorHeld: false };
  }

  private activeIps(): number {
    let count = 0;
    for (const record of this.records.values()) if (record.quarantinedUntilMs === null) count++;
    return count;
  }

  private nextQuarantineEndMs(): number | null {
    let earliest: number | null = null;
    for (const record of this.records.values()) {
      const end = record.quarantinedUntilMs;
      if (end !== null && (earliest === null || end < earliest)) earliest = end;
    }
    return earliest;
  }

  private labels(record: IpRecord): EventMap['ip_success'] {
    const { address, provider, region } = record.ip;
    return { target: this.spec.target, address, provider, region };
  }
}

function newRecord(ip: ResolvedIp): IpRecord {
  return {
    ip,
    leaseId: null,
    leaseExpiresAtMs: 0,
    lastStartMs: Number.NEGATIVE_INFINITY,
    nextReadyAtMs: 0,
    failures: 0,
    quarantinedUntilMs: null,
  };
}

/**
 * Returns the earliest time a candidate may be ready. A leased IP counts with its lease
 * expiry, although a release may free it sooner.
 */
function earliestReadyAt(candidates: IpRecord[]): number | null {
  let earliest: number | null = null;
  for (const record of candidates) {
    const readyAt =
      record.leaseId === null
        ? record.nextReadyAtMs
        : Math.max(record.nextReadyAtMs, record.leaseExpiresAtMs);
    if (earliest === null || readyAt < earliest) earliest = readyAt;
  }
  return earliest;
}

function statusOf(record: IpRecord, nowMs: number): IpStatus {
  if (record.quarantinedUntilMs !== null) return 'quarantined';
  if (record.leaseId !== null) return 'leased';
  return nowMs < record.nextReadyAtMs ? 'cooling_down' : 'available';
}
