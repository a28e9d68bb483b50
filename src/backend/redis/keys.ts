/**
 * The Redis key layout. Every key of one target carries the target in a hash tag
 * (`<prefix>:{<target>}:...`), so a Redis Cluster keeps them in one slot and one Lua script
 * can change them atomically.
 */

/** The keys of one target, in the order the pool scripts expect them as KEYS. */
export interface TargetKeys {
  /** HASH of the pool settings: interval, threshold, quarantine, floor. */
  meta: string;
  /** ZSET of the configured addresses, scored by their position in the config. */
  ips: string;
  /** HASH from address to the IP's state as JSON (lease, spacing, failures, quarantine). */
  state: string;
}

export function targetKeys(prefix: string, target: string): TargetKeys {
  const base = `${prefix}:{${escapeHashTag(target)}}`;
  return { meta: `${base}:meta`, ips: `${base}:ips`, state: `${base}:state` };
}

/** Returns the pub/sub channel on which every instance announces that an IP may be free. */
export function wakeChannel(prefix: string): string {
  return `${prefix}:wake`;
}

/**
 * Percent-encodes the characters that would end the hash tag early, so a target named `a}b`
 * still maps all its keys to one slot and never collides with another target.
 */
function escapeHashTag(target: string): string {
  return target.replace(/[%{}]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}
