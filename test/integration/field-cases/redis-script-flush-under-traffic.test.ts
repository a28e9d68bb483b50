// With the Redis backend, SCRIPT FLUSH on the server while requests flow fails no request:
// Proxy Hopper loads the lost script again and retries the command, counts each reload in
// proxy_hopper_backend_script_reloads_total and logs one warning per reload, not per request.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { send } from '../../helpers/clients.js';
import { sampleValue } from '../../helpers/observe/scrape.js';
import { startHopper, type TestHopper } from '../../helpers/proxy-hopper.js';
import { cleanupAll, registerCleanup, sleep } from '../../helpers/processes.js';
import { redisCli, startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';
import { startSquids } from '../../helpers/squid.js';
import { startTargets, type TargetServers } from '../../helpers/targets.js';
import { scrapeUntil } from '../observe-e2e/fixture.js';
import { provider, singleTargetConfig, viaHopper } from '../proxy/fixture.js';

const REQUESTS = 20;
const GAP_MS = 200;
const FLUSH_AFTER = [5, 12];
const RELOADS = 'proxy_hopper_backend_script_reloads_total';

describe('Redis script cache flushed under traffic', () => {
  let targets: TargetServers;
  let redis: RedisServerHandle;
  let hopper: TestHopper;

  before(async () => {
    targets = await startTargets();
    registerCleanup(() => targets.close());
    redis = await startRedisServer({ password: 'field-flush-pw' });
    registerCleanup(() => redis.stop());
    const squids = await startSquids(2, {}, 61);
    hopper = await startHopper(
      singleTargetConfig(
        provider(
          's',
          squids.map((squid) => squid.address()),
        ),
        {},
        {
          backend: 'redis',
          redisUrl: redis.url,
          redisKeyPrefix: `flush${process.pid}`,
          metrics: true,
          metricsHost: '127.0.0.1',
          metricsPort: 0,
        },
      ),
    );
  });

  after(cleanupAll);

  /** Start does not wait for Redis; /health turns 200 once the backend is connected. */
  async function waitForHealth(timeoutMs: number): Promise<void> {
    const deadlineMs = Date.now() + timeoutMs;
    while ((await send(hopper.proxyPort, { path: '/health' })).status !== 200) {
      if (Date.now() > deadlineMs) throw new Error(`no healthy backend within ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  test('requests 200, one reload per script per flush', async () => {
    await waitForHealth(5000);
    const statuses: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      if (FLUSH_AFTER.includes(i))
        assert.equal((await redisCli(redis, ['SCRIPT', 'FLUSH'])).trim(), 'OK');
      const response = await viaHopper(hopper.proxyPort, targets.httpOrigin, `/echo/flush/${i}`);
      statuses.push(response.status);
      await sleep(GAP_MS);
    }
    assert.deepEqual(statuses, Array(REQUESTS).fill(200));

    const metricsUrl = `http://127.0.0.1:${hopper.running.metricsPort}/metrics`;
    const result = await scrapeUntil(
      metricsUrl,
      (current) => (sampleValue(current, RELOADS) ?? 0) >= 2,
    );
    const reloads = sampleValue(result, RELOADS) ?? 0;
    const warnings = hopper.logs.filter(
      (line) =>
        line.level === 'WARNING' && String(line.message).startsWith('redis script cache lost'),
    );
    assert.ok(
      reloads >= FLUSH_AFTER.length,
      `${reloads} reloads for ${FLUSH_AFTER.length} flushes`,
    );
    assert.equal(warnings.length, reloads);
    // Each flush costs each script at most one reload, however many requests use it.
    const perScript = new Map<string, number>();
    for (const line of warnings) {
      const script = String(line.script);
      assert.notEqual(line.script, undefined, 'reload warning without a script name');
      perScript.set(script, (perScript.get(script) ?? 0) + 1);
    }
    for (const [script, count] of perScript) {
      assert.ok(
        count <= FLUSH_AFTER.length,
        `${script}: ${count} reloads for ${FLUSH_AFTER.length} flushes`,
      );
    }
    assert.equal((await send(hopper.proxyPort, { path: '/health' })).status, 200);
  });
});
