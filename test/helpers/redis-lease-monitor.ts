/**
 * Records when Redis ran each lease acquire of the Redis backend, from `MONITOR`, so a test
 * can check per-IP spacing in Redis server time. That is the time the acquire script spaces
 * by, free of the scheduling delays that a loaded machine adds between a lease and the
 * request's arrival at the target.
 *
 * The argument layout is the pool scripts' own (see src/backend/redis/lua-acquire.ts and
 * lua-release.ts): KEYS are three keys, then ARGV = [channel, target, ...]. An acquire sends
 * [ttl, leaseId, ...avoid] after that, a release [address, leaseId, result, cooldown]. A lease
 * that was granted is the one whose id a later release names.
 */
import { Redis } from 'ioredis';

export interface GrantedLease {
  address: string;
  leaseId: string;
  /** Redis server time at which the acquire ran, in epoch ms with µs precision. */
  acquiredAtMs: number;
}

export interface LeaseMonitor {
  /** Leases that were acquired and released while the monitor ran, by acquire time. */
  granted(): GrantedLease[];
  stop(): Promise<void>;
}

const RELEASE_RESULTS = new Set(['success', 'failure', 'neutral']);

/** Opens a MONITOR connection to the Redis at `url` (`redis://:password@host:port`). */
export async function monitorLeases(url: string): Promise<LeaseMonitor> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
  await client.connect();
  const monitor = await client.monitor();
  const acquiredAt = new Map<string, number>();
  const releasedAddress = new Map<string, string>();
  monitor.on('monitor', (time: string, args: string[]) => {
    const command = args[0]?.toLowerCase();
    if ((command !== 'evalsha' && command !== 'eval') || args[2] !== '3') return;
    const scriptArgs = args.slice(6);
    const [, , first, leaseId, result] = scriptArgs;
    if (first === undefined || leaseId === undefined) return;
    if (result !== undefined && RELEASE_RESULTS.has(result) && first.includes(':')) {
      releasedAddress.set(leaseId, first);
    } else if (/^\d+$/.test(first) && !acquiredAt.has(leaseId)) {
      acquiredAt.set(leaseId, Number(time) * 1000);
    }
  });
  return {
    granted: () =>
      [...releasedAddress]
        .filter(([leaseId]) => acquiredAt.has(leaseId))
        .map(([leaseId, address]) => ({
          address,
          leaseId,
          acquiredAtMs: acquiredAt.get(leaseId) as number,
        }))
        .sort((a, b) => a.acquiredAtMs - b.acquiredAtMs),
    stop: async () => {
      monitor.disconnect();
      client.disconnect();
    },
  };
}
