/**
 * Redis stopped and started again on the same port, empty (no persistence), while two Proxy
 * Hopper processes serve a steady load. During the outage every request fails fast with 503
 * `backend_unavailable` and both `/health` endpoints name the backend. Afterwards both
 * instances register their pools again by themselves, every configured IP is back exactly
 * once, and requests succeed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { header, json } from '../../helpers/clients.js';
import {
  getJson,
  healthStatus,
  startHopperProcess,
  type HopperProcess,
} from '../../helpers/hopper-process.js';
import { cleanupAll, sleep } from '../../helpers/processes.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';
import { startSquid, type SquidPeer } from '../../helpers/squid.js';
import { startTargets, type TargetServers } from '../../helpers/targets.js';
import { ipRowsOf, pollUntil, redisConfig, viaInstance } from './fixture.js';

const PASSWORD = 'restart-outage-pw';
const SOURCES = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
/** A request that takes longer than this during the outage counts as a hang. */
const FAIL_FAST_MS = 3000;
const UNAVAILABLE_HEALTH = { status: 'unavailable', failing: ['backend'], backend: 'redis' };

interface LoadResult {
  instance: string;
  startedAtMs: number;
  durationMs: number;
  /** HTTP status, or 0 when the request failed without a response or took over 10 s. */
  status: number;
  code: string | undefined;
}

let redis: RedisServerHandle;
let squid: SquidPeer;
let targets: TargetServers;
let first: HopperProcess;
let second: HopperProcess;

before(async () => {
  [redis, squid, targets] = await Promise.all([
    startRedisServer({ password: PASSWORD }),
    startSquid({ outgoingAddresses: SOURCES }),
    startTargets(),
  ]);
  const config = redisConfig(
    squid,
    { url: redis.url, keyPrefix: 'outage' },
    { minRequestInterval: '0ms', maxQueueWait: '5s', numRetries: 1 },
    // Metrics on, so the admin /metrics shows each instance's queue depth.
    { metrics: true },
  );
  [first, second] = await Promise.all([
    startHopperProcess({ name: 'A', config, admin: true }),
    startHopperProcess({ name: 'B', config, admin: true }),
  ]);
});

after(async () => {
  await cleanupAll();
  await Promise.all([targets?.close(), redis?.stop()]);
});

/** Sends one request every 40 ms through `hopper` until `control.done`, at most 500 or 40 s. */
async function steadyLoad(
  hopper: HopperProcess,
  control: { done: boolean },
  results: LoadResult[],
): Promise<void> {
  const deadlineMs = Date.now() + 40_000;
  for (let i = 0; i < 500 && !control.done && Date.now() < deadlineMs; i++) {
    const startedAtMs = Date.now();
    let status = 0;
    let code: string | undefined;
    try {
      const response = await viaInstance(
        hopper,
        targets.httpOrigin,
        `/load/${hopper.name}/${i}`,
        {},
        AbortSignal.timeout(10_000),
      );
      status = response.status;
      code = header(response, 'x-proxy-hopper-error');
    } catch {
      status = 0;
    }
    results.push({
      instance: hopper.name,
      startedAtMs,
      durationMs: Date.now() - startedAtMs,
      status,
      code,
    });
    await sleep(40);
  }
}

function count(
  results: LoadResult[],
  instance: string,
  match: (result: LoadResult) => boolean,
): number {
  return results.filter((result) => result.instance === instance && match(result)).length;
}

