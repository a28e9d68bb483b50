/**
 * The resolved, validated configuration that every other component reads. Durations are in
 * milliseconds and sizes in bytes; config files may spell them in seconds or with units, and
 * the loader converts. A Config value is immutable: a reload builds a new one.
 */

export type LogLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';
export type LogFormat = 'text' | 'json';
export type BackendKind = 'memory' | 'redis';

/** Basic credentials that Proxy Hopper sends to an upstream proxy as `Proxy-Authorization`. */
export interface ProxyCredentials {
  username: string;
  password: string;
}

/** One upstream proxy address in a target's pool, with the provider it came from. */
export interface ResolvedIp {
  /** `host:port`, with IPv6 literals in brackets (`[::1]:3128`); the IP's identity everywhere. */
  address: string;
  host: string;
  port: number;
  /** Provider name, `""` for inline `ipList` entries. */
  provider: string;
  /** Provider `regionTag`, `""` when none. */
  region: string;
  credentials: ProxyCredentials | null;
}

export interface ProviderConfig {
  name: string;
  ipList: string[];
  credentials: ProxyCredentials | null;
  regionTag: string;
}

export interface PoolConfig {
  name: string;
  ipRequests: { provider: string; count: number }[];
}

export interface TargetConfig {
  name: string;
  /** The regex as written in the config file. */
  regexSource: string;
  /** Compiled form (Python `(?P<..>)` and leading `(?i)` translated). Matched with `test`. */
  regex: RegExp;
  /** Pool name, or `""` when the target lists its IPs inline. */
  poolName: string;
  ips: ResolvedIp[];
  defaultProxyPort: number;
  minRequestIntervalMs: number;
  maxQueueWaitMs: number;
  numRetries: number;
  ipFailuresUntilQuarantine: number;
  quarantineMs: number;
  /** IPs that quarantine never takes away, so a target-wide outage cannot empty the pool. */
  minActiveIps: number;
  spoofUserAgent: boolean;
  /** Upstream statuses that count as an IP failure and are retried. */
  retryOnStatus: number[];
}

export interface ServerConfig {
  host: string;
  port: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
  logFile: string | null;
  backend: BackendKind;
  redisUrl: string;
  redisKeyPrefix: string;
  metrics: boolean;
  metricsHost: string;
  metricsPort: number;
  admin: boolean;
  adminHost: string;
  adminPort: number;
  probe: boolean;
  probeIntervalMs: number;
  probeTimeoutMs: number;
  probeUrls: string[];
  probeQuarantine: boolean;
  connectTimeoutMs: number;
  responseTimeoutMs: number;
  proxyReadTimeoutMs: number;
  retryBodyLimitBytes: number;
  /** PEM file with extra CAs trusted for HTTPS targets, on top of Node's bundled ones. */
  caFile: string | null;
  /** How long an IP lease lives without renewal before another request may take the IP. */
  leaseTtlMs: number;
  debugBackend: boolean;
  debugQuarantine: boolean;
  debugProbes: boolean;
}

export interface ApiKeyConfig {
  name: string;
  /** Raw key, or null when only `keyHash` is configured. */
  key: string | null;
  /** SHA-256 of the key as lower-case hex, from `keyHash: sha256:<hex>` or computed from `key`. */
  keySha256: string;
  targets: string[];
}

export interface LocalUserConfig {
  username: string;
  passwordHash: string;
  role: string;
}

export interface OidcProviderConfig {
  /** Name used in logs; defaults to the issuer. */
  name: string;
  /** Issuer exactly as configured; the token's `iss` must equal it byte for byte. */
  issuer: string;
  audience: string[];
  /** Dotted path of the claim that carries the role name or names. */
  rolesClaim: string;
  clockToleranceSec: number;
  jwksCacheTtlMs: number;
  clientId: string | null;
  clientSecret: string | null;
}

export type Permission = 'read' | 'write' | 'admin';

export interface RoleConfig {
  name: string;
  permissions: Permission[];
  targets: string[];
}

export interface AuthConfig {
  enabled: boolean;
  /** Empty when not configured; the server then makes a random one at start. */
  jwtSecret: string;
  jwtExpiryMinutes: number;
  users: LocalUserConfig[];
  apiKeys: ApiKeyConfig[];
  oidc: OidcProviderConfig[];
  roles: RoleConfig[];
}

export interface Config {
  server: ServerConfig;
  auth: AuthConfig;
  providers: ProviderConfig[];
  pools: PoolConfig[];
  targets: TargetConfig[];
  /** Non-fatal problems found while loading, to be logged at start. */
  warnings: string[];
  /** File the config came from, or null for an in-memory config. */
  source: string | null;
}
