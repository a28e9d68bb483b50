/** Helpers shared by the provider, pool and target resolvers. */
import type { ConfigIssue } from '../errors/index.js';
import { parseAddress } from './address.js';
import { formatPath } from './keys.js';
import { pyRepr } from './repr.js';
import type { PoolConfig, ProviderConfig, ResolvedIp } from './types.js';

/** Port for bare hosts where no target gives a `defaultProxyPort`. */
export const PROVIDER_PORT = 8080;

export interface PoolEntry {
  config: PoolConfig;
  inlineIps: string[];
  /** Set when the pool or one of its providers failed to parse, so its IP list is incomplete. */
  broken?: boolean;
}

export type ProviderEntry = ProviderConfig & { broken?: boolean };

export function listAt(value: unknown, key: string, issues: ConfigIssue[]): unknown[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value;
  issues.push({ path: key, message: `Expected a list of entries under '${key}'` });
  return [];
}

export function inlineIps(entries: string[], defaultPort: number): ResolvedIp[] {
  const ips: ResolvedIp[] = [];
  for (const entry of entries) {
    const address = parseAddress(entry, defaultPort);
    if (!('error' in address))
      ips.push({ ...address, provider: '', region: '', credentials: null });
  }
  return ips;
}

export function checkInlineIps(
  entries: string[],
  path: PropertyKey[],
  issues: ConfigIssue[],
): boolean {
  let valid = true;
  entries.forEach((entry, index) => {
    const address = parseAddress(entry, PROVIDER_PORT);
    if (!('error' in address)) return;
    issues.push({ path: formatPath([...path, index]), message: address.error });
    valid = false;
  });
  return valid;
}

export function nameOf(item: unknown): string | undefined {
  const name = (item as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name.trim() !== '' ? name : undefined;
}

/** Checks that an entry has a name not used before. Returns the name, or undefined after an issue. */
export function claimName(
  name: string | undefined,
  kind: string,
  path: PropertyKey[],
  usedNames: Map<string, unknown>,
  issues: ConfigIssue[],
): string | undefined {
  if (name === undefined) {
    issues.push({ path: formatPath(path), message: `${kind} entry is missing a 'name' field` });
    return undefined;
  }
  if (usedNames.has(name)) {
    issues.push({
      path: formatPath([...path, 'name']),
      message: `Duplicate ${kind} name: ${pyRepr(name)}`,
    });
    return undefined;
  }
  return name;
}
