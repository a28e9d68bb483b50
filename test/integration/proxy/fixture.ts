/**
 * Building blocks shared by the forwarding tests: config documents for providers, pools and
 * targets, and a request helper that sends `X-Proxy-Hopper-Target` to a running Proxy Hopper.
 */
import { send, type ClientResponse, type SendOptions } from '../../helpers/clients.js';
import { DEFAULT_PROXY_USER, type ProxyUser } from '../../helpers/squid.js';
import type { SeenRequest } from '../../helpers/targets.js';
import type { TestHopper } from '../../helpers/proxy-hopper.js';
import type { EventMap, EventName } from '../../../src/observe/events.js';

export interface ProviderDocument {
  name: string;
  ipList: string[];
  auth?: { type: 'basic'; username: string; password: string };
}

/** Builds a provider with basic auth whose IPs are the given `host:port` addresses. */
export function provider(
  name: string,
  addresses: string[],
  user: ProxyUser | null = DEFAULT_PROXY_USER,
): ProviderDocument {
  const document: ProviderDocument = { name, ipList: addresses };
  if (user !== null)
    document.auth = { type: 'basic', username: user.username, password: user.password };
  return document;
}

/** Builds a pool that takes every IP of each provider, in order. */
export function pool(name: string, providers: ProviderDocument[]): Record<string, unknown> {
  return {
    name,
    ipRequests: providers.map((entry) => ({ provider: entry.name, count: entry.ipList.length })),
  };
}

/** Builds a catch-all target with short test timings, where `settings` override any key. */
export function target(
  name: string,
  poolName: string,
  settings: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    name,
    regex: '.*',
    ipPool: poolName,
    minRequestInterval: '0ms',
    maxQueueWait: '5s',
    numRetries: 2,
    ipFailuresUntilQuarantine: 5,
    quarantineTime: '30s',
    ...settings,
  };
}

/** Builds a whole config document with one provider, one pool and one target named `t`. */
export function singleTargetConfig(
  providerDocument: ProviderDocument,
  targetSettings: Record<string, unknown> = {},
  server: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    server,
    proxyProviders: [providerDocument],
    ipPools: [pool('p', [providerDocument])],
    targets: [target('t', 'p', targetSettings)],
  };
}

/** Sends a request through Proxy Hopper with `X-Proxy-Hopper-Target: origin`. */
export function viaHopper(
  hopperPort: number,
  origin: string,
  requestPath: string,
  options: Omit<SendOptions, 'path'> = {},
): Promise<ClientResponse> {
  return send(hopperPort, {
    ...options,
    path: requestPath,
    headers: { 'x-proxy-hopper-target': origin, ...(options.headers ?? {}) },
  });
}

/** Source addresses of the requests, in arrival order. */
export function remotes(requests: SeenRequest[]): string[] {
  return requests.map((request) => request.remote);
}

/** Arrival times grouped by source address, each list sorted. */
export function arrivalsBySource(requests: SeenRequest[]): Map<string, number[]> {
  const bySource = new Map<string, number[]>();
  for (const request of requests) {
    const list = bySource.get(request.remote) ?? [];
    list.push(request.arrivedAtMs);
    bySource.set(request.remote, list);
  }
  for (const list of bySource.values()) list.sort((a, b) => a - b);
  return bySource;
}

/** Smallest gap between consecutive arrivals from one source, over all sources. */
export function minGapMs(requests: SeenRequest[]): number {
  let smallest = Infinity;
  for (const list of arrivalsBySource(requests).values()) {
    for (let i = 1; i < list.length; i++)
      smallest = Math.min(smallest, (list[i] as number) - (list[i - 1] as number));
  }
  return smallest;
}

/** Collects every payload of `event` that the hopper publishes from now on. */
export function recordEvents<K extends EventName>(hopper: TestHopper, event: K): EventMap[K][] {
  const payloads: EventMap[K][] = [];
  hopper.running.events.on(event, (payload) => payloads.push(payload));
  return payloads;
}

/** Resolves with the first future payload of `event` that matches, or rejects after the bound. */
export function nextEvent<K extends EventName>(
  hopper: TestHopper,
  event: K,
  match: (payload: EventMap[K]) => boolean = () => true,
  timeoutMs = 5000,
): Promise<EventMap[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`no ${event} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const unsubscribe = hopper.running.events.on(event, (payload) => {
      if (!match(payload)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(payload);
    });
  });
}

/** Polls `condition` every 50 ms until it is true or `timeoutMs` passes, and returns its last value. */
export async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}
