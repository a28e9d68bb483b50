/**
 * Resolves `targets[]`: names, the pool or inline list of each target, and its IPs. The
 * target's list keeps the first occurrence of each address.
 */
import type { ConfigIssue } from '../errors/index.js';
import { parseAddress } from './address.js';
import { checkKeys, parseShape } from './block.js';
import {
  checkInlineIps,
  claimName,
  inlineIps,
  nameOf,
  type PoolEntry,
  type ProviderEntry,
} from './entries.js';
import { formatPath } from './keys.js';
import { pyListRepr, pyRepr } from './repr.js';
import { identityShape, targetShape, warmupShape, type TargetInput } from './schema.js';
import type { ResolvedIp, TargetConfig } from './types.js';

export function resolveTargets(
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
      message: `Target '${name}' sets both 'ipPool' and 'ipList'. Keep only one of them`,
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
      message: `Target '${name}' resolves to zero IPs. Give it at least one address through its ipPool or ipList`,
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
