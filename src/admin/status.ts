/**
 * The body of `GET /api/v1/status`: the configured targets with their IP count, the backend
 * kind, whether auth is on and who is asking, plus each target's IPs and their live state.
 */
import type { Backend, IpState, IpStatus } from '../backend/types.js';
import type { Principal } from '../auth/types.js';
import type { Config, TargetConfig } from '../config/types.js';

export interface IpStatusView {
  address: string;
  provider: string;
  region: string;
  status: IpStatus;
  failures: number;
  /** ISO-8601 UTC time the IP may start its next attempt. */
  /** Null while the IP has never been used, so it is ready now. */
  next_ready_at: string | null;
  quarantined_until: string | null;
  lease_expires_at: string | null;
  /** Latest background probe result; null when no probe ran. */
  reachable: boolean | null;
}

export interface TargetStatusView {
  name: string;
  regex: string;
  ip_count: number;
  available: number;
  cooling_down: number;
  leased: number;
  quarantined: number;
  /** Null when the backend could not be read, and `error` then contains the reason. */
  ips: IpStatusView[] | null;
  error?: string;
}

export interface StatusView {
  targets: TargetStatusView[];
  backend: Backend['kind'];
  backend_ready: boolean;
  auth_enabled: boolean;
  user: { sub: string; role: string | null; roles: string[] };
}

export interface StatusSources {
  config: Config;
  backend: Pick<Backend, 'kind' | 'isReady' | 'snapshot'>;
  /** Addresses whose latest probe failed, and whether probes ran at all. */
  probes?: { active: boolean; isReachable(address: string): boolean };
}

export async function buildStatus(
  sources: StatusSources,
  principal: Principal,
): Promise<StatusView> {
  const targets = await Promise.all(
    sources.config.targets.map((target) => describeTarget(target, sources)),
  );
  return {
    targets,
    backend: sources.backend.kind,
    backend_ready: sources.backend.isReady(),
    auth_enabled: sources.config.auth.enabled,
    user: { sub: principal.subject, role: principal.roles[0] ?? null, roles: [...principal.roles] },
  };
}

async function describeTarget(
  target: TargetConfig,
  sources: StatusSources,
): Promise<TargetStatusView> {
  const base = { name: target.name, regex: target.regexSource, ip_count: target.ips.length };
  let states: IpState[];
  try {
    states = await sources.backend.snapshot(target.name);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const counts = { available: 0, cooling_down: 0, leased: 0, quarantined: 0 };
    return { ...base, ...counts, ips: null, error: `backend unavailable: ${reason}` };
  }

  const count = (status: IpStatus) => states.filter((state) => state.status === status).length;
  return {
    ...base,
    available: count('available'),
    cooling_down: count('cooling_down'),
    leased: count('leased'),
    quarantined: count('quarantined'),
    ips: states.map((state) => describeIp(state, sources.probes)),
  };
}

function describeIp(state: IpState, probes: StatusSources['probes']): IpStatusView {
  return {
    address: state.address,
    provider: state.provider,
    region: state.region,
    status: state.status,
    failures: state.failures,
    next_ready_at: state.nextReadyAtMs > 0 ? isoTime(state.nextReadyAtMs) : null,
    quarantined_until: state.quarantinedUntilMs === null ? null : isoTime(state.quarantinedUntilMs),
    lease_expires_at: state.leaseExpiresAtMs === null ? null : isoTime(state.leaseExpiresAtMs),
    reachable: probes?.active ? probes.isReachable(state.address) : null,
  };
}

function isoTime(epochMs: number): string {
  return new Date(epochMs).toISOString();
}
