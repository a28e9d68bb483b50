/**
 * Turns the `proxyProviders`, `ipPools` and `targets` lists into resolved configs: checks
 * names and references, and gives each target its upstream IPs. A pool draw takes the first
 * `count` addresses of its provider (deterministic, so every replica resolves the same list),
 * and the target's list keeps the first occurrence of each address.
 */
import type { ConfigIssue } from '../errors/index.js';
import { parseAddress } from './address.js';
import { checkKeys, parseShape } from './block.js';
import { formatPath } from './keys.js';
import { pyListRepr, pyRepr } from './repr.js';
import {
  identityShape,
  ipRequestShape,
  poolShape,
  providerAuthShape,
  providerShape,
  targetShape,
  warmupShape,
  type TargetInput,
} from './schema.js';
import type { PoolConfig, ProviderConfig, ResolvedIp, TargetConfig } from './types.js';

const PROVIDER_PORT = 8080;

interface PoolEntry {
  config: PoolConfig;
  inlineIps: string[];
  /** Set when the pool or one of its providers failed to parse; its IP list is incomplete. */
  broken?: boolean;
}

type ProviderEntry = ProviderConfig & { broken?: boolean };

export interface Inventory {
  providers: ProviderConfig[];
  pools: PoolConfig[];
  targets: TargetConfig[];
}

export interface InventoryInput {
  proxyProviders: unknown;
  ipPools: unknown;
  targets: unknown;
  requireTargets: boolean;
}

export function resolveInventory(
  input: InventoryInput,
  issues: ConfigIssue[],
  warnings: string[],
): Inventory {
  const providers = resolveProviders(
    listAt(input.proxyProviders, 'proxyProviders', issues),
    issues,
  );
  const pools = resolvePools(listAt(input.ipPools, 'ipPools', issues), providers, issues);
  const targetItems = listAt(input.targets, 'targets', issues);
  if (targetItems.length === 0) {
    if (input.requireTargets)
      issues.push({ path: 'targets', message: 'At least one target is required' });
    else warnings.push('No targets are defined, so every request is answered with no_target_match');
  }
  const targets = resolveTargets(targetItems, providers, pools, issues, warnings);
  return {
    providers: [...providers.values()].map(({ broken: _broken, ...provider }) => provider),
    pools: [...pools.values()].map((entry) => entry.config),
    targets,
  };
}

function listAt(value: unknown, key: string, issues: ConfigIssue[]): unknown[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value;
  issues.push({ path: key, message: `Expected a list of ${key} entries` });
  return [];
}

function resolveProviders(items: unknown[], issues: ConfigIssue[]): Map<string, ProviderEntry> {
  const providers = new Map<string, ProviderEntry>();
  items.forEach((item, index) => {
    const path = ['proxyProviders', index];
    checkKeys(item, Object.keys(providerShape), path, issues);
    checkKeys(
      (item as { auth?: unknown } | null)?.auth,
      Object.keys(providerAuthShape),
      [...path, 'auth'],
      issues,
    );
    const { fields, complete: parsed } = parseShape(providerShape, item, path, issues);
    const name = claimName(fields.name ?? nameOf(item), 'proxyProvider', path, providers, issues);
    (fields.ipList ?? []).forEach((entry, entryIndex) => {
      const address = parseAddress(entry, PROVIDER_PORT);
      if ('error' in address) {
        issues.push({ path: formatPath([...path, 'ipList', entryIndex]), message: address.error });
      }
    });
    if (name === undefined) return;
    if (parsed === undefined) {
      // Registered without addresses, so pools that use it do not also report it as unknown.
      providers.set(name, { name, ipList: [], credentials: null, regionTag: '', broken: true });
      return;
    }
    const credentials = parsed.auth
      ? { username: parsed.auth.username, password: parsed.auth.password }
      : null;
    providers.set(name, { name, ipList: parsed.ipList, credentials, regionTag: parsed.regionTag });
  });
  return providers;
}

