/**
 * Keep-alive connections to upstream proxies. Each (proxy address, credentials) pair gets its
 * own undici dispatchers, so a kept-alive socket is never reused with another provider's
 * credentials: a Pool for http targets (absolute-form requests to the proxy) and an Agent
 * whose connector opens CONNECT tunnels for https targets (one pool per destination inside).
 */
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { Agent, Pool, type Dispatcher } from 'undici';
import type { ProxyCredentials, ResolvedIp } from '../config/types.js';
import { createTunnelConnector } from './tunnel-connector.js';

export interface UpstreamTimeouts {
  connectTimeoutMs: number;
  responseTimeoutMs: number;
  proxyReadTimeoutMs: number;
}

export interface UpstreamClientsOptions extends UpstreamTimeouts {
  /** PEM file with extra CAs for https targets, added to Node's bundled CAs. */
  caFile: string | null;
  /** Idle keep-alive time of upstream connections. */
  keepAliveTimeoutMs?: number;
}

interface ClientPair {
  forward: Pool;
  tunnel: Agent;
  proxyAuthorization: string | null;
}

export function proxyAuthorizationFor(credentials: ProxyCredentials | null): string | null {
  if (credentials === null) return null;
  const token = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
  return `Basic ${token}`;
}

export class UpstreamClients {
  private readonly clients = new Map<string, ClientPair>();
  private readonly ca: string[];

  constructor(private readonly options: UpstreamClientsOptions) {
    this.ca = [...tls.rootCertificates];
    if (options.caFile !== null) this.ca.push(readFileSync(options.caFile, 'utf8'));
  }

  /** The dispatcher for one attempt through `ip` to a target with the given URL scheme. */
  dispatcherFor(
    ip: ResolvedIp,
    scheme: 'http' | 'https',
  ): { dispatcher: Dispatcher; proxyAuthorization: string | null } {
    const pair = this.pairFor(ip);
    return {
      dispatcher: scheme === 'http' ? pair.forward : pair.tunnel,
      proxyAuthorization: pair.proxyAuthorization,
    };
  }

  async close(): Promise<void> {
    const closing = [...this.clients.values()].flatMap((pair) => [
      pair.forward.close(),
      pair.tunnel.close(),
    ]);
    this.clients.clear();
    await Promise.allSettled(closing);
  }

  /** Forcibly ends every upstream connection (shutdown after the grace period). */
  async destroy(): Promise<void> {
    const destroying = [...this.clients.values()].flatMap((pair) => [
      pair.forward.destroy(),
      pair.tunnel.destroy(),
    ]);
    this.clients.clear();
    await Promise.allSettled(destroying);
  }

  private pairFor(ip: ResolvedIp): ClientPair {
    const proxyAuthorization = proxyAuthorizationFor(ip.credentials);
    const key = `${ip.address}\u0000${proxyAuthorization ?? ''}`;
    const existing = this.clients.get(key);
    if (existing !== undefined) return existing;

    const common = {
      headersTimeout: this.options.responseTimeoutMs,
      bodyTimeout: this.options.proxyReadTimeoutMs,
      keepAliveTimeout: this.options.keepAliveTimeoutMs ?? 30_000,
    };
    const proxyOrigin = `http://${ip.address}`;
    const forward = new Pool(proxyOrigin, {
      ...common,
      connect: { timeout: this.options.connectTimeoutMs },
    });
    const tunnel = new Agent({
      ...common,
      connect: createTunnelConnector({
        proxyHost: ip.host,
        proxyPort: ip.port,
        proxyAuthorization,
        connectTimeoutMs: this.options.connectTimeoutMs,
        ca: this.ca,
      }),
    });
    const pair = { forward, tunnel, proxyAuthorization };
    this.clients.set(key, pair);
    return pair;
  }
}
