/**
 * A Proxy Hopper process started while its Redis is down keeps running, logs each reconnect
 * attempt with a doubling delay, returns 503 from `/health` and 503 `backend_unavailable` for
 * requests meanwhile, and starts serving by itself once Redis comes up.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { header } from '../../helpers/clients.js';
import { getJson, spawnHopper, type HopperProcess } from '../../helpers/hopper-process.js';
import { cleanupAll } from '../../helpers/processes.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';
import { startSquid, type SquidPeer } from '../../helpers/squid.js';
import { startTargets, type TargetServers } from '../../helpers/targets.js';
import { redisConfig, viaInstance } from './fixture.js';

const PASSWORD = 'startup-pw';
const SOURCES = ['127.0.0.2', '127.0.0.3'];
// RedisBackend defaults: the first reconnect waits 100 ms, each next one twice as long.
const EXPECTED_DELAYS_MS = [100, 200, 400, 800];
const UNAVAILABLE_HEALTH = { status: 'unavailable', failing: ['backend'], backend: 'redis' };

let redis: RedisServerHandle | undefined;
let squid: SquidPeer;
let targets: TargetServers;

before(async () => {
  [squid, targets] = await Promise.all([
    startSquid({ outgoingAddresses: SOURCES }),
    startTargets(),
  ]);
});

after(async () => {
  await cleanupAll();
  await Promise.all([targets?.close(), redis?.stop()]);
});

function reconnectLines(hopper: HopperProcess) {
  return hopper.logs.filter((line) => line.message === 'redis unreachable; reconnecting');
}

describe('start while Redis is down', () => {
  test('retries with backoff, then serves', async () => {
    // Until Redis starts, a listener that closes every connection at once keeps the port, so
    // no Redis of a test running in parallel can take it and make this instance ready early.
    const blocker = net.createServer((socket) => socket.destroy());
    const redisPort = await new Promise<number>((resolve) =>
      blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as net.AddressInfo).port)),
    );
    const url = `redis://:${PASSWORD}@127.0.0.1:${redisPort}`;
    const config = redisConfig(squid, { url, keyPrefix: 'startup' }, { minRequestInterval: '0ms' });
    const hopper = await spawnHopper({ name: 'A', config });

    await hopper.waitForLog(
      (line) => line.message === 'redis not reachable at start; retrying',
      15_000,
    );
    const fourth = await hopper.waitForLog(
      (line) => line.message === 'redis unreachable; reconnecting' && line.attempt === 4,
      15_000,
    );
    assert.equal(fourth.level, 'WARNING');
    assert.equal(fourth.redis, `127.0.0.1:${redisPort}`);
    const attempts = reconnectLines(hopper).slice(0, 4);
    assert.deepEqual(
      attempts.map((line) => [line.attempt, line.delayMs]),
      EXPECTED_DELAYS_MS.map((delayMs, i) => [i + 1, delayMs]),
    );
    assert.equal(hopper.running, true);

    // The listeners are up meanwhile: /health names the backend and requests fail fast.
    await hopper.waitForHealth(503, 10_000);
    const health = await getJson(hopper.proxyPort, '/health');
    assert.deepEqual(health.body, UNAVAILABLE_HEALTH);
    const refused = await viaInstance(hopper, targets.httpOrigin, '/before-redis');
    assert.equal(refused.status, 503);
    assert.equal(header(refused, 'x-proxy-hopper-error'), 'backend_unavailable');
    assert.equal(targets.seen('/before-redis').length, 0);
    const text = hopper.outputTail(1_000_000);
    assert.equal(text.includes(PASSWORD), false, 'the Redis password appears in the output');

    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    redis = await startRedisServer({ password: PASSWORD, port: redisPort });
    await hopper.waitForHealth(200, 15_000);
    const ready = await hopper.waitForLog((line) => line.message === 'redis backend ready');
    assert.equal(ready.redis, `127.0.0.1:${redisPort}`);

    const responses = await Promise.all(
      [0, 1, 2, 3].map((i) => viaInstance(hopper, targets.httpOrigin, `/up/${i}`)),
    );
    assert.deepEqual(
      responses.map((response) => response.status),
      [200, 200, 200, 200],
    );
    assert.deepEqual(
      [...new Set(targets.seen('/up/').map((request) => request.remote))].sort(),
      SOURCES,
    );
  });
});
