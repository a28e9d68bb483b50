/** Resolves `proxyProviders[]`: names, addresses and credentials. */
import type { ConfigIssue } from '../errors/index.js';
import { parseAddress } from './address.js';
import { checkKeys, parseShape } from './block.js';
import { claimName, nameOf, PROVIDER_PORT, type ProviderEntry } from './entries.js';
import { formatPath } from './keys.js';
import { providerAuthShape, providerShape } from './schema.js';

export function resolveProviders(
  items: unknown[],
  issues: ConfigIssue[],
): Map<string, ProviderEntry> {
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
