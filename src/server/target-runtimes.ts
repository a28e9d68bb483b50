import type { Backend } from '../backend/types.js';
import type { TargetConfig } from '../config/types.js';
import { IpWaitQueue } from '../dispatch/ip-wait-queue.js';
import type { TargetRuntime } from '../dispatch/target-runtime.js';
import type { EventBus } from '../observe/events.js';

/** Registers every target's pool with the backend and builds its wait queue. */
export async function buildTargetRuntimes(
  targets: readonly TargetConfig[],
  backend: Backend,
  events: EventBus,
): Promise<TargetRuntime[]> {
  const runtimes: TargetRuntime[] = [];
  for (const target of targets) {
    await backend.syncTarget({
      target: target.name,
      ips: target.ips,
      minRequestIntervalMs: target.minRequestIntervalMs,
      ipFailuresUntilQuarantine: target.ipFailuresUntilQuarantine,
      quarantineMs: target.quarantineMs,
      minActiveIps: target.minActiveIps,
    });
    runtimes.push({
      config: target,
      queue: new IpWaitQueue(target.name, backend, events),
      ipsByAddress: new Map(target.ips.map((ip) => [ip.address, ip])),
    });
  }
  return runtimes;
}
