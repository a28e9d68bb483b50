import type { Backend, TargetPoolSpec } from '../backend/types.js';
import type { TargetConfig } from '../config/types.js';
import { IpWaitQueue } from '../dispatch/ip-wait-queue.js';
import type { TargetRuntime } from '../dispatch/target-runtime.js';
import type { EventBus } from '../observe/events.js';

export function poolSpecOf(target: TargetConfig): TargetPoolSpec {
  return {
    target: target.name,
    ips: target.ips,
    minRequestIntervalMs: target.minRequestIntervalMs,
    ipFailuresUntilQuarantine: target.ipFailuresUntilQuarantine,
    quarantineMs: target.quarantineMs,
    minActiveIps: target.minActiveIps,
  };
}

/** Builds each target's wait queue and address index; the backend is synced separately. */
export function buildTargetRuntimes(
  targets: readonly TargetConfig[],
  backend: Backend,
  events: EventBus,
): TargetRuntime[] {
  return targets.map((target) => ({
    config: target,
    queue: new IpWaitQueue(
      target.name,
      backend,
      events,
      Date.now,
      Math.max(1000, target.minRequestIntervalMs),
    ),
    ipsByAddress: new Map(target.ips.map((ip) => [ip.address, ip])),
  }));
}

/**
 * Registers every target's pool with the backend. Returns the errors instead of throwing, so
 * a backend that is down at start (Redis) does not stop the listeners from starting.
 */
export async function syncTargets(
  targets: readonly TargetConfig[],
  backend: Backend,
): Promise<unknown[]> {
  const errors: unknown[] = [];
  for (const target of targets) {
    try {
      await backend.syncTarget(poolSpecOf(target));
    } catch (err) {
      errors.push(err);
    }
  }
  return errors;
}
