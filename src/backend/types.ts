/**
 * The state backend: which IP of a target is free, cooling down, leased or quarantined, and
 * each IP's consecutive failure count. Memory and Redis implement this one interface and pass
 * one contract test suite. The wait queue itself is not here: each instance keeps its own
 * FIFO of waiting requests and requests a lease from the backend when an IP may be free.
 */
import type { ResolvedIp } from '../config/types.js';

/** The pool of one target and the settings that govern its rotation. */
export interface TargetPoolSpec {
  target: string;
  ips: ResolvedIp[];
  minRequestIntervalMs: number;
  ipFailuresUntilQuarantine: number;
  quarantineMs: number;
  minActiveIps: number;
}

/** The right to send one attempt through one IP. Held until the response body ends. */
export interface Lease {
  target: string;
  address: string;
  /** Unique per acquisition; a release or renewal with a stale id is ignored. */
  leaseId: string;
  acquiredAtMs: number;
  expiresAtMs: number;
}

export type AcquireResult =
  | { kind: 'leased'; lease: Lease }
  | {
      kind: 'wait';
      /** Earliest time an IP may become ready, or null when only a release can free one. */
      readyAtMs: number | null;
      /** IPs of the target that are not quarantined. */
      inRotation: number;
      /** Earliest quarantine end among quarantined IPs, or null when none is quarantined. */
      nextQuarantineEndMs: number | null;
    };

export interface ReleaseOptions {
  /**
   * `failure` counts toward quarantine; `success` resets the failure count; `neutral` (the
   * client went away, so the attempt tells nothing about the IP) changes neither.
   */
  result: 'success' | 'failure' | 'neutral';
  /**
   * When true the cooldown restarts at release time (connection errors, as the original
   * does); otherwise the next attempt may start `minRequestInterval` after this one started.
   */
  cooldownFromRelease: boolean;
  /**
   * Time between taking the lease and actually sending the attempt. The next attempt through
   * the IP moves back by as much, so spacing holds between real sends even when the event
   * loop was busy after the lease. Default 0.
   */
  sendDelayMs?: number;
}

export interface ReleaseResult {
  /** Consecutive failures after this release (0 after a success). */
  failures: number;
  quarantined: boolean;
  /** Quarantine was due but `minActiveIps` kept the IP in rotation. */
  floorHeld: boolean;
  /** IPs of the target not quarantined, after this release. */
  activeIps: number;
  /** False when the lease had already expired or been released; nothing changed then. */
  applied: boolean;
}

export type IpStatus = 'available' | 'cooling_down' | 'leased' | 'quarantined';

export interface IpState {
  address: string;
  provider: string;
  region: string;
  status: IpStatus;
  failures: number;
  /** Time the IP may start its next attempt (spacing), in epoch ms. */
  nextReadyAtMs: number;
  quarantinedUntilMs: number | null;
  leaseExpiresAtMs: number | null;
}

export interface Backend {
  readonly kind: 'memory' | 'redis';
  start(): Promise<void>;
  stop(): Promise<void>;
  /** False while the backend cannot serve (Redis down); `/health` reports it. */
  isReady(): boolean;
  /**
   * Registers a target's pool or updates it. State of addresses that stay is kept, new
   * addresses start available, removed ones leave rotation. Shared state that other
   * instances use is never wiped.
   */
  syncTarget(spec: TargetPoolSpec): Promise<void>;
  /**
   * Leases a ready IP of the target without waiting. IPs in `avoid` (already tried by this
   * request) are taken only when no other IP of the target is in rotation.
   */
  tryAcquire(target: string, avoid: ReadonlySet<string>): Promise<AcquireResult>;
  /** Extends a lease while a response body streams; false when the lease is gone. */
  renew(lease: Lease): Promise<boolean>;
  release(lease: Lease, options: ReleaseOptions): Promise<ReleaseResult>;
  snapshot(target: string): Promise<IpState[]>;
  /**
   * Calls `listener(target)` whenever an IP of that target may have become free (released,
   * lease expired, quarantine ended, or another instance released one). Returns unsubscribe.
   */
  onWake(listener: (target: string) => void): () => void;
}