function resolvePools(
  items: unknown[],
  providers: Map<string, ProviderEntry>,
  issues: ConfigIssue[],
): Map<string, PoolEntry> {
  const pools = new Map<string, PoolEntry>();
  items.forEach((item, index) => {
    const path = ['ipPools', index];
    checkKeys(item, Object.keys(poolShape), path, issues);
    const requests = (item as { ipRequests?: unknown } | null)?.ipRequests;
    if (Array.isArray(requests)) {
      requests.forEach((request, requestIndex) =>
        checkKeys(
          request,
          Object.keys(ipRequestShape),
          [...path, 'ipRequests', requestIndex],
          issues,
        ),
      );
    }
    const { fields, complete: parsed } = parseShape(poolShape, item, path, issues);
    const name = claimName(fields.name ?? nameOf(item), 'ipPool', path, pools, issues);
    if (name === undefined) return;
    const broken = checkPoolProviders(name, rawRequests(item), path, providers, issues);
    if (parsed === undefined) {
      pools.set(name, { config: { name, ipRequests: [] }, inlineIps: [], broken: true });
      return;
    }
    checkInlineIps(parsed.ipList, [...path, 'ipList'], issues);
    if (parsed.ipRequests.length === 0 && parsed.ipList.length === 0) {
      issues.push({
        path: formatPath(path),
        message: `ipPool ${pyRepr(name)} has no IPs: add ipRequests or an ipList`,
      });
    }
    pools.set(name, {
      config: { name, ipRequests: parsed.ipRequests },
      inlineIps: parsed.ipList,
      broken,
    });
  });
  return pools;
}

/** Checks provider references from the raw entries, so a bad `count` hides no unknown name. */
function checkPoolProviders(
  name: string,
  requests: unknown[],
  path: PropertyKey[],
  providers: Map<string, ProviderEntry>,
  issues: ConfigIssue[],
): boolean {
  let broken = false;
  requests.forEach((request, index) => {
    const providerName = (request as { provider?: unknown } | null)?.provider;
    if (typeof providerName !== 'string') return;
    const provider = providers.get(providerName);
    // A pool with a broken or unknown provider is incomplete, so its targets skip the
    // zero-IPs check instead of reporting the same fault again.
    if (provider === undefined || provider.broken) broken = true;
    if (provider !== undefined) return;
    issues.push({
      path: formatPath([...path, 'ipRequests', index, 'provider']),
      message: `ipPool ${pyRepr(name)} references unknown provider ${pyRepr(providerName)}. Defined providers: ${pyListRepr([...providers.keys()])}`,
    });
  });
  return broken;
}

function rawRequests(item: unknown): unknown[] {
  const requests = (item as { ipRequests?: unknown } | null)?.ipRequests;
  return Array.isArray(requests) ? requests : [];
}

function resolveTargets(
  items: unknown[],
  providers: Map<string, ProviderEntry>,
  pools: Map<string, PoolEntry>,
  issues: ConfigIssue[],
  warnings: string[],
): TargetConfig[] {
  const targets: TargetConfig[] = [];
  const seen = new Map<string, true>();
  items.forEach((item, index) => {
    const path = ['targets', index];
    checkTargetKeys(item, path, issues);
    const { fields, complete: parsed } = parseShape(targetShape, item, path, issues);
    const name = claimName(fields.name ?? nameOf(item), 'target', path, seen, issues);
    if (name === undefined) return;
    seen.set(name, true);
    if (parsed === undefined) {
      checkPoolReference(name, fields.ipPool, path, pools, issues);
      return;
    }
    const ips = resolveTargetIps(name, parsed, path, providers, pools, issues);
    if (ips === undefined) return;
    warnUnsupportedTargetKeys(name, parsed, warnings);
    if (parsed.minActiveIps > ips.length) {
      warnings.push(
        `Target '${name}': minActiveIps ${parsed.minActiveIps} is more than its ${ips.length} IP(s), so quarantine never takes an IP out of rotation`,
      );
    }
    targets.push(toTargetConfig(name, parsed, ips));
  });
  return targets;
}

function checkTargetKeys(item: unknown, path: PropertyKey[], issues: ConfigIssue[]): void {
  checkKeys(item, Object.keys(targetShape), path, issues);
  const identity = (item as { identity?: unknown } | null)?.identity;
  checkKeys(identity, Object.keys(identityShape), [...path, 'identity'], issues);
  const warmup = (identity as { warmup?: unknown } | null)?.warmup;
  checkKeys(warmup, Object.keys(warmupShape), [...path, 'identity', 'warmup'], issues);
}

