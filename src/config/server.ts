/** Builds the resolved `server` settings from defaults, env vars, the YAML block and CLI flags. */
import type { ConfigIssue } from '../errors/index.js';
import { checkKeys, parseBlock } from './block.js';
import { readServerEnv, type Env } from './env.js';
import { isPlainObject } from './keys.js';
import { serverSchema, serverShape, UNSUPPORTED_SERVER_KEYS, type ServerInput } from './schema.js';
import type { LogLevel, ServerConfig } from './types.js';

const LOG_LEVELS: readonly LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARNING', 'ERROR'];
const LOG_LEVEL_ALIASES: Record<string, LogLevel> = {
  WARN: 'WARNING',
  CRITICAL: 'ERROR',
  FATAL: 'ERROR',
};

export const SERVER_KEYS: readonly string[] = [
  ...Object.keys(serverShape),
  ...UNSUPPORTED_SERVER_KEYS,
];

/** CLI flag values keyed by the YAML `server:` key they set (`port`, `probeInterval`, ...). */
export type ServerOverrides = Readonly<Record<string, unknown>>;

export function buildServerConfig(
  yamlServer: unknown,
  env: Env,
  overrides: ServerOverrides,
  issues: ConfigIssue[],
  warnings: string[],
): ServerConfig | undefined {
  const yaml = isPlainObject(yamlServer) ? yamlServer : {};
  if (yamlServer !== undefined && yamlServer !== null && !isPlainObject(yamlServer)) {
    issues.push({ path: 'server', message: 'Expected a mapping of server settings' });
  }
  checkKeys(yaml, SERVER_KEYS, ['server'], issues);
  const merged: Record<string, unknown> = { ...readServerEnv(env, issues, warnings), ...yaml };
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) merged[key] = value;
  }
  for (const key of UNSUPPORTED_SERVER_KEYS) {
    if (merged[key] !== undefined)
      warnings.push(`server.${key} is not supported by this version and is ignored`);
  }
  const parsed = parseBlock(serverSchema, merged, ['server'], issues);
  return parsed === undefined ? undefined : toServerConfig(parsed, warnings);
}

function toServerConfig(input: ServerInput, warnings: string[]): ServerConfig {
  return {
    host: input.host,
    port: input.port,
    logLevel: toLogLevel(input.logLevel, warnings),
    logFormat: input.logFormat,
    logFile: input.logFile,
    backend: input.backend,
    redisUrl: input.redisUrl,
    redisKeyPrefix: input.redisKeyPrefix,
    metrics: input.metrics,
    metricsHost: input.metricsHost,
    metricsPort: input.metricsPort,
    admin: input.admin,
    adminHost: input.adminHost,
    adminPort: input.adminPort,
    probe: input.probe,
    probeIntervalMs: input.probeInterval,
    probeTimeoutMs: input.probeTimeout,
    probeUrls: input.probeUrls,
    probeQuarantine: input.probeQuarantine,
    connectTimeoutMs: input.connectTimeout,
    responseTimeoutMs: input.responseTimeout,
    proxyReadTimeoutMs: input.proxyReadTimeout,
    retryBodyLimitBytes: input.retryBodyLimit,
    caFile: input.caFile,
    leaseTtlMs: input.leaseTtl,
    debugBackend: input.debugBackend,
    debugQuarantine: input.debugQuarantine,
    debugProbes: input.debugProbes,
  };
}

/** Matches a level case-insensitively; an unknown level falls back to INFO with a warning. */
export function toLogLevel(value: unknown, warnings: string[]): LogLevel {
  const text = String(value).trim().toUpperCase();
  const level = LOG_LEVELS.find((candidate) => candidate === text) ?? LOG_LEVEL_ALIASES[text];
  if (level !== undefined) return level;
  warnings.push(
    `Unknown log level '${String(value)}', so INFO is used. Valid levels: ${LOG_LEVELS.join(', ')}`,
  );
  return 'INFO';
}
