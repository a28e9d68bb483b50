/**
 * Key normalization: every snake_case key becomes camelCase at every level, and the alias
 * spellings that older configs and the docs use become their canonical names.
 */
import type { ConfigIssue } from '../errors/index.js';

/** Alternative names accepted for a key, mapped to the canonical name. */
export const KEY_ALIASES: Readonly<Record<string, string>> = {
  maxRequestTimeInQueue: 'maxQueueWait',
  poolName: 'ipPool',
  issuerUrl: 'issuer',
  roleClaimPath: 'rolesClaim',
  roleClaim: 'rolesClaim',
};

export function snakeToCamel(key: string): string {
  return key.replace(/_+([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());
}

export function canonicalKey(key: string): string {
  const camel = snakeToCamel(key);
  return KEY_ALIASES[camel] ?? camel;
}

/** Formats a path such as `['targets', 1, 'regex']` as `targets[1].regex`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else text += text === '' ? String(part) : `.${String(part)}`;
  }
  return text;
}

/**
 * Returns a copy of `value` with canonical keys. Keys of the `auth.roles` mapping are role
 * names chosen by the user, so they keep their spelling while the role bodies are normalized.
 * Two spellings of one key in the same mapping are reported as an issue.
 */
export function normalizeKeys(value: unknown, issues: ConfigIssue[]): unknown {
  return normalizeValue(value, [], issues);
}

function normalizeValue(value: unknown, path: PropertyKey[], issues: ConfigIssue[]): unknown {
  if (Array.isArray(value)) {
    return value.map((item, index) => normalizeValue(item, [...path, index], issues));
  }
  if (!isPlainObject(value)) return value;
  const keepKeys = path.length === 2 && path[0] === 'auth' && path[1] === 'roles';
  const result: Record<string, unknown> = {};
  const spelledAs = new Map<string, string>();
  for (const [key, child] of Object.entries(value)) {
    const name = keepKeys ? key : canonicalKey(key);
    const earlier = spelledAs.get(name);
    if (earlier !== undefined) {
      issues.push({
        path: formatPath([...path, name]),
        message: `'${earlier}' and '${key}' are the same setting. Keep only one of them`,
      });
      continue;
    }
    spelledAs.set(name, key);
    result[name] = normalizeValue(child, [...path, name], issues);
  }
  return result;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
