/**
 * Building blocks of the end-to-end observability tests. They build config documents whose
 * providers carry a `regionTag` and a client with its own undici Agent, so a test can close
 * every client connection. They also repeat scrapes until asynchronous metric updates have
 * landed, and read values out of parsed samples.
 */
import { Agent } from 'undici';
import type { ClientResponse } from '../../helpers/clients.js';
import { findSample, scrape, type Scrape } from '../../helpers/observe/scrape.js';
import { registerCleanup, sleep } from '../../helpers/processes.js';
import type { ProxyUser } from '../../helpers/squid.js';

export interface ProviderSpec {
  name: string;
  addresses: string[];
  user?: ProxyUser | null;
  regionTag?: string;
}

/** Builds a `proxyProviders[]` entry. A null or missing `user` means no upstream credentials. */
export function providerDocument(spec: ProviderSpec): Record<string, unknown> {
  const document: Record<string, unknown> = { name: spec.name, ipList: spec.addresses };
  if (spec.user) {
    document.auth = { type: 'basic', username: spec.user.username, password: spec.user.password };
  }
  if (spec.regionTag !== undefined) document.regionTag = spec.regionTag;
  return document;
}

/** Builds an `ipPools[]` entry that takes every address of each provider, in order. */
export function poolDocument(name: string, providers: ProviderSpec[]): Record<string, unknown> {
  return {
    name,
    ipRequests: providers.map((entry) => ({
      provider: entry.name,
      count: entry.addresses.length,
    })),
  };
}

/** Builds a `targets[]` entry with short test timings, where `settings` override any key. */
export function targetDocument(
  name: string,
  regex: string,
  poolName: string,
  settings: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    name,
    regex,
    ipPool: poolName,
    minRequestInterval: '0ms',
    maxQueueWait: '5s',
    numRetries: 1,
    ipFailuresUntilQuarantine: 100,
    quarantineTime: '60s',
    ...settings,
  };
}

/** Escapes `text` for use inside a regex source. */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A client with an Agent of its own, so `close()` ends every connection it opened. */
export class Client {
  private agent = new Agent({ keepAliveTimeout: 2000, connections: 64 });

  constructor() {
    registerCleanup(() => this.close());
  }

  /** Sends one request to Proxy Hopper on `port` with `X-Proxy-Hopper-Target: origin`. */
  async via(
    port: number,
    origin: string,
    requestPath: string,
    headers: Record<string, string> = {},
  ): Promise<ClientResponse> {
    const response = await this.agent.request({
      origin: `http://127.0.0.1:${port}`,
      path: requestPath,
      method: 'GET',
      headers: { 'x-proxy-hopper-target': origin, ...headers },
    });
    const body = Buffer.from(await response.body.arrayBuffer());
    const pairs: [string, string][] = [];
    for (const [name, value] of Object.entries(response.headers)) {
      for (const item of Array.isArray(value) ? value : [value ?? '']) pairs.push([name, item]);
    }
    return { status: response.statusCode, headers: pairs, body };
  }

  async close(): Promise<void> {
    const agent = this.agent;
    this.agent = new Agent({ keepAliveTimeout: 2000, connections: 64 });
    await agent.close();
  }
}

/** Runs `work` for every item with at most `limit` in flight, in item order. */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Scrapes `url` every 50 ms until `ready` returns true or `timeoutMs` passes, and returns the
 * last scrape for the caller to assert on. Polling is needed because a successful attempt is
 * counted once its body has been streamed, a moment after the client has the response.
 */
export async function scrapeUntil(
  url: string,
  ready: (result: Scrape) => boolean,
  timeoutMs = 5000,
  headers: Record<string, string> = {},
): Promise<Scrape> {
  const deadline = Date.now() + timeoutMs;
  let result = await scrape(url, headers);
  while (!ready(result) && Date.now() < deadline) {
    await sleep(50);
    result = await scrape(url, headers);
  }
  return result;
}

/**
 * Buckets of one histogram series as `[le, cumulative count]`, sorted by bound. The parsed
 * `buckets` object cannot keep the exposition order, because JavaScript lists integer-like keys
 * (`1`, `5`, `10`) before the others.
 */
export function buckets(
  result: Scrape,
  name: string,
  labels: Record<string, string>,
): [string, number][] {
  const entries = Object.entries(findSample(result, name, labels)?.buckets ?? {});
  return entries
    .map(([le, count]): [string, number] => [le, Number(count)])
    .sort(([a], [b]) => boundValue(a) - boundValue(b));
}

function boundValue(le: string): number {
  return le === '+Inf' ? Infinity : Number(le);
}

/** Bucket bounds (`le` values) of one histogram series, sorted, `+Inf` last. */
export function bucketBounds(
  result: Scrape,
  name: string,
  labels: Record<string, string>,
): string[] {
  return buckets(result, name, labels).map(([le]) => le);
}

/** Cumulative bucket counts of one histogram series, in the order of `bucketBounds`. */
export function bucketCounts(
  result: Scrape,
  name: string,
  labels: Record<string, string>,
): number[] {
  return buckets(result, name, labels).map(([, count]) => count);
}

/** Returns `_count` of one histogram series, or undefined when the series does not exist. */
export function histogramCount(
  result: Scrape,
  name: string,
  labels: Record<string, string>,
): number | undefined {
  const count = findSample(result, name, labels)?.count;
  return count === undefined ? undefined : Number(count);
}

/** `le` values as prom-client 15 writes the given bucket bounds, plus `+Inf`. */
export function expectedBounds(buckets: readonly number[]): string[] {
  return [...buckets.map(String), '+Inf'];
}

/** Label sets of `name` whose `key` label equals `value`. */
export function seriesWhere(
  result: Scrape,
  name: string,
  key: string,
  value: string,
): Record<string, string>[] {
  const samples = result.families.get(name)?.metrics ?? [];
  return samples.map((sample) => sample.labels ?? {}).filter((labels) => labels[key] === value);
}

/** Polls `condition` every 25 ms until it is true or `timeoutMs` passes, and returns its last value. */
export async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await sleep(25);
  }
  return condition();
}
