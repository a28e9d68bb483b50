/**
 * `PROXY_HOPPER_*` environment variables. Server settings from env rank below the YAML
 * `server:` block (CLI flag > YAML > env > default), while the auth variables rank above the
 * YAML `auth:` block, so secrets can be injected into a shared config file.
 */
import type { z } from 'zod';
import type { ConfigIssue } from '../errors/index.js';
import { isPlainObject } from './keys.js';
import { serverShape } from './schema.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** Server settings whose env values must be numbers (ports, durations, sizes). */
const NUMERIC_SERVER_KEYS = new Set([
  'port',
  'metricsPort',
  'adminPort',
  'probeInterval',
  'probeTimeout',
  'connectTimeout',
  'responseTimeout',
  'proxyReadTimeout',
  'retryBodyLimit',
  'leaseTtl',
]);

export function camelToSnake(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

export function envName(key: string): string {
  return `PROXY_HOPPER_${camelToSnake(key).toUpperCase()}`;
}

/** Reads env with case-insensitive names; empty values count as unset. */
export function lookupEnv(env: Env, name: string): string | undefined {
  for (const [key, value] of Object.entries(env)) {
    if (key.toUpperCase() === name && value !== undefined && value.trim() !== '') return value;
  }
  return undefined;
}

/**
 * Returns the server settings given by env vars, checked one by one. A non-numeric value for a
 * numeric setting is dropped with a warning: Kubernetes service links set variables such as
 * `PROXY_HOPPER_PORT=tcp://10.0.0.1:8080` for a Service named `proxy-hopper`.
 */
export function readServerEnv(
  env: Env,
  issues: ConfigIssue[],
  warnings: string[],
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(serverShape) as [string, z.ZodType][]) {
    const name = envName(key);
    const raw = lookupEnv(env, name);
    if (raw === undefined) continue;
    const result = schema.safeParse(raw);
    if (result.success) {
      values[key] = raw;
    } else if (NUMERIC_SERVER_KEYS.has(key)) {
      warnings.push(
        `Ignoring ${name}='${raw}': not a valid value for server.${key}. Kubernetes service links set such variables; set enableServiceLinks: false on the pod`,
      );
    } else {
      issues.push({ path: name, message: result.error.issues[0]?.message ?? 'invalid value' });
    }
  }
  return values;
}

/** Applies the auth env vars onto the normalized `auth` block, whose `oidc` is already a list. */
export function applyAuthEnv(
  auth: Record<string, unknown>,
  env: Env,
  warnings: string[],
): Record<string, unknown> {
  const result = { ...auth };
  const enabled = lookupEnv(env, 'PROXY_HOPPER_AUTH_ENABLED');
  if (enabled !== undefined) result.enabled = enabled;
  const secret = lookupEnv(env, 'PROXY_HOPPER_AUTH_JWT_SECRET');
  if (secret !== undefined) result.jwtSecret = secret;
  applyExpiryEnv(result, env, warnings);
  applyAdminHashEnv(result, env, warnings);
  applyOidcEnv(result, env, warnings);
  return result;
}

function applyExpiryEnv(auth: Record<string, unknown>, env: Env, warnings: string[]): void {
  const expiry = lookupEnv(env, 'PROXY_HOPPER_AUTH_JWT_EXPIRY_MINUTES');
  if (expiry === undefined) return;
  if (/^\s*\d+\s*$/.test(expiry)) auth.jwtExpiryMinutes = expiry;
  else
    warnings.push(`Ignoring PROXY_HOPPER_AUTH_JWT_EXPIRY_MINUTES='${expiry}': not a whole number`);
}

function applyAdminHashEnv(auth: Record<string, unknown>, env: Env, warnings: string[]): void {
  const hash = lookupEnv(env, 'PROXY_HOPPER_AUTH_ADMIN_PASSWORD_HASH');
  if (hash === undefined) return;
  if (isPlainObject(auth.admin)) auth.admin = { ...auth.admin, passwordHash: hash };
  else
    warnings.push(
      'Ignoring PROXY_HOPPER_AUTH_ADMIN_PASSWORD_HASH: the config has no auth.admin block',
    );
}

function applyOidcEnv(auth: Record<string, unknown>, env: Env, warnings: string[]): void {
  const issuer = lookupEnv(env, 'PROXY_HOPPER_AUTH_OIDC_ISSUER');
  const audience = lookupEnv(env, 'PROXY_HOPPER_AUTH_OIDC_AUDIENCE');
  if (issuer === undefined && audience === undefined) return;
  const list = Array.isArray(auth.oidc) ? [...(auth.oidc as unknown[])] : [];
  const first = isPlainObject(list[0]) ? { ...list[0] } : issuer !== undefined ? {} : undefined;
  if (first === undefined) {
    warnings.push('Ignoring PROXY_HOPPER_AUTH_OIDC_AUDIENCE: no OIDC issuer is configured');
    return;
  }
  if (issuer !== undefined) first.issuer = issuer;
  if (audience !== undefined) first.audience = audience;
  list[0] = first;
  auth.oidc = list;
}
