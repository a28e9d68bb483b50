/** Reading role names from a JWT claim addressed by a dotted path such as `realm_access.roles`. */
import type { JWTPayload } from 'jose';

/**
 * Returns the role names at `path`, or null when the claim is absent. A top-level claim whose
 * name is literally the whole dotted path is tried first; otherwise each segment descends into
 * a nested object. A string is one role, an array gives every string element in it, and any
 * other value gives no roles.
 */
export function readRoleClaim(payload: JWTPayload, path: string): string[] | null {
  const value = Object.hasOwn(payload, path) ? payload[path] : readNested(payload, path);
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return [];
}

function readNested(payload: JWTPayload, path: string): unknown {
  let current: unknown = payload;
  for (const segment of path.split('.')) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    if (!Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}
