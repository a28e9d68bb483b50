/**
 * Builds the resolved `auth` block: local users (`admin` and `users[]`), API keys, OIDC
 * providers (one mapping or a list) and custom roles (a mapping by name or a list).
 */
import { createHash } from 'node:crypto';
import type { ConfigIssue } from '../errors/index.js';
import {
  apiKeyShape,
  authShape,
  KEY_HASH_PATTERN,
  oidcSchema,
  oidcShape,
  roleShape,
  userSchema,
  userShape,
} from './auth-schema.js';
import { checkKeys, parseBlock, parseShape } from './block.js';
import { applyAuthEnv, type Env } from './env.js';
import { formatPath, isPlainObject } from './keys.js';
import { pyListRepr, pyRepr } from './repr.js';
import type {
  ApiKeyConfig,
  AuthConfig,
  LocalUserConfig,
  OidcProviderConfig,
  RoleConfig,
} from './types.js';

const BUILT_IN_ROLES = ['admin', 'operator', 'viewer'];

interface Item {
  value: unknown;
  path: PropertyKey[];
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Returns the resolved auth block, or undefined after adding its problems to `issues`. */
export function buildAuthConfig(
  rawAuth: unknown,
  env: Env,
  targetNames: readonly string[],
  issues: ConfigIssue[],
  warnings: string[],
): AuthConfig | undefined {
  if (rawAuth !== undefined && rawAuth !== null && !isPlainObject(rawAuth)) {
    issues.push({ path: 'auth', message: 'Expected a mapping of auth settings' });
    return undefined;
  }
  const raw = { ...(rawAuth ?? {}) };
  checkKeys(raw, Object.keys(authShape), ['auth'], issues);
  checkKeys(raw.admin, Object.keys(userShape), ['auth', 'admin'], issues);

  const { withEnv, oidcItems } = applyEnv(raw, env, issues, warnings);
  const { fields, complete } = parseShape(authShape, withEnv, ['auth'], issues);

  const context = { targetNames, issues };
  const auth: AuthConfig = {
    enabled: fields.enabled ?? false,
    jwtSecret: fields.jwtSecret ?? '',
    jwtExpiryMinutes: fields.jwtExpiryMinutes ?? 60,
    users: buildUsers(fields.admin, fields.users ?? [], issues),
    apiKeys: buildApiKeys(fields.apiKeys ?? [], context),
    oidc: buildOidc(oidcItems, issues, warnings),
    roles: buildRoles(raw.roles, context),
  };
  if (complete === undefined) return undefined;

  warnAboutAuth(auth, warnings);
  return auth;
}

/** Applies the auth env vars. OIDC comes back as a list of items with their config paths. */
function applyEnv(
  raw: Record<string, unknown>,
  env: Env,
  issues: ConfigIssue[],
  warnings: string[],
): { withEnv: Record<string, unknown>; oidcItems: Item[] } {
  const fromFile = oidcList(raw.oidc, issues);
  const oidc = fromFile.map((item) => item.value);
  const withEnv = applyAuthEnv({ ...raw, oidc }, env, warnings);
  const oidcItems = (withEnv.oidc as unknown[]).map((value, index) => ({
    value,
    path: fromFile[index]?.path ?? ['auth', 'oidc', index],
  }));
  return { withEnv: { ...withEnv, oidc: undefined }, oidcItems };
}

function oidcList(value: unknown, issues: ConfigIssue[]): Item[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value))
    return value.map((item, index) => ({ value: item, path: ['auth', 'oidc', index] }));
  if (isPlainObject(value) && Array.isArray(value.providers)) {
    checkKeys(value, ['providers'], ['auth', 'oidc'], issues);
    return value.providers.map((item, index) => ({
      value: item,
      path: ['auth', 'oidc', 'providers', index],
    }));
  }
  return [{ value, path: ['auth', 'oidc'] }];
}

function buildUsers(
  admin: LocalUserConfig | undefined,
  items: unknown[],
  issues: ConfigIssue[],
): LocalUserConfig[] {
  const users: LocalUserConfig[] = admin ? [admin] : [];
  items.forEach((item, index) => {
    const path = ['auth', 'users', index];
    checkKeys(item, Object.keys(userShape), path, issues);
    const user = parseBlock(userSchema, item, path, issues);
    if (user === undefined) return;
    if (users.some((other) => other.username === user.username)) {
      issues.push({
        path: formatPath([...path, 'username']),
        message: `Duplicate username: ${pyRepr(user.username)}`,
      });
      return;
    }
    users.push(user);
  });
  return users;
}

interface Context {
  targetNames: readonly string[];
  issues: ConfigIssue[];
}

