/** Resolves `ipPools[]`: names, provider references and inline addresses. */
import type { ConfigIssue } from '../errors/index.js';
import { checkKeys, parseShape } from './block.js';
import {
  checkInlineIps,
  claimName,
  nameOf,
  type PoolEntry,
  type ProviderEntry,
} from './entries.js';
import { formatPath } from './keys.js';
import { pyListRepr, pyRepr } from './repr.js';
import { ipRequestShape, poolShape } from './schema.js';

export function resolvePools(
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
