/**
 * Shared pieces of the multi-process Redis tests. One squid runs with one port per outgoing
 * address, so the target can tell from the source address which upstream IP carried a
 * request. One password-protected redis-server serves several Proxy Hopper processes, whose
 * config documents and admin `/api/v1/status` readers are here.
 */
import assert from 'node:assert/strict';
import type { IpStatusView, StatusView } from '../../../src/admin/status.js';
import { send, type ClientResponse } from '../../helpers/clients.js';
import { getJson, type HopperProcess } from '../../helpers/hopper-process.js';
import { sleep } from '../../helpers/processes.js';
import { DEFAULT_PROXY_USER, type SquidPeer } from '../../helpers/squid.js';
import { pool, provider, target } from '../proxy/fixture.js';

/** Header the test client sends so the target can tell which instance a request came through. */
export const INSTANCE_HEADER = 'x-test-instance';

export interface RedisSetup {
  url: string;
  keyPrefix: string;
}

/** Builds a config document with one target `t` over every port of `squid`, on the Redis backend. */
export function redisConfig(
  squid: SquidPeer,
  redis: RedisSetup,
  targetSettings: Record<string, unknown>,
  server: Record<string, unknown> = {},
  extraAddresses: string[] = [],
): Record<string, unknown> {
  const addresses = [...squid.ports.map((_, i) => squid.address(i)), ...extraAddresses];
  const squids = provider('squids', addresses, DEFAULT_PROXY_USER);
  return {
    server: { backend: 'redis', redisUrl: redis.url, redisKeyPrefix: redis.keyPrefix, ...server },
    proxyProviders: [squids],
    ipPools: [pool('p', [squids])],
    targets: [target('t', 'p', targetSettings)],
  };
}

/** Maps each upstream `host:port` to the source address its requests arrive from. */
export function sourceOf(squid: SquidPeer): Map<string, string> {
  return new Map(
    squid.ports.map((_, i) => [squid.address(i), squid.outgoingAddresses[i] as string]),
  );
}

/** Sends `GET requestPath` through one instance, tagged with the instance's name. */
export function viaInstance(
  hopper: HopperProcess,
  origin: string,
  requestPath: string,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<ClientResponse> {
  return send(hopper.proxyPort, {
    path: requestPath,
    headers: { 'x-proxy-hopper-target': origin, [INSTANCE_HEADER]: hopper.name, ...headers },
    signal,
  });
}

/** Fetches the admin status of an instance, which must run with `admin: true`. */
export async function statusOf(hopper: HopperProcess): Promise<StatusView> {
  if (hopper.adminPort === null) throw new Error(`${hopper.name} runs without the admin server`);
  const { status, body } = await getJson<StatusView>(hopper.adminPort, '/api/v1/status');
  assert.equal(status, 200, `${hopper.name} /api/v1/status returned ${status}`);
  return body;
}

/** Returns the IP rows of target `t` from an instance's admin status. */
export async function ipRowsOf(hopper: HopperProcess): Promise<IpStatusView[]> {
  const view = await statusOf(hopper);
  const row = view.targets.find((entry) => entry.name === 't');
  assert.ok(row, `${hopper.name} status has no target 't': ${JSON.stringify(view)}`);
  assert.ok(row.ips, `${hopper.name} status could not read target 't': ${row.error ?? ''}`);
  return row.ips;
}

/** Polls `check` every 50 ms until it returns true; throws `what` after the bound. */
export async function pollUntil(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadlineMs = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadlineMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** Returns the `request finished` DEBUG lines an instance logged, with the IP each used. */
export function finishedRequests(
  hopper: HopperProcess,
): { address: unknown; status: unknown; url: unknown }[] {
  return hopper.logs
    .filter((line) => line.message === 'request finished')
    .map((line) => ({ address: line.address, status: line.status, url: line.url }));
}

/**
 * Each instance moves Redis server times onto its own clock with an offset it estimates from
 * reply times, so one stored time can read a few ms apart in two instances' status.
 */
export const CLOCK_ESTIMATE_SLACK_MS = 50;

/** Asserts that two ISO-8601 times from two instances' status name the same stored time. */
export function assertSameStoredTime(
  actual: string | null | undefined,
  expected: string,
  what: string,
): void {
  assert.ok(actual, `${what}: no time`);
  const differenceMs = Math.abs(Date.parse(actual) - Date.parse(expected));
  assert.ok(differenceMs <= CLOCK_ESTIMATE_SLACK_MS, `${what}: ${actual} is not ${expected}`);
}
