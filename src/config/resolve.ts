/**
 * Turns the `proxyProviders`, `ipPools` and `targets` lists into resolved configs: checks
 * names and references, and gives each target its upstream IPs. A pool draw takes the first
 * `count` addresses of its provider (deterministic, so every replica resolves the same list),
 * and the target's list keeps the first occurrence of each address.
 */
import type { ConfigIssue } from '../errors/index.js';
import { listAt } from './entries.js';
import { resolvePools } from './pools.js';
import { resolveProviders } from './providers.js';
import { resolveTargets } from './targets.js';
import type { PoolConfig, ProviderConfig, TargetConfig } from './types.js';

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
