/**
 * The JSON that the pool scripts return, and its translation into the Backend types. Scripts
 * work in Redis server time; every time handed to callers is moved onto the local clock by
 * the offset seen in that same reply, so callers can compare it with their own `now`.
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

/** Maps server times onto the local clock with the offset seen in one reply. */
export class ClockTranslation {
  private readonly offsetMs: number;

  constructor(serverNowMs: number, localNowMs: number) {
    this.offsetMs = localNowMs - serverNowMs;
  }

  toLocal(serverMs: number): number {
    return serverMs + this.offsetMs;
  }

  /** -1 (the scripts' "none") becomes null. */
  toLocalOrNull(serverMs: number | undefined): number | null {
    return serverMs === undefined || serverMs < 0 ? null : serverMs + this.offsetMs;
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