function buildApiKeys(items: unknown[], context: Context): ApiKeyConfig[] {
  const keys: ApiKeyConfig[] = [];
  items.forEach((item, index) => {
    const path = ['auth', 'apiKeys', index];
    checkKeys(item, Object.keys(apiKeyShape), path, context.issues);
    const { fields, complete: parsed } = parseShape(apiKeyShape, item, path, context.issues);
    const owner = `API key ${pyRepr(fields.name ?? String(index))}`;
    checkTargetNames(owner, fields.targets ?? [], [...path, 'targets'], context);
    if (parsed === undefined) return;
    const where = formatPath(path);
    if ((parsed.key === undefined) === (parsed.keyHash === undefined)) {
      context.issues.push({
        path: where,
        message: `API key ${pyRepr(parsed.name)} must set exactly one of 'key' or 'keyHash'`,
      });
      return;
    }
    const keySha256 =
      parsed.key !== undefined ? sha256Hex(parsed.key) : hashFromKeyHash(parsed.keyHash ?? '');
    const sameKey = keys.find((other) => other.keySha256 === keySha256);
    if (sameKey) {
      const field = parsed.key !== undefined ? 'key' : 'keyHash';
      context.issues.push({
        path: `${where}.${field}`,
        message: `API key ${pyRepr(parsed.name)} has the same key as API key ${pyRepr(sameKey.name)}. Every key must be unique`,
      });
      return;
    }
    if (keys.some((other) => other.name === parsed.name)) {
      context.issues.push({
        path: `${where}.name`,
        message: `Duplicate API key name: ${pyRepr(parsed.name)}`,
      });
      return;
    }
    keys.push({ name: parsed.name, key: parsed.key ?? null, keySha256, targets: parsed.targets });
  });
  return keys;
}

function hashFromKeyHash(keyHash: string): string {
  return (KEY_HASH_PATTERN.exec(keyHash)?.[1] ?? '').toLowerCase();
}

function buildOidc(items: Item[], issues: ConfigIssue[], warnings: string[]): OidcProviderConfig[] {
  const providers: OidcProviderConfig[] = [];
  for (const { value, path } of items) {
    checkKeys(value, Object.keys(oidcShape), path, issues);
    const parsed = parseBlock(oidcSchema, value, path, issues);
    if (parsed === undefined) continue;
    const name = parsed.name ?? parsed.issuer;
    if (providers.some((other) => other.name === name)) {
      issues.push({
        path: formatPath([...path, parsed.name ? 'name' : 'issuer']),
        message: `Duplicate OIDC provider: ${pyRepr(name)}`,
      });
      continue;
    }
    if (parsed.audience.length === 0) {
      warnings.push(
        `OIDC provider '${name}' has no audience, so a token from this issuer is accepted whatever client it was issued for; set 'audience'`,
      );
    }
    providers.push({
      name,
      issuer: parsed.issuer,
      audience: parsed.audience,
      rolesClaim: parsed.rolesClaim,
      clockToleranceSec: parsed.clockTolerance / 1000,
      jwksCacheTtlMs: parsed.jwksCacheTtl,
      clientId: parsed.clientId ?? null,
      clientSecret: parsed.clientSecret ?? null,
    });
  }
  return providers;
}

function buildRoles(value: unknown, context: Context): RoleConfig[] {
  const roles: RoleConfig[] = [];
  for (const { value: item, path } of roleItems(value, context.issues)) {
    checkKeys(item, Object.keys(roleShape), path, context.issues);
    const { fields, complete: role } = parseShape(roleShape, item, path, context.issues);
    const owner = `Role ${pyRepr(fields.name ?? String(path.at(-1)))}`;
    checkTargetNames(owner, fields.targets ?? [], [...path, 'targets'], context);
    if (role === undefined) continue;
    if (roles.some((other) => other.name === role.name)) {
      context.issues.push({
        path: formatPath([...path, 'name']),
        message: `Duplicate role name: ${pyRepr(role.name)}`,
      });
      continue;
    }
    roles.push({
      name: role.name,
      permissions: [...new Set(role.permissions)],
      targets: role.targets,
    });
  }
  return roles;
}

function roleItems(value: unknown, issues: ConfigIssue[]): Item[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value))
    return value.map((item, index) => ({ value: item, path: ['auth', 'roles', index] }));
  if (!isPlainObject(value)) {
    issues.push({
      path: 'auth.roles',
      message: 'Expected a mapping of role names to roles, or a list of roles',
    });
    return [];
  }
  return Object.entries(value).map(([name, body]) => ({
    value: isPlainObject(body) ? { ...body, name } : body === null ? { name } : body,
    path: ['auth', 'roles', name],
  }));
}

function checkTargetNames(
  owner: string,
  names: string[],
  path: PropertyKey[],
  context: Context,
): void {
  names.forEach((name, index) => {
    if (name === '*' || context.targetNames.includes(name)) return;
    context.issues.push({
      path: formatPath([...path, index]),
      message: `${owner} names unknown target ${pyRepr(name)}. Defined targets: ${pyListRepr(context.targetNames)}`,
    });
  });
}

function warnAboutAuth(auth: AuthConfig, warnings: string[]): void {
  const known = new Set([...BUILT_IN_ROLES, ...auth.roles.map((role) => role.name)]);
  for (const user of auth.users) {
    if (!known.has(user.role))
      warnings.push(
        `User '${user.username}' has role '${user.role}', which is neither built in nor defined in auth.roles, so it has no permissions`,
      );
  }
  const hasCredentials = auth.users.length + auth.apiKeys.length + auth.oidc.length > 0;
  if (auth.enabled && !hasCredentials) {
    warnings.push(
      'auth.enabled is true but no users, API keys or OIDC providers are configured, so every request is rejected',
    );
  }
}