function resolveTargetIps(
  name: string,
  target: TargetInput,
  path: PropertyKey[],
  providers: Map<string, ProviderEntry>,
  pools: Map<string, PoolEntry>,
  issues: ConfigIssue[],
): ResolvedIp[] | undefined {
  const where = formatPath(path);
  if (target.ipPool !== undefined && target.ipList !== undefined) {
    issues.push({
      path: where,
      message: `Target '${name}' sets both 'ipPool' and 'ipList'; keep only one of them`,
    });
    return undefined;
  }
  let ips: ResolvedIp[];
  if (target.ipList !== undefined) {
    if (!checkInlineIps(target.ipList, [...path, 'ipList'], issues)) return undefined;
    ips = inlineIps(target.ipList, target.defaultProxyPort);
  } else if (target.ipPool !== undefined) {
    const pool = checkPoolReference(name, target.ipPool, path, pools, issues);
    if (pool === undefined || pool.broken) return undefined;
    ips = poolIps(pool, providers, target.defaultProxyPort);
  } else {
    issues.push({
      path: where,
      message: `Target '${name}' must set 'ipPool' (the name of an ipPool) or an inline 'ipList'`,
    });
    return undefined;
  }
  const unique = dedupe(ips);
  if (unique.length === 0) {
    issues.push({
      path: where,
      message: `Target '${name}' resolves to zero IPs; give it at least one address through its ipPool or ipList`,
    });
    return undefined;
  }
  return unique;
}

function checkPoolReference(
  name: string,
  poolName: string | undefined,
  path: PropertyKey[],
  pools: Map<string, PoolEntry>,
  issues: ConfigIssue[],
): PoolEntry | undefined {
  if (poolName === undefined) return undefined;
  const pool = pools.get(poolName);
  if (pool !== undefined) return pool;
  issues.push({
    path: formatPath([...path, 'ipPool']),
    message: `Target ${pyRepr(name)} references unknown ipPool ${pyRepr(poolName)}. Defined pools: ${pyListRepr([...pools.keys()])}`,
  });
  return undefined;
}

function poolIps(
  pool: PoolEntry,
  providers: Map<string, ProviderEntry>,
  defaultPort: number,
): ResolvedIp[] {
  const ips: ResolvedIp[] = [];
  for (const request of pool.config.ipRequests) {
    const provider = providers.get(request.provider);
    if (provider === undefined) continue;
    for (const entry of provider.ipList.slice(0, request.count)) {
      const address = parseAddress(entry, defaultPort);
      if ('error' in address) continue;
      ips.push({
        ...address,
        provider: provider.name,
        region: provider.regionTag,
        credentials: provider.credentials,
      });
    }
  }
  return [...ips, ...inlineIps(pool.inlineIps, defaultPort)];
}

function inlineIps(entries: string[], defaultPort: number): ResolvedIp[] {
  const ips: ResolvedIp[] = [];
  for (const entry of entries) {
    const address = parseAddress(entry, defaultPort);
    if (!('error' in address))
      ips.push({ ...address, provider: '', region: '', credentials: null });
  }
  return ips;
}

function checkInlineIps(entries: string[], path: PropertyKey[], issues: ConfigIssue[]): boolean {
  let valid = true;
  entries.forEach((entry, index) => {
    const address = parseAddress(entry, PROVIDER_PORT);
    if (!('error' in address)) return;
    issues.push({ path: formatPath([...path, index]), message: address.error });
    valid = false;
  });
  return valid;
}

function dedupe(ips: ResolvedIp[]): ResolvedIp[] {
  const seen = new Set<string>();
  return ips.filter((ip) => !seen.has(ip.address) && seen.add(ip.address) !== undefined);
}

function warnUnsupportedTargetKeys(name: string, target: TargetInput, warnings: string[]): void {
  if (target.identity?.enabled)
    warnings.push(`Target '${name}': identity is not supported by this version and is ignored`);
  if (target.authManaged)
    warnings.push(`Target '${name}': authManaged is not supported by this version and is ignored`);
}

function toTargetConfig(name: string, target: TargetInput, ips: ResolvedIp[]): TargetConfig {
  return {
    name,
    regexSource: target.regex.source,
    regex: target.regex.regex,
    poolName: target.ipPool ?? '',
    ips,
    defaultProxyPort: target.defaultProxyPort,
    minRequestIntervalMs: target.minRequestInterval,
    maxQueueWaitMs: target.maxQueueWait,
    numRetries: target.numRetries,
    ipFailuresUntilQuarantine: target.ipFailuresUntilQuarantine,
    quarantineMs: target.quarantineTime,
    minActiveIps: target.minActiveIps,
    spoofUserAgent: target.spoofUserAgent,
    retryOnStatus: target.retryOnStatus,
  };
}

function nameOf(item: unknown): string | undefined {
  const name = (item as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name.trim() !== '' ? name : undefined;
}

/** Checks that an entry has a name not used before; returns it, or undefined after an issue. */
function claimName(
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
