/**
 * The JSON that the pool scripts return, and its translation into the Backend types. Scripts
 * work in Redis server time. Every time handed to callers is moved onto the local clock, so
 * callers can compare it with their own `now`.
 */
import type { IpState, IpStatus } from '../types.js';

export interface ReleasedIp {
  a: string;
  p: string;
  r: string;
}

interface ScriptReply {
  missing?: boolean;
  now: number;
  released?: ReleasedIp[] | Record<string, never>;
  /** Earliest lease expiry or quarantine end, -1 when none. */
  deadline?: number;
  changed?: boolean;
}

export interface AcquireReply extends ScriptReply {
  kind: 'leased' | 'wait';
  address?: string;
  expiresAt?: number;
  readyAt?: number;
  inRotation: number;
  quarantineEnd?: number;
}

export interface ReleaseReply extends ScriptReply {
  applied: boolean;
  failures: number;
  quarantined: boolean;
  floorHeld: boolean;
  activeIps: number;
  quarantineMs?: number;
  floorActiveIps?: number;
  minActiveIps?: number;
}

interface SnapshotRow {
  a: string;
  p: string;
  r: string;
  lid: string;
  lexp: number;
  next: number;
  f: number;
  q: number;
}

export interface SnapshotReply extends ScriptReply {
  ips: SnapshotRow[] | Record<string, never>;
}

export interface RenewReply extends ScriptReply {
  renewed: boolean;
}

/** Parses a script reply; cjson encodes an empty Lua table as `{}`, so lists are normalized. */
export function parseReply<T extends ScriptReply>(raw: string): T {
  return JSON.parse(raw) as T;
}

export function listOf<T>(value: T[] | Record<string, never> | undefined): T[] {
  return Array.isArray(value) ? value : [];
}

/** Maps server times onto the local clock with one offset estimate. */
export class ClockTranslation {
  constructor(private readonly offsetMs: number) {}

  toLocal(serverMs: number): number {
    return serverMs + this.offsetMs;
  }

  /** -1 (the scripts' "none") becomes null. */
  toLocalOrNull(serverMs: number | undefined): number | null {
    return serverMs === undefined || serverMs < 0 ? null : serverMs + this.offsetMs;
  }
}

const OFFSET_SAMPLES = 128;
const CLOCK_JUMP_MS = 1000;

/**
 * Estimates local clock minus Redis clock from replies. Each sample is the local time at
 * receipt minus the server's TIME, so it is too large by the reply's latency. The smallest of
 * the recent samples is the closest one. Using it for every reply keeps the times of
 * successive replies consistent with each other. A sample far below the estimate (a clock
 * step) restarts the window, and after a step the other way the old samples age out of it.
 */
export class ClockOffsetEstimator {
  private samples: number[] = [];

  observe(serverNowMs: number, localNowMs: number): ClockTranslation {
    const sample = localNowMs - serverNowMs;
    const current = this.current();
    if (current !== null && sample < current - CLOCK_JUMP_MS) this.samples = [];
    this.samples.push(sample);
    if (this.samples.length > OFFSET_SAMPLES) this.samples.shift();
    return new ClockTranslation(this.current() ?? sample);
  }

  private current(): number | null {
    return this.samples.length === 0 ? null : Math.min(...this.samples);
  }
}

export function toIpStates(reply: SnapshotReply, clock: ClockTranslation): IpState[] {
  return listOf(reply.ips).map((row) => ({
    address: row.a,
    provider: row.p,
    region: row.r,
    status: statusOf(row, reply.now),
    failures: row.f,
    nextReadyAtMs: row.next === 0 ? 0 : clock.toLocal(row.next),
    quarantinedUntilMs: row.q > 0 ? clock.toLocal(row.q) : null,
    leaseExpiresAtMs: row.lid === '' ? null : clock.toLocal(row.lexp),
  }));
}

function statusOf(row: SnapshotRow, serverNowMs: number): IpStatus {
  if (row.q > 0) return 'quarantined';
  if (row.lid !== '') return 'leased';
  return serverNowMs < row.next ? 'cooling_down' : 'available';
}
