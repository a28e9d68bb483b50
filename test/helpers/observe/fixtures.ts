/** Small Config pieces for observe and admin tests. */
import type { ResolvedIp, ServerConfig, TargetConfig } from '../../../src/config/types.js';
import type { TargetPoolSpec } from '../../../src/backend/types.js';

export function ip(address: string, provider = 'acme', region = 'eu'): ResolvedIp {
  const [host = '', port = '0'] = address.split(':');
  return { address, host, port: Number(port), provider, region, credentials: null };
}

export function target(
  name: string,
  ips: ResolvedIp[],
  overrides: Partial<TargetConfig> = {},
): TargetConfig {
  return {
    name,
    regexSource: `.*${name}.*`,
    regex: new RegExp(`.*${name}.*`),
    poolName: '',
    ips,
    defaultProxyPort: 8080,
    minRequestIntervalMs: 0,
    maxQueueWaitMs: 1000,
    numRetries: 2,
    ipFailuresUntilQuarantine: 1,
    quarantineMs: 60_000,
    minActiveIps: 0,
    spoofUserAgent: false,
    retryOnStatus: [429, 502, 503, 504],
    ...overrides,
  };
}

export function poolSpec(config: TargetConfig): TargetPoolSpec {
  return {
    target: config.name,
    ips: config.ips,
    minRequestIntervalMs: config.minRequestIntervalMs,
    ipFailuresUntilQuarantine: config.ipFailuresUntilQuarantine,
    quarantineMs: config.quarantineMs,
    minActiveIps: config.minActiveIps,
  };
}

/** Builds a ServerConfig from defaults plus `overrides`. */
export function serverConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  return {
    host: '127.0.0.1',
    port: 0,
    logLevel: 'INFO',
    logFormat: 'json',
    logFile: null,
    backend: 'memory',
    redisUrl: 'redis://127.0.0.1:1/0',
    redisKeyPrefix: 'ph',
    metrics: true,
    metricsHost: '127.0.0.1',
    metricsPort: 0,
    admin: true,
    adminHost: '127.0.0.1',
    adminPort: 0,
    probe: true,
    probeIntervalMs: 60_000,
    probeTimeoutMs: 10_000,
    probeUrls: [],
    probeQuarantine: false,
    connectTimeoutMs: 5000,
    responseTimeoutMs: 30_000,
    proxyReadTimeoutMs: 0,
    retryBodyLimitBytes: 10 * 1024 * 1024,
    caFile: null,
    leaseTtlMs: 30_000,
    debugBackend: false,
    debugQuarantine: false,
    debugProbes: false,
    ...overrides,
  };
}
