/**
 * Opens ioredis connections for a parsed Redis URL. Connections never queue commands while
 * disconnected and never resend a command after a reconnect: the backend fails fast with
 * backend_unavailable instead, and a lost lease expires by itself.
 */
import { EventEmitter } from 'node:events';
import type { ConnectionOptions } from 'node:tls';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisConnectionPlan } from './connection-options.js';

export type RedisClient = Redis | Cluster;

export interface ConnectionSettings {
  /** Extra TLS options (such as `ca`) for `rediss` URLs; Node's CAs are trusted otherwise. */
  tls?: ConnectionOptions;
  /** Delay before reconnect attempt number `attempt` (1-based); logs it as a side effect. */
  retryDelayMs: (attempt: number) => number;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
}

export function createRedisClient(
  plan: RedisConnectionPlan,
  settings: ConnectionSettings,
): RedisClient {
  const client = buildClient(plan, settings);
  // NOTE: Cluster node connections are created inside ioredis and do not get this guard.
  if (client instanceof Redis) guardStreamErrors(client);
  return client;
}

function buildClient(plan: RedisConnectionPlan, settings: ConnectionSettings): RedisClient {
  const common = commonOptions(plan, settings);
  if (plan.mode === 'cluster') {
    const options: ClusterOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      clusterRetryStrategy: (times) => settings.retryDelayMs(times),
      redisOptions: common,
    };
    return new Cluster(plan.endpoints, options);
  }
  const retryStrategy = (times: number) => settings.retryDelayMs(times);
  if (plan.mode === 'sentinel') {
    return new Redis({
      ...common,
      sentinels: plan.endpoints,
      name: plan.masterName,
      sentinelPassword: plan.sentinelPassword,
      enableTLSForSentinelMode: plan.tls,
      sentinelTLS: plan.tls ? tlsOptions(settings) : undefined,
      retryStrategy,
      lazyConnect: true,
      enableOfflineQueue: false,
    });
  }
  const [endpoint] = plan.endpoints;
  return new Redis({
    ...common,
    host: endpoint?.host,
    port: endpoint?.port,
    retryStrategy,
    lazyConnect: true,
    enableOfflineQueue: false,
  });
}

/**
 * Keeps a socket's second error from crashing the process. ioredis 6 listens for a socket's
 * error with `once`, and a failed TLS handshake can emit two: the certificate error, then the
 * server's alert. So after the first one a permanent listener takes over. The client's own
 * 'error' event has already reported the failure.
 */
function guardStreamErrors(client: Redis): void {
  const guarded = new WeakSet<object>();
  client.on('error', () => {
    const stream: unknown = client.stream;
    if (!(stream instanceof EventEmitter) || guarded.has(stream)) return;
    guarded.add(stream);
    stream.on('error', () => {});
  });
}

function commonOptions(plan: RedisConnectionPlan, settings: ConnectionSettings): RedisOptions {
  return {
    username: plan.username,
    password: plan.password,
    db: plan.db,
    tls: plan.tls ? tlsOptions(settings) : undefined,
    connectTimeout: settings.connectTimeoutMs,
    commandTimeout: settings.commandTimeoutMs,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: true,
  };
}

function tlsOptions(settings: ConnectionSettings): ConnectionOptions {
  return { ...settings.tls };
}