describe('Redis restart under load', () => {
  test('fails fast, then recovers by itself', async () => {
    const results: LoadResult[] = [];
    const healthyAtMs = new Map<string, number>();
    const control = { done: false };
    const loads = [first, second].map((hopper) => steadyLoad(hopper, control, results));
    const ok = (result: LoadResult) => result.status === 200;
    const unavailable = (result: LoadResult) =>
      result.status === 503 && result.code === 'backend_unavailable';
    try {
      await pollUntil(
        () => count(results, 'A', ok) >= 5 && count(results, 'B', ok) >= 5,
        10_000,
        'load before the outage',
      );

      await redis.stop();
      for (const hopper of [first, second]) {
        await pollUntil(
          async () => (await healthStatus(hopper.proxyPort)) === 503,
          5000,
          `${hopper.name} /health 503`,
        );
        const proxyHealth = await getJson(hopper.proxyPort, '/health');
        assert.deepEqual(proxyHealth, { status: 503, body: UNAVAILABLE_HEALTH });
        const adminHealth = await getJson(hopper.adminPort as number, '/health');
        assert.deepEqual(adminHealth, { status: 503, body: UNAVAILABLE_HEALTH });
      }

      const startedAtMs = Date.now();
      const refused = await viaInstance(
        first,
        targets.httpOrigin,
        '/during-outage',
        {},
        AbortSignal.timeout(10_000),
      );
      const refusedMs = Date.now() - startedAtMs;
      assert.equal(refused.status, 503);
      assert.equal(header(refused, 'x-proxy-hopper-error'), 'backend_unavailable');
      const body = json<{ error: string; detail: string }>(refused);
      assert.equal(body.error, 'backend_unavailable');
      assert.match(
        body.detail,
        new RegExp(`^State backend \\(Redis at 127\\.0\\.0\\.1:${redis.port}\\) is unavailable: `),
      );
      assert.match(body.detail, /Requests resume when it is back\.$/);
      assert.equal(refused.body.toString('utf8').includes(PASSWORD), false);
      assert.ok(refusedMs < FAIL_FAST_MS, `a request during the outage took ${refusedMs} ms`);
      assert.equal(targets.seen('/during-outage').length, 0);

      const outageStart = results.length;
      const duringOutage = () => results.slice(outageStart);
      await pollUntil(
        () =>
          count(duringOutage(), 'A', unavailable) >= 3 &&
          count(duringOutage(), 'B', unavailable) >= 3,
        10_000,
        'refused load requests on both instances',
      );

      redis = await startRedisServer({ password: PASSWORD, port: redis.port });
      for (const hopper of [first, second]) {
        await hopper.waitForHealth(200, 15_000);
        healthyAtMs.set(hopper.name, Date.now());
        const adminHealth = await getJson(hopper.adminPort as number, '/health');
        assert.deepEqual(adminHealth, { status: 200, body: { status: 'ok' } });
      }
      const recovered = (name: string) => (result: LoadResult) =>
        ok(result) && result.startedAtMs >= (healthyAtMs.get(name) as number);
      await pollUntil(
        () => count(results, 'A', recovered('A')) >= 5 && count(results, 'B', recovered('B')) >= 5,
        10_000,
        'load after the restart',
      );
    } finally {
      control.done = true;
      await Promise.all(loads);
    }

    const unexpected = results.filter((result) => !ok(result) && !unavailable(result));
    assert.deepEqual(unexpected, [], 'responses other than 200 and 503 backend_unavailable');
    const slow = results.filter(
      (result) => unavailable(result) && result.durationMs >= FAIL_FAST_MS,
    );
    assert.deepEqual(slow, [], 'refused requests that were not refused fast');
    const failedAfterRecovery = results.filter(
      (result) =>
        result.startedAtMs >= (healthyAtMs.get(result.instance) ?? Infinity) && !ok(result),
    );
    assert.deepEqual(failedAfterRecovery, [], 'failed requests after /health returned 200 again');

    for (const hopper of [first, second]) {
      const rows = await ipRowsOf(hopper);
      assert.deepEqual(
        rows.map((row) => [row.address, row.status, row.failures]),
        squid.ports.map((_, i) => [squid.address(i), 'available', 0]),
        `${hopper.name} status after the restart`,
      );
      assert.ok(
        hopper.logs.some((line) => line.message === 'redis backend unavailable'),
        `${hopper.name} logged no outage`,
      );
      const readyLines = hopper.logs.filter((line) => line.message === 'redis backend ready');
      assert.equal(readyLines.length, 2, `${hopper.name} 'redis backend ready' lines`);
    }
    assert.deepEqual(
      [...new Set(targets.seen('/load/').map((request) => request.remote))].sort(),
      SOURCES,
    );
  });

  // With the default 30 s leaseTtl, a request that waits for a leased IP is woken early only by
  // the release message that the other instance publishes. Without it the request would time
  // out after maxQueueWait (5 s), so a 200 proves the subscription works after the restart.
  test('release wakes the other instance', async () => {
    const held = SOURCES.map((_, i) =>
      viaInstance(first, targets.httpOrigin, `/slow?gate=wake&i=${i}`),
    );
    await pollUntil(
      () => targets.seen('/slow?gate=wake').length === SOURCES.length,
      5000,
      'A holding all IPs',
    );
    const waiting = viaInstance(
      second,
      targets.httpOrigin,
      '/woken',
      {},
      AbortSignal.timeout(10_000),
    );
    await pollUntil(async () => (await queueDepth(second)) === 1, 5000, "B's request in its queue");

    targets.releaseGate('wake');
    const heldResponses = await Promise.all(held);
    assert.deepEqual(
      heldResponses.map((response) => [response.status, response.body.toString('utf8')]),
      SOURCES.map(() => [200, 'first\nlast\n']),
    );
    const woken = await waiting;
    assert.equal(woken.status, 200, woken.body.toString('utf8'));
    assert.equal(targets.seen('/woken').length, 1);
  });
});

/** Reads `proxy_hopper_queue_depth{target="t"}` from an instance's admin `/metrics`. */
async function queueDepth(hopper: HopperProcess): Promise<number | null> {
  const response = await fetch(`http://127.0.0.1:${hopper.adminPort as number}/metrics`);
  const text = await response.text();
  const match = /^proxy_hopper_queue_depth\{target="t"\} (\d+)$/m.exec(text);
  return match ? Number(match[1]) : null;
}
